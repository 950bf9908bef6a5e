import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
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
  /**
   * Alarms the gateway's rules decided that the server passed on at once (`provisionalAlarm`),
   * before storing them, by id, oldest first. Each goes when the stored alarm of the same id
   * arrives, and by itself after PROVISIONAL_TTL_MS. Never counted in `seq`.
   */
  provisional: ReadonlyMap<string, ProvisionalAlarm>;
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

/** A decision shown before the server stored it; `receivedAt` is this tablet's Date.now() when it came. */
export interface ProvisionalAlarm {
  decision: AlarmDecision;
  receivedAt: number;
}

/**
 * A provisional alarm is normally replaced by its stored version within milliseconds. One that
 * never is (the gateway died before the alarm was durable; when it decides again, the alarm has
 * another id) is dropped after this long, so a stale card does not stay on the board all night.
 */
export const PROVISIONAL_TTL_MS = 10 * 60 * 1000;
/** At most this many provisional alarms are kept (the oldest go first), so a flood cannot grow memory. */
export const MAX_PROVISIONAL = 500;
/** After this long without its stored version, the card says the server has not confirmed the alarm. */
export const PROVISIONAL_UNCONFIRMED_MS = 30 * 1000;

const initial: WardSnapshot = {
  site: null,
  gatewayConnected: null,
  clock: null,
  rooms: [],
  alarms: new Map(),
  provisional: new Map(),
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
  /** Drops the oldest provisional alarm when it has waited PROVISIONAL_TTL_MS for its stored version. */
  private provisionalTimer: ReturnType<typeof setTimeout> | undefined;

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
    // The stored version of a provisional alarm replaces it in the same update: never both cards, never none.
    let provisional = this.snapshot.provisional;
    for (const alarm of alarms) {
      if (provisional.has(alarm.id)) {
        if (provisional === this.snapshot.provisional) provisional = new Map(provisional);
        (provisional as Map<string, ProvisionalAlarm>).delete(alarm.id);
      }
      const known = next.get(alarm.id);
      if (known && known.seq >= alarm.seq) continue;
      next.set(alarm.id, alarm);
      changed = true;
    }
    const seq = upToSeq === undefined ? this.snapshot.seq : Math.max(this.snapshot.seq, upToSeq);
    const provisionalChanged = provisional !== this.snapshot.provisional;
    if (!changed && !provisionalChanged && seq === this.snapshot.seq) return;
    this.update({ alarms: changed ? pruneResolved(next) : this.snapshot.alarms, seq, ...(provisionalChanged ? { provisional } : {}) });
    if (provisionalChanged) this.scheduleProvisionalExpiry();
  }

  /**
   * An alarm decided by the gateway and not yet stored (`provisionalAlarm`): shown at once,
   * unless the stored alarm of the same id is already here (it always wins). Takes no part in
   * `seq`: the stored version comes with its own.
   */
  applyProvisional(decision: AlarmDecision): void {
    if (typeof decision?.id !== 'string' || typeof decision.roomId !== 'string' || !this.isOurSite(decision.siteId)) return;
    if (this.snapshot.alarms.has(decision.id) || this.snapshot.provisional.has(decision.id)) return;
    const next = withoutExpired(this.snapshot.provisional, Date.now());
    next.set(decision.id, { decision, receivedAt: Date.now() });
    // Oldest first (insertion order): a flood drops the alarms that have waited longest.
    for (const id of next.keys()) {
      if (next.size <= MAX_PROVISIONAL) break;
      next.delete(id);
    }
    this.update({ provisional: next });
    this.scheduleProvisionalExpiry();
  }

  /** Drops provisional alarms that waited PROVISIONAL_TTL_MS in vain, and sets the timer for the next. */
  private scheduleProvisionalExpiry(): void {
    clearTimeout(this.provisionalTimer);
    this.provisionalTimer = undefined;
    const oldest = this.snapshot.provisional.values().next().value;
    if (!oldest) return;
    this.provisionalTimer = setTimeout(
      () => {
        this.provisionalTimer = undefined;
        const next = withoutExpired(this.snapshot.provisional, Date.now());
        if (next.size !== this.snapshot.provisional.size) this.update({ provisional: next });
        this.scheduleProvisionalExpiry();
      },
      Math.max(0, oldest.receivedAt + PROVISIONAL_TTL_MS - Date.now()),
    );
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
 * knows (raised while the server was gone), plus provisional ones not stored yet. The server's
 * version of an alarm always wins, then the feed's. `rooms` name the rooms of the latter two.
 */
export function knownAlarms(snapshot: Pick<WardSnapshot, 'alarms' | 'fallback' | 'rooms' | 'provisional'>): Alarm[] {
  const all = [...snapshot.alarms.values()];
  const fromFeed = new Set<string>();
  for (const local of snapshot.fallback.alarms) {
    if (snapshot.alarms.has(local.id)) continue;
    all.push(localToAlarm(local, snapshot.rooms));
    fromFeed.add(local.id);
  }
  for (const [id, entry] of snapshot.provisional) {
    if (!snapshot.alarms.has(id) && !fromFeed.has(id)) all.push(provisionalToAlarm(entry, snapshot.rooms));
  }
  return all;
}

/**
 * Each provisional alarm as shown, with the room it was named from: the same object for as long
 * as that room's object is the same, so a room update elsewhere on the ward renders no card.
 */
const shownProvisional = new WeakMap<ProvisionalAlarm, { room: RoomState | undefined; alarm: Alarm }>();
/** The alarms made by provisionalToAlarm, with the tablet's time (Date.now()) each decision came. */
const provisionalReceivedAt = new WeakMap<Alarm, number>();

/**
 * A provisional alarm in the shape the board shows, as localToAlarm shapes the feed's: seq 0
 * (the server has not stored it), active, no explanation, named from the ward's rooms. Told
 * apart from a feed alarm by isProvisional.
 */
export function provisionalToAlarm(entry: ProvisionalAlarm, rooms: readonly RoomState[]): Alarm {
  const room = rooms.find((known) => known.roomId === entry.decision.roomId);
  const cached = shownProvisional.get(entry);
  if (cached && cached.room === room) return cached.alarm;
  const alarm = localToAlarm({ ...entry.decision, status: 'active', acknowledgedBy: null, conditionClearedAt: null }, room ? [room] : []);
  shownProvisional.set(entry, { room, alarm });
  provisionalReceivedAt.set(alarm, entry.receivedAt);
  return alarm;
}

/** The alarm came provisionally, straight from the gateway's decision, and the server has not stored it yet. */
export const isProvisional = (alarm: Alarm): boolean => provisionalReceivedAt.has(alarm);

/** When (Date.now()) this tablet got the provisional alarm; null for any other alarm. */
export const provisionalSince = (alarm: Alarm): number | null => provisionalReceivedAt.get(alarm) ?? null;

/** An alarm shown from the gateway's feed only: the server has not confirmed it, commands cannot reach it. */
export const fromGatewayOnly = (alarm: Alarm) => alarm.seq === 0 && !isProvisional(alarm);

function withoutExpired(provisional: ReadonlyMap<string, ProvisionalAlarm>, now: number): Map<string, ProvisionalAlarm> {
  const next = new Map(provisional);
  for (const [id, entry] of next) {
    if (entry.receivedAt + PROVISIONAL_TTL_MS <= now) next.delete(id);
  }
  return next;
}

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
