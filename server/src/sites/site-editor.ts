import { randomBytes } from 'node:crypto';
import type { Room, SensorConfig, SiteConfig, SupervisionPlan } from '@nattevakt/protocol/site-config';
import type { Clock } from '../alarms/escalation.js';
import { HttpError } from '../routes/http-error.js';
import { type Actor, type AuditEntity, writeConfigAudit } from './config-audit.js';
import type { SiteService, SiteTransaction } from './site-service.js';

/** A supervision plan as people write it: `armed` is never set by hand (legal basis + plan status decide it). */
export type PlanInput = Omit<SupervisionPlan, 'armed'>;

/** The plan of a resident added without one: the night window, every care rule off. */
export const DEFAULT_PLAN: PlanInput = {
  nightWindow: { start: '22:00', end: '07:00' },
  rules: {
    doorOpenAtNight: { enabled: false, priority: 'high' },
    outOfBedTooLong: { enabled: false, minutes: 20, priority: 'medium' },
  },
};

export interface ResidentInput {
  id?: string;
  name: string;
  roomId: string;
  plan?: PlanInput;
}
export interface SensorInput {
  kind: SensorConfig['kind'];
  roomId: string;
  residentId?: string;
}

const newId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/**
 * Rooms, residents, sensors and supervision plans of a site, changed one at a time. Each change
 * runs in `SiteService.change` (the stored configuration under a row lock, the next revision,
 * pushed to the gateway at once) together with its audit row, so nothing is half-written and
 * nothing is changed without a record of who did it.
 */
export class SiteEditor {
  constructor(
    private readonly sites: SiteService,
    private readonly clock: Clock,
  ) {}

