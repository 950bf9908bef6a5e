import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { Resident, Room, SensorConfig, SiteConfig } from '@nattevakt/protocol/site-config';
import type { RoomState } from '@nattevakt/protocol/ward';
import type { Selectable } from 'kysely';
import type { SiteService } from '../sites/site-service.js';
import { engineOf, type RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';

interface SensorState {
  /** occupied (bed) or open (door), as 0/1 */
  value: number | null;
  since: string | null;
  online: number | null;
  lastSeen: string;
  battery: number | null;
}

type SensorRow = Selectable<RelationalSchema['sensor_state']>;

/** Sensor states written in one statement at most (7 parameters each, well under every engine's limit). */
const UPSERT_CHUNK = 500;

const toRow = (event: SensorEvent, next: SensorState): SensorRow => ({
  site_id: event.siteId,
  sensor_id: event.sensorId,
  value: next.value,
  since: next.since,
  online: next.online,
  last_seen: next.lastSeen,
  battery: next.battery,
});

/** Inserts or replaces sensor states (at most one row per sensor). */
async function upsertStates(db: RelationalDb, rows: SensorRow[]): Promise<void> {
  await db
    .insertInto('sensor_state')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['site_id', 'sensor_id']).doUpdateSet((eb) => ({
        value: eb.ref('excluded.value'),
        since: eb.ref('excluded.since'),
        online: eb.ref('excluded.online'),
        last_seen: eb.ref('excluded.last_seen'),
        battery: eb.ref('excluded.battery'),
      })),
    )
    .execute();
}

/** A site's rooms, residents and sensors by room, so an event costs the same on a 10,000-sensor site as on a small one. */
interface SiteIndex {
  rooms: Map<string, Room>;
  /** The first resident of each room, as the configuration lists them. */
  residentByRoom: Map<string, Resident>;
  /** Each room's sensors in configuration order. */
  sensorsByRoom: Map<string, SensorConfig[]>;
}

/** Keyed by the configuration object: a saved configuration is a new object, so its index is built afresh. */
const siteIndexes = new WeakMap<SiteConfig, SiteIndex>();

function indexOf(config: SiteConfig): SiteIndex {
  let index = siteIndexes.get(config);
  if (index === undefined) {
    index = { rooms: new Map(), residentByRoom: new Map(), sensorsByRoom: new Map() };
    for (const room of config.rooms) if (!index.rooms.has(room.id)) index.rooms.set(room.id, room);
    for (const resident of config.residents)
      if (!index.residentByRoom.has(resident.roomId)) index.residentByRoom.set(resident.roomId, resident);
    for (const sensor of config.sensors) {
      const list = index.sensorsByRoom.get(sensor.roomId);
      if (list === undefined) index.sensorsByRoom.set(sensor.roomId, [sensor]);
      else list.push(sensor);
    }
    siteIndexes.set(config, index);
  }
  return index;
}

const toState = (row: SensorRow): SensorState => ({
  value: row.value,
  since: row.since,
  online: row.online,
  lastSeen: row.last_seen,
  battery: row.battery,
});

/** The sensor's state after `event`, or null when the event is older than what is known (an outbox replay). */
function nextState(previous: SensorState | undefined, event: SensorEvent): SensorState | null {
  if (previous !== undefined && Date.parse(previous.lastSeen) > Date.parse(event.time)) return null;
  const reading = event.sensorKind === 'bed' ? event.occupied : event.open;
  const value = reading === undefined ? (previous?.value ?? null) : reading ? 1 : 0;
  return {
    value,
    since: value !== (previous?.value ?? null) ? event.time : (previous?.since ?? event.time),
    online: event.online === undefined ? (previous?.online ?? null) : event.online ? 1 : 0,
    lastSeen: event.time,
    battery: event.battery ?? previous?.battery ?? null,
  };
}

/**
 * The live state of every room, derived from sensor events and kept per sensor in the database,
 * so the board is right after a server restart. `since` moves only when the state changes, so a
 * sensor's heartbeat does not reset "out of bed for N minutes".
 *
 * Alone, an instance keeps a copy in memory and only writes through. `shared` (more than one
 * instance): every read goes to the database, because the site's gateway may be connected to
 * another instance, which changes the state there.
 */
