import type { Alarm } from '@nattevakt/protocol/alarm';
import type { GatewayStatus } from '@nattevakt/protocol/socket-events';
import type { EvaluationReminders } from '@nattevakt/protocol/supervision';
import type { RoomState, SiteClock, WardView } from '@nattevakt/protocol/ward';
import { type ClockReading, snapshotClockWins } from '../time/site-clock.js';
import { type FallbackStatus, type LocalAlarm, localToAlarm } from './local-feed.js';

/** The link to the server as the tablet sees it; `connecting` only before the first answer. */
export type ServerLink = 'connecting' | 'connected' | 'disconnected';

export interface WardSnapshot {
  site: WardView['site'] | null;
  gatewayConnected: boolean | null;
  clock: ClockReading | null;
  rooms: readonly RoomState[];
  /** Every alarm this tablet knows, resolved ones included (they feed the night's history). */
  alarms: ReadonlyMap<string, Alarm>;
  /** Highest alarm sequence number up to which nothing has been missed. */
  seq: number;
  /** True once the open alarms have been fetched at least once. */
  alarmsLoaded: boolean;
  link: ServerLink;
  /** Local wall-clock time (Date.now()) at which the link was lost, for the technical alarm. */
  disconnectedSince: number | null;
  loadError: string | null;
  /** The gateway's local feed, used only while the server is gone. */
  fallback: { status: FallbackStatus; alarms: readonly LocalAlarm[] };
  /** The last time the link came back after an outage, and how many alarm changes the resync brought. */
  recovered: { at: number; changes: number } | null;
  /** The last escalation alert this tablet got (a pause of the sound ends with it). */
  escalation: { alarmId: string; level: number; notified: string; at: number } | null;
  /** Evaluation reminders of this ward (sent to the nurse in charge only). */
  reminders: EvaluationReminders | null;
}

/** How many resolved alarms to keep for the night's history. */
const MAX_RESOLVED = 300;

/**
 * Room changes are applied at most this often, each room at its latest state: a large ward
 * sends a `room` event per changed room per gateway batch, and rendering each one on its own
 * kept a 500-room board's renderer busy enough that alarm cards waited seconds behind them.
 * Alarms never wait for this: they are applied the moment they arrive.
 */
export const ROOM_BATCH_MS = 100;

const initial: WardSnapshot = {
  site: null,
  gatewayConnected: null,
  clock: null,
  rooms: [],
  alarms: new Map(),
  seq: 0,
  alarmsLoaded: false,
  link: 'connecting',
  disconnectedSince: null,
  loadError: null,
  fallback: { status: 'off', alarms: [] },
  recovered: null,
  escalation: null,
  reminders: null,
};

/**
 * Holds the ward as this tablet knows it, as immutable snapshots for useSyncExternalStore.
 * REST answers and socket events race each other, so every merge keeps the newer of the two:
 * alarms by `seq`, and rooms, clock and gateway by the local time an event arrived.
 */