  async createRoom(siteId: string, input: { id?: string; name: string }, actor: Actor): Promise<{ room: Room; revision: number | null }> {
    return this.#edit(siteId, actor, 'room', 'created', (config) => {
      const room: Room = { id: input.id ?? newId('room'), name: input.name };
      if (config.rooms.some((r) => r.id === room.id)) throw new HttpError(409, `body/id: room "${room.id}" already exists`);
      return { next: { ...config, rooms: [...config.rooms, room] }, value: room, entityId: room.id, detail: { after: room } };
    }).then(({ value, revision }) => ({ room: value, revision }));
  }

  async updateRoom(
    siteId: string,
    roomId: string,
    input: { name: string },
    actor: Actor,
  ): Promise<{ room: Room; revision: number | null }> {
    return this.#edit(siteId, actor, 'room', 'updated', (config) => {
      const before = findRoom(config, roomId);
      const room: Room = { ...before, name: input.name };
      return {
        next: { ...config, rooms: config.rooms.map((r) => (r.id === roomId ? room : r)) },
        value: room,
        entityId: roomId,
        detail: { before, after: room },
      };
    }).then(({ value, revision }) => ({ room: value, revision }));
  }

  async deleteRoom(siteId: string, roomId: string, actor: Actor): Promise<{ revision: number | null }> {
    return this.#edit(siteId, actor, 'room', 'deleted', (config) => {
      const before = findRoom(config, roomId);
      const residents = config.residents.filter((r) => r.roomId === roomId).map((r) => r.id);
      const sensors = config.sensors.filter((s) => s.roomId === roomId).map((s) => s.id);
      if (residents.length > 0 || sensors.length > 0)
        throw new HttpError(
          409,
          `room "${roomId}" is in use (residents: ${residents.join(', ') || 'none'}; sensors: ${sensors.join(', ') || 'none'}): move or delete them first`,
        );
      return { next: { ...config, rooms: config.rooms.filter((r) => r.id !== roomId) }, value: null, entityId: roomId, detail: { before } };
    }).then(({ revision }) => ({ revision }));
  }

  async createResident(siteId: string, input: ResidentInput, actor: Actor) {
    return this.#edit(siteId, actor, 'resident', 'created', (config) => {
      const id = input.id ?? newId('res');
      if (config.residents.some((r) => r.id === id)) throw new HttpError(409, `body/id: resident "${id}" already exists`);
      findRoom(config, input.roomId, 'body/roomId');
      // Unarmed until the arming policy finds a legal basis.
      const resident = { id, name: input.name, roomId: input.roomId, plan: { ...(input.plan ?? DEFAULT_PLAN), armed: false } };
      return {
        next: { ...config, residents: [...config.residents, resident] },
        value: id,
        entityId: id,
        residentId: id,
        detail: { after: resident },
      };
    });
  }

  async updateResident(siteId: string, residentId: string, input: { name: string; roomId: string }, actor: Actor) {
    return this.#edit(siteId, actor, 'resident', 'updated', (config) => {
      const before = findResident(config, residentId);
      findRoom(config, input.roomId, 'body/roomId');
      const linked = config.sensors.filter((s) => s.residentId === residentId && s.roomId !== input.roomId).map((s) => s.id);
      if (linked.length > 0)
        throw new HttpError(
          409,
          `sensors ${linked.join(', ')} of resident "${residentId}" are in room "${before.roomId}": move or unlink them first`,
        );
      const after = { ...before, name: input.name, roomId: input.roomId };
      return {
        next: { ...config, residents: config.residents.map((r) => (r.id === residentId ? after : r)) },
        value: residentId,
        entityId: residentId,
        residentId,
        detail: { before: { name: before.name, roomId: before.roomId }, after: input },
      };
    });
  }

  /** Removes a resident: their plan stops at once, their legal basis is ended and kept as history. */
  async deleteResident(siteId: string, residentId: string, actor: Actor) {
    const at = new Date(this.clock.now()).toISOString();
    return this.#edit(siteId, actor, 'resident', 'deleted', async (config, trx) => {
      const before = findResident(config, residentId);
      const linked = config.sensors.filter((s) => s.residentId === residentId).map((s) => s.id);
      if (linked.length > 0)
        throw new HttpError(409, `sensors ${linked.join(', ')} are linked to resident "${residentId}": unlink or delete them first`);
      await trx
        .updateTable('legal_basis')
        .set({ ended_at: at, ended_by: actor.name, end_reason: 'resident removed' })
        .where('site_id', '=', siteId)
        .where('resident_id', '=', residentId)
        .where('ended_at', 'is', null)
        .execute();
      await trx.deleteFrom('plan_status').where('site_id', '=', siteId).where('resident_id', '=', residentId).execute();
      return {
        next: { ...config, residents: config.residents.filter((r) => r.id !== residentId) },
        value: residentId,
        entityId: residentId,
        residentId,
        detail: { before },
      };
    });
  }

  async setPlan(siteId: string, residentId: string, plan: PlanInput, actor: Actor) {
    return this.#edit(siteId, actor, 'plan', 'updated', (config) => {
      const before = findResident(config, residentId);
      const { armed, ...beforePlan } = before.plan;
      const after = { ...before, plan: { ...plan, armed } };
      return {
        next: { ...config, residents: config.residents.map((r) => (r.id === residentId ? after : r)) },
        value: residentId,
        entityId: residentId,
        residentId,
        detail: { before: beforePlan, after: plan },
      };
    });
  }

  async createSensor(siteId: string, input: SensorInput & { id: string }, actor: Actor) {
    return this.#edit(siteId, actor, 'sensor', 'created', (config) => {
      if (config.sensors.some((s) => s.id === input.id)) throw new HttpError(409, `body/id: sensor "${input.id}" already exists`);
      const sensor = checkSensor(config, input);
      return {
        next: { ...config, sensors: [...config.sensors, sensor] },
        value: sensor,
        entityId: sensor.id,
        residentId: sensor.residentId ?? null,
        detail: { after: sensor },
      };
    }).then(({ value, revision }) => ({ sensor: value, revision }));
  }

  async updateSensor(siteId: string, sensorId: string, input: SensorInput, actor: Actor) {
    return this.#edit(siteId, actor, 'sensor', 'updated', (config) => {
      const before = config.sensors.find((s) => s.id === sensorId);
      if (before === undefined) throw new HttpError(404, `no sensor "${sensorId}" at site "${siteId}"`);
      const sensor = checkSensor(config, { ...input, id: sensorId });
      return {
        next: { ...config, sensors: config.sensors.map((s) => (s.id === sensorId ? sensor : s)) },
        value: sensor,
        entityId: sensorId,
        residentId: sensor.residentId ?? before.residentId ?? null,
        detail: { before, after: sensor },
      };
    }).then(({ value, revision }) => ({ sensor: value, revision }));
  }

  async deleteSensor(siteId: string, sensorId: string, actor: Actor) {
    return this.#edit(siteId, actor, 'sensor', 'deleted', (config) => {
      const before = config.sensors.find((s) => s.id === sensorId);
      if (before === undefined) throw new HttpError(404, `no sensor "${sensorId}" at site "${siteId}"`);
      return {
        next: { ...config, sensors: config.sensors.filter((s) => s.id !== sensorId) },
        value: null,
        entityId: sensorId,
        residentId: before.residentId ?? null,
        detail: { before },
      };
    }).then(({ revision }) => ({ revision }));
  }

  /** One audited change of the configuration. */
  async #edit<T>(
    siteId: string,
    actor: Actor,
    entity: AuditEntity,
    action: string,
    work: (
      config: SiteConfig,
      trx: SiteTransaction,
    ) =>
      | { next: SiteConfig; value: T; entityId: string; residentId?: string | null; detail: object }
      | Promise<{ next: SiteConfig; value: T; entityId: string; residentId?: string | null; detail: object }>,
  ): Promise<{ value: T; revision: number | null }> {
    const at = new Date(this.clock.now()).toISOString();
    const { value, revision } = await this.sites.change(siteId, async (config, trx) => {
      const change = await work(config, trx);
      return {
        next: change.next,
        value: change.value,
        audit: (rev) =>
          writeConfigAudit(trx, {
            siteId,
            entity,
            entityId: change.entityId,
            residentId: change.residentId ?? null,
            action,
            actor,
            at,
            revision: rev,
            detail: change.detail,
          }),
      };
    });
    return { value, revision };
  }
}

