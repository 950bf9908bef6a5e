import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { RoomState } from '@nattevakt/protocol/ward';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';

interface SensorState {
  /** occupied (bed) or open (door), as 0/1 */
  value: number | null;
  since: string | null;
  online: number | null;
  lastSeen: string;
  battery: number | null;
}

/**
 * The live state of every room, derived from sensor events and persisted per sensor, so the
 * board is right after a server restart. `since` moves only when the state changes, so a
 * sensor's heartbeat does not reset "out of bed for N minutes".
 */
export class WardState {
  readonly #sensors = new Map<string, SensorState>();

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
  ) {}

  async load(): Promise<void> {
    for (const row of await this.db.selectFrom('sensor_state').selectAll().execute()) {
      this.#sensors.set(`${row.site_id}/${row.sensor_id}`, {
        value: row.value,
        since: row.since,
        online: row.online,
        lastSeen: row.last_seen,
        battery: row.battery,
      });
    }
  }

  /** Applies an event; returns the room's new state when the event belongs to a known room. */
  async apply(event: SensorEvent): Promise<RoomState | null> {
    const key = `${event.siteId}/${event.sensorId}`;
    const previous = this.#sensors.get(key);
    const reading = event.sensorKind === 'bed' ? event.occupied : event.open;
    const value = reading === undefined ? (previous?.value ?? null) : reading ? 1 : 0;
    // Events can arrive late (outbox replay): only a newer event moves the state.
    if (previous !== undefined && Date.parse(previous.lastSeen) > Date.parse(event.time)) return null;
    const next: SensorState = {
      value,
      since: value !== (previous?.value ?? null) ? event.time : (previous?.since ?? event.time),
      online: event.online === undefined ? (previous?.online ?? null) : event.online ? 1 : 0,
      lastSeen: event.time,
      battery: event.battery ?? previous?.battery ?? null,
    };
    this.#sensors.set(key, next);
    const row = {
      site_id: event.siteId,
      sensor_id: event.sensorId,
      value: next.value,
      since: next.since,
      online: next.online,
      last_seen: next.lastSeen,
      battery: next.battery,
    };
    await this.db
      .insertInto('sensor_state')
      .values(row)
      .onConflict((oc) => oc.columns(['site_id', 'sensor_id']).doUpdateSet(row))
      .execute();
    return this.room(event.siteId, event.roomId);
  }

  room(siteId: string, roomId: string): RoomState | null {
    const config = this.sites.get(siteId);
    const room = config?.rooms.find((r) => r.id === roomId);
    if (config === undefined || room === undefined) return null;
    const resident = config.residents.find((r) => r.roomId === roomId);
    const sensors = config.sensors.filter((s) => s.roomId === roomId);
    const stateOf = (kind: 'bed' | 'door') => {
      const sensor = sensors.find((s) => s.kind === kind);
      return sensor ? this.#sensors.get(`${siteId}/${sensor.id}`) : undefined;
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
        const state = this.#sensors.get(`${siteId}/${s.id}`);
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

  rooms(siteId: string): RoomState[] {
    const config = this.sites.get(siteId);
    if (config === undefined) return [];
    return config.rooms.map((r) => this.room(siteId, r.id)).filter((r): r is RoomState => r !== null);
  }
}