export class WardState {
  /** Site/sensor → state; only when not shared. */
  readonly #sensors = new Map<string, SensorState>();
  readonly #shared: boolean;

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    options: { shared?: boolean } = {},
  ) {
    this.#shared = options.shared ?? false;
  }

  async load(): Promise<void> {
    if (this.#shared) return;
    for (const row of await this.db.selectFrom('sensor_state').selectAll().execute())
      this.#sensors.set(`${row.site_id}/${row.sensor_id}`, toState(row));
  }

  /** Applies an event; returns the room's new state when the event belongs to a known room. */
  async apply(event: SensorEvent): Promise<RoomState | null> {
    const applied = this.#shared ? await this.#applyShared(event) : await this.#applyAlone(event);
    return applied ? this.room(event.siteId, event.roomId) : null;
  }

  /**
   * Applies a gateway batch's events in order; returns the new state of each room they changed,
   * once per room (its state after the whole batch). Alone, the batch's sensor states are written
   * in one transaction (one commit instead of one per event: with SQLite each commit is an fsync on
   * the event loop); shared, event by event as `apply`.
   */
  async applyMany(events: readonly SensorEvent[]): Promise<RoomState[]> {
    const changed = new Map<string, { siteId: string; roomId: string }>();
    if (this.#shared) {
      for (const event of events)
        if (await this.#applyShared(event)) changed.set(`${event.siteId}/${event.roomId}`, { siteId: event.siteId, roomId: event.roomId });
    } else {
      const rows = new Map<string, SensorRow>();
      for (const event of events) {
        const key = `${event.siteId}/${event.sensorId}`;
        const next = nextState(this.#sensors.get(key), event);
        if (next === null) continue;
        this.#sensors.set(key, next);
        rows.set(key, toRow(event, next));
        changed.set(`${event.siteId}/${event.roomId}`, { siteId: event.siteId, roomId: event.roomId });
      }
      if (rows.size > 0) {
        const all = [...rows.values()];
        await this.db.transaction().execute(async (trx) => {
          for (let i = 0; i < all.length; i += UPSERT_CHUNK) await upsertStates(trx, all.slice(i, i + UPSERT_CHUNK));
        });
      }
    }
    const rooms: RoomState[] = [];
    for (const { siteId, roomId } of changed.values()) {
      const room = await this.room(siteId, roomId);
      if (room) rooms.push(room);
    }
    return rooms;
  }

  async room(siteId: string, roomId: string): Promise<RoomState | null> {
    const config = this.sites.get(siteId);
    const ids =
      config === undefined
        ? []
        : (indexOf(config)
            .sensorsByRoom.get(roomId)
            ?.map((s) => s.id) ?? []);
    return this.#roomOf(siteId, roomId, await this.#states(siteId, ids));
  }

  async rooms(siteId: string): Promise<RoomState[]> {
    const config = this.sites.get(siteId);
    if (config === undefined) return [];
    const states = await this.#states(siteId);
    return config.rooms.map((r) => this.#roomOf(siteId, r.id, states)).filter((r): r is RoomState => r !== null);
  }

  async #applyAlone(event: SensorEvent): Promise<boolean> {
    const key = `${event.siteId}/${event.sensorId}`;
    const next = nextState(this.#sensors.get(key), event);
    if (next === null) return false;
    this.#sensors.set(key, next);
    await this.#write(this.db, event, next);
    return true;
  }

  #applyShared(event: SensorEvent): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('sensor_state').selectAll().where('site_id', '=', event.siteId).where('sensor_id', '=', event.sensorId);
      // Two instances applying events of one sensor at once (a gateway moving between them) take turns.
      if (engineOf(trx) === 'postgres') query = query.forUpdate();
      const stored = await query.executeTakeFirst();
      const next = nextState(stored === undefined ? undefined : toState(stored), event);
      if (next === null) return false;
      await this.#write(trx, event, next);
      return true;
    });
  }

  async #write(db: RelationalDb, event: SensorEvent, next: SensorState): Promise<void> {
    await upsertStates(db, [toRow(event, next)]);
  }

  /** Sensor id → state, of the given sensors of a site (all of them when `ids` is omitted). */
  async #states(siteId: string, ids?: string[]): Promise<Map<string, SensorState>> {
    if (ids?.length === 0) return new Map();
    if (!this.#shared) {
      const states = new Map<string, SensorState>();
      for (const id of ids ?? this.sites.get(siteId)?.sensors.map((s) => s.id) ?? []) {
        const state = this.#sensors.get(`${siteId}/${id}`);
        if (state !== undefined) states.set(id, state);
      }
      return states;
    }
    let query = this.db.selectFrom('sensor_state').selectAll().where('site_id', '=', siteId);
    if (ids !== undefined) query = query.where('sensor_id', 'in', ids);
    return new Map((await query.execute()).map((row) => [row.sensor_id, toState(row)]));
  }

  #roomOf(siteId: string, roomId: string, states: Map<string, SensorState>): RoomState | null {
    const config = this.sites.get(siteId);
    if (config === undefined) return null;
    const index = indexOf(config);
    const room = index.rooms.get(roomId);
    if (room === undefined) return null;
    const resident = index.residentByRoom.get(roomId);
    const sensors = index.sensorsByRoom.get(roomId) ?? [];
    const stateOf = (kind: 'bed' | 'door') => {
      const sensor = sensors.find((s) => s.kind === kind);
      return sensor ? states.get(sensor.id) : undefined;
    };
    const bed = stateOf('bed');
    const door = stateOf('door');
    return {
      siteId,
      roomId: room.id,
      roomName: room.name,
      resident: resident ? { id: resident.id, name: resident.name, armed: resident.plan.armed } : null,
      bed: { occupied: bed?.value == null ? null : bed.value === 1, since: bed?.since ?? null },
      door: { open: door?.value == null ? null : door.value === 1, since: door?.since ?? null },
      sensors: sensors.map((s) => {
        const state = states.get(s.id);
        return {
          id: s.id,
          kind: s.kind,
          online: state?.online == null ? null : state.online === 1,
          lastSeen: state?.lastSeen ?? null,
          battery: state?.battery ?? null,
        };
      }),
    };
  }
}