export class WardStore {
  private snapshot: WardSnapshot = initial;
  private readonly listeners = new Set<() => void>();
  /** performance.now() of the last socket event per room id, and for clock and gateway. */
  private readonly pushedAt = new Map<string, number>();
  /** Where each room of the ward is in `snapshot.rooms`. */
  private roomIndex = new Map<string, number>();
  /** Room states pushed since the last batch was applied, the latest per room. */
  private readonly pendingRooms = new Map<string, RoomState>();
  private roomTimer: ReturnType<typeof setTimeout> | undefined;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): WardSnapshot => this.snapshot;

  private update(patch: Partial<WardSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }

  /**
   * Merges alarms; an alarm replaces the known one only if its seq is higher.
   * `upToSeq` is how far the sender vouches that nothing is missing (REST batches); socket
   * events pass it only when they follow on without a gap. With `allOpen`, the batch is the
   * complete list of open alarms at `upToSeq`, so a known open alarm missing from it was
   * resolved where this tablet could not see it.
   */
  applyAlarms(alarms: readonly Alarm[], upToSeq?: number, allOpen = false): void {
    const next = new Map(this.snapshot.alarms);
    let changed = false;
    if (allOpen && upToSeq !== undefined) {
      const listed = new Set(alarms.map((alarm) => alarm.id));
      for (const known of this.snapshot.alarms.values()) {
        if (known.status !== 'resolved' && known.seq <= upToSeq && !listed.has(known.id)) {
          next.delete(known.id);
          changed = true;
        }
      }
    }
    for (const alarm of alarms) {
      const known = next.get(alarm.id);
      if (known && known.seq >= alarm.seq) continue;
      next.set(alarm.id, alarm);
      changed = true;
    }
    const seq = upToSeq === undefined ? this.snapshot.seq : Math.max(this.snapshot.seq, upToSeq);
    if (!changed && seq === this.snapshot.seq) return;
    this.update({ alarms: changed ? pruneResolved(next) : this.snapshot.alarms, seq });
  }

  markAlarmsLoaded(): void {
    if (!this.snapshot.alarmsLoaded) this.update({ alarmsLoaded: true });
  }

  /** `requestedAt` is performance.now() when the request left: socket news after that wins. */
  applyWard(view: WardView, requestedAt: number): void {
    const pushedRooms = new Map(this.snapshot.rooms.map((room) => [room.roomId, room]));
    // Pushes still waiting for their batch are the newest this tablet knows: they take part in the merge now.
    for (const [roomId, room] of this.pendingRooms) pushedRooms.set(roomId, room);
    this.dropPendingRooms();
    const rooms = view.rooms.map((room) => {
      const pushed = pushedRooms.get(room.roomId);
      return pushed && (this.pushedAt.get(`room:${room.roomId}`) ?? -1) > requestedAt ? pushed : room;
    });
    const clockIsNewer =
      (this.pushedAt.get('clock') ?? -1) > requestedAt || (view.clock !== null && !snapshotClockWins(this.snapshot.clock, view.clock));
    const gatewayIsNewer = (this.pushedAt.get('gateway') ?? -1) > requestedAt;
    this.roomIndex = new Map(rooms.map((room, index) => [room.roomId, index]));
    this.update({
      site: view.site,
      rooms,
      clock: clockIsNewer || !view.clock ? this.snapshot.clock : { clock: view.clock, receivedAt: performance.now() },
      gatewayConnected: gatewayIsNewer ? this.snapshot.gatewayConnected : view.gatewayConnected,
      loadError: null,
    });
  }

  /** A pushed room state: applied with the next batch (within ROOM_BATCH_MS), see `flushRooms`. */
  applyRoom(room: RoomState): void {
    // `/staff` broadcasts every site's rooms and RoomState carries no site id, so a room this
    // ward does not have is someone else's (or new: the next /api/ward brings it).
    if (!this.roomIndex.has(room.roomId)) return;
    this.pushedAt.set(`room:${room.roomId}`, performance.now());
    this.pendingRooms.set(room.roomId, room);
    this.roomTimer ??= setTimeout(() => this.flushRooms(), ROOM_BATCH_MS);
  }

  /**
   * Applies the room states pushed since the last batch, in one snapshot: one new rooms array
   * in which only the changed rooms are new objects, so a memoised tile of an unchanged room
   * does not render again.
   */
  flushRooms(): void {
    if (this.pendingRooms.size === 0) {
      this.dropPendingRooms();
      return;
    }
    const rooms = [...this.snapshot.rooms];
    for (const [roomId, room] of this.pendingRooms) {
      const index = this.roomIndex.get(roomId);
      if (index !== undefined) rooms[index] = room;
    }
    this.dropPendingRooms();
    this.update({ rooms });
  }

  private dropPendingRooms(): void {
    this.pendingRooms.clear();
    clearTimeout(this.roomTimer);
    this.roomTimer = undefined;
  }

  applyClock(clock: SiteClock): void {
    if (!this.isOurSite(clock.siteId)) return;
    this.pushedAt.set('clock', performance.now());
    this.update({ clock: { clock, receivedAt: performance.now() } });
  }

  applyGateway(status: GatewayStatus): void {
    if (!this.isOurSite(status.siteId)) return;
    this.pushedAt.set('gateway', performance.now());
    this.update({ gatewayConnected: status.connected });
  }

  /** Before the first /api/ward answer the site is unknown, and everything is taken. */
  private isOurSite(siteId: string): boolean {
    return this.snapshot.site === null || this.snapshot.site.id === siteId;
  }

  setLink(link: ServerLink): void {
    if (link === this.snapshot.link) return;
    const disconnectedSince = link === 'connected' ? null : (this.snapshot.disconnectedSince ?? Date.now());
    this.update({ link, disconnectedSince });
  }

  setLoadError(message: string | null): void {
    if (message !== this.snapshot.loadError) this.update({ loadError: message });
  }

  setFallbackStatus(status: FallbackStatus): void {
    if (status === this.snapshot.fallback.status) return;
    // Alarms shown from the feed stay until the server is back: an unreachable gateway does not make them go away.
    this.update({ fallback: { status, alarms: status === 'off' ? [] : this.snapshot.fallback.alarms } });
  }

  applyFallbackAlarms(alarms: readonly LocalAlarm[]): void {
    this.update({ fallback: { ...this.snapshot.fallback, alarms } });
  }

  applyReminders(reminders: EvaluationReminders): void {
    if (this.isOurSite(reminders.siteId)) this.update({ reminders });
  }

  noteEscalation(alarmId: string, level: number, notified: string): void {
    this.update({ escalation: { alarmId, level, notified, at: Date.now() } });
  }

  markRecovered(changes: number): void {
    this.update({ recovered: { at: Date.now(), changes } });
  }
}

/**
 * Every alarm the board should show: the server's, plus those only the gateway's local feed
 * knows (raised while the server was gone). The server's version of an alarm always wins.
 */
export function knownAlarms(snapshot: Pick<WardSnapshot, 'alarms' | 'fallback' | 'rooms'>): Alarm[] {
  const all = [...snapshot.alarms.values()];
  for (const local of snapshot.fallback.alarms) {
    if (!snapshot.alarms.has(local.id)) all.push(localToAlarm(local, snapshot.rooms));
  }
  return all;
}

/** An alarm shown from the gateway's feed only: the server has not confirmed it, commands cannot reach it. */
export const fromGatewayOnly = (alarm: Alarm) => alarm.seq === 0;

function pruneResolved(alarms: Map<string, Alarm>): Map<string, Alarm> {
  const resolved = [...alarms.values()].filter((alarm) => alarm.status === 'resolved');
  if (resolved.length <= MAX_RESOLVED) return alarms;
  resolved.sort((a, b) => instantMs(a.resolvedAt) - instantMs(b.resolvedAt));
  for (const alarm of resolved.slice(0, resolved.length - MAX_RESOLVED)) alarms.delete(alarm.id);
  return alarms;
}

/** ISO instants carry different offsets, so they are compared as numbers, never as strings. */
export function instantMs(instant: string | null): number {
  const ms = instant === null ? Number.NaN : Date.parse(instant);
  return Number.isNaN(ms) ? 0 : ms;
}