function findRoom(config: SiteConfig, roomId: string, field?: string): Room {
  const room = config.rooms.find((r) => r.id === roomId);
  if (room === undefined)
    throw new HttpError(field ? 400 : 404, `${field ? `${field}: ` : ''}no room "${roomId}" at site "${config.site.id}"`);
  return room;
}

function findResident(config: SiteConfig, residentId: string) {
  const resident = config.residents.find((r) => r.id === residentId);
  if (resident === undefined) throw new HttpError(404, `no resident "${residentId}" at site "${config.site.id}"`);
  return resident;
}

/** A sensor is in a room of the site and, when it watches one resident, that resident lives in its room. */
function checkSensor(config: SiteConfig, input: SensorInput & { id: string }): SensorConfig {
  findRoom(config, input.roomId, 'body/roomId');
  if (input.residentId !== undefined) {
    const resident = config.residents.find((r) => r.id === input.residentId);
    if (resident === undefined) throw new HttpError(400, `body/residentId: no resident "${input.residentId}" at site "${config.site.id}"`);
    if (resident.roomId !== input.roomId)
      throw new HttpError(400, `body/residentId: resident "${input.residentId}" lives in room "${resident.roomId}", not "${input.roomId}"`);
  }
  return {
    id: input.id,
    kind: input.kind,
    roomId: input.roomId,
    ...(input.residentId !== undefined ? { residentId: input.residentId } : {}),
  };
}
