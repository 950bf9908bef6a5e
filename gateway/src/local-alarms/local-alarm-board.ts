import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alarm, AlarmDecision, ConditionCleared } from '@nattevakt/protocol/alarm';
import type { Logger } from 'pino';
import type { EventBus } from '../event-bus.js';

/** An open alarm as the gateway knows it: its decision, plus what the server has told it since. */
export interface LocalAlarm extends AlarmDecision {
  status: 'active' | 'acknowledged';
  acknowledgedBy: string | null;
  conditionClearedAt: string | null;
}

/** One change of the board: an alarm as it is now, or one that left it (resolved). */
export type LocalAlarmChange = LocalAlarm | { id: string; status: 'resolved' };

/** The whole list of open alarms, oldest first, and the same as JSON (built from each alarm's cached JSON). */
export interface OpenAlarmsSnapshot {
  readonly open: readonly LocalAlarm[];
  readonly json: string;
}

/**
 * Snapshots (the whole list) go out at most this often: a burst of changes is one retained publish
 * and one feed snapshot, not one per change. Each change already goes out at once on its own
 * (`onChange`, the feed's `alarm`, the alarm topic), so the list only has to catch up. Under a flood
 * of alarms, encoding the whole list and publishing it retained 20 times a second (every 50 ms, as
 * before) was a sixth of the gateway's event loop (bench/src/peers.ts at 9,300 msg/s, profiled).
 */
export const SNAPSHOT_INTERVAL_MS = 1000;
/** The journal is folded into the snapshot file once it holds this many lines and more than 4 per open alarm. */
const COMPACT_AFTER_LINES = 1000;

type JournalLine = { set: LocalAlarm } | { resolved: string };

/**
 * The gateway's own list of open alarms, for on-site systems and for tablets that cannot reach
 * the server: raised here, marked "condition cleared" here, acknowledged and resolved by the
 * server when it is reachable. Kept on disk so a restart of the gateway still shows them.
 *
 * Every change costs what that one alarm costs: it is appended to a journal next to the snapshot
 * file (`open-alarms.json` + `open-alarms.json.journal`, so an alarm a killed gateway had decided
 * is still listed after its restart), and the whole list goes
 * out as a coalesced snapshot at most once a second, its JSON joined from each alarm's cached JSON.
 * The journal is folded into the snapshot when it has grown well past the list.
 */
export class LocalAlarmBoard {
  readonly #open = new Map<string, { alarm: LocalAlarm; json: string }>();
  /** Ids oldest first (by raisedAt, then by arrival), kept in order as alarms come and go. */
  readonly #order: string[] = [];
  #list: LocalAlarm[] | null = null;
  readonly #changeListeners = new Set<(changed: LocalAlarmChange) => void>();
  readonly #snapshotListeners = new Set<(snapshot: OpenAlarmsSnapshot) => void>();
  #journal: number | null = null;
  #journalLines = 0;
  #snapshotTimer: NodeJS.Timeout | null = null;
  #lastSnapshot = 0;

  constructor(
    private readonly path: string,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly snapshotIntervalMs = SNAPSHOT_INTERVAL_MS,
  ) {}

  get #journalPath(): string {
    return `${this.path}.journal`;
  }

  start(): void {
    this.#load();
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.#compact(); // one file again, and a fresh journal
      this.#journal = openSync(this.#journalPath, 'a');
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, 'cannot store the open alarms');
    }
    // Object.assign, not `{ ...alarm, status, … }`: that spread gives each alarm a V8 hidden class of its own.
    this.bus.on('alarmRaised', this, (alarm) =>
      this.#change(Object.assign({}, alarm, { status: 'active' as const, acknowledgedBy: null, conditionClearedAt: null })),
    );
    this.bus.on('conditionCleared', this, (cleared) => this.#cleared(cleared));
    this.bus.on('alarmUpdated', this, (alarm) => this.#updated(alarm));
  }

  /** Stops listening; a snapshot still pending goes out now, so the retained list is current. */
  stop(): void {
    this.bus.removeAllOf(this);
    if (this.#snapshotTimer !== null) {
      clearTimeout(this.#snapshotTimer);
      this.#snapshotTimer = null;
      this.#notifySnapshot();
    }
    this.#changeListeners.clear();
    this.#snapshotListeners.clear();
    if (this.#journal !== null) closeSync(this.#journal);
    this.#journal = null;
  }

  /** The open alarms, oldest first. */
  open(): LocalAlarm[] {
    this.#list ??= this.#order.map((id) => this.#open.get(id)?.alarm as LocalAlarm);
    return [...this.#list];
  }

  /** Told of every change, at once, in order. */
  onChange(listener: (changed: LocalAlarmChange) => void): void {
    this.#changeListeners.add(listener);
  }

  /** Told the whole list after changes, coalesced (at most once a second). */
  onSnapshot(listener: (snapshot: OpenAlarmsSnapshot) => void): void {
    this.#snapshotListeners.add(listener);
  }

  /** The whole list as JSON, oldest first: the retained `…/alarms/active` payload. */
  json(): string {
    let json = '[';
    for (let i = 0; i < this.#order.length; i++) {
      if (i > 0) json += ',';
      json += this.#open.get(this.#order[i] as string)?.json;
    }
    return `${json}]`;
  }

  #cleared(cleared: ConditionCleared): void {
    const known = this.#open.get(cleared.alarmId);
    if (known) this.#change({ ...known.alarm, conditionClearedAt: cleared.clearedAt });
  }

  #updated(alarm: Alarm): void {
    if (alarm.status === 'resolved') {
      const known = this.#open.get(alarm.id);
      if (known === undefined) return;
      this.#remove(alarm.id, known.alarm.raisedAt);
      this.#notify({ id: alarm.id, status: 'resolved' });
      this.#record({ resolved: alarm.id }, alarm.id);
      return;
    }
    const known = this.#open.get(alarm.id);
    if (known === undefined) return; // raised before this gateway's board existed: the server's list is the truth
    const conditionClearedAt = alarm.conditionClearedAt ?? known.alarm.conditionClearedAt;
    // The server tells the gateway every change of the alarm, also those that came from here (stored,
    // condition cleared): what the board already shows is no change (no journal line, nobody told).
    if (
      alarm.status === known.alarm.status &&
      alarm.acknowledgedBy === known.alarm.acknowledgedBy &&
      conditionClearedAt === known.alarm.conditionClearedAt
    )
      return;
    this.#change({ ...known.alarm, status: alarm.status, acknowledgedBy: alarm.acknowledgedBy, conditionClearedAt });
  }

  #change(alarm: LocalAlarm): void {
    this.#put(alarm);
    // Told first, then written: the journal's synchronous write now and then takes milliseconds
    // (it was the tail of the nurse's p99: 4.1–4.5 ms, 2.1–2.7 ms told first). A gateway killed in
    // between has not committed the outbox either (that happens at the end of the turn): a sensor's
    // message got no PUBACK, is sent again and decided again after the restart; an alarm of a timer
    // (no message) is lost from the outbox in that microsecond as before, when only this board kept it.
    this.#notify(alarm);
    this.#record({ set: alarm }, alarm.id);
  }

  #put(alarm: LocalAlarm): void {
    if (!this.#open.has(alarm.id)) this.#order.splice(this.#upperBound(alarm.raisedAt), 0, alarm.id);
    this.#open.set(alarm.id, { alarm, json: JSON.stringify(alarm) });
    this.#list = null;
  }

  #remove(id: string, raisedAt: string): void {
    // Among the alarms raised at that instant, find this one (before it leaves the map the search reads).
    for (let i = this.#lowerBound(raisedAt); i < this.#order.length; i++) {
      if (this.#order[i] === id) {
        this.#order.splice(i, 1);
        break;
      }
    }
    this.#open.delete(id);
    this.#list = null;
  }

  #raisedAt(i: number): string {
    return this.#open.get(this.#order[i] as string)?.alarm.raisedAt ?? '';
  }

  /** The first position whose alarm was raised after `raisedAt` (a new alarm goes there: ties keep arrival order). */
  #upperBound(raisedAt: string): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#raisedAt(mid) <= raisedAt) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #lowerBound(raisedAt: string): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#raisedAt(mid) < raisedAt) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appends one change to the journal (one write of that alarm), folding the journal in when it has grown. */
  #record(line: JournalLine, alarmId: string): void {
    if (this.#journal === null) return;
    try {
      writeSync(this.#journal, `${JSON.stringify(line)}\n`);
      this.#journalLines++;
      if (this.#journalLines >= COMPACT_AFTER_LINES && this.#journalLines > 4 * this.#open.size) this.#compact();
    } catch (error) {
      this.logger.error({ alarmId, err: (error as Error).message }, 'cannot store the open alarms');
    }
  }

  /** Writes the whole list to the snapshot file (atomically) and empties the journal. */
  #compact(): void {
    writeFileSync(`${this.path}.tmp`, this.json());
    renameSync(`${this.path}.tmp`, this.path);
    // A crash between the rename and the truncation replays the journal over the new snapshot:
    // each line sets or removes one alarm, so replaying it ends in the same list.
    if (this.#journal !== null) ftruncateSync(this.#journal, 0);
    else writeFileSync(this.#journalPath, '');
    this.#journalLines = 0;
  }

  /** The snapshot file, then the journal over it. A torn last line (power cut) is skipped. */
  #load(): void {
    try {
      for (const alarm of JSON.parse(readFileSync(this.path, 'utf8')) as LocalAlarm[]) this.#put(alarm);
    } catch {
      // No file yet, or a torn one from a power cut: start empty, the server has the history.
    }
    let journal = '';
    try {
      journal = readFileSync(this.#journalPath, 'utf8');
    } catch {
      return; // no journal: written by an older gateway, or never changed
    }
    for (const text of journal.split('\n')) {
      if (text === '') continue;
      let line: JournalLine;
      try {
        line = JSON.parse(text) as JournalLine;
      } catch {
        this.logger.warn('skipped a torn line of the open-alarm journal');
        continue;
      }
      if ('set' in line) this.#put(line.set);
      else {
        const known = this.#open.get(line.resolved);
        if (known) this.#remove(line.resolved, known.alarm.raisedAt);
      }
    }
  }

  #notify(changed: LocalAlarmChange): void {
    for (const listener of this.#changeListeners) listener(changed);
    if (this.#snapshotListeners.size === 0 || this.#snapshotTimer !== null) return;
    const wait = Math.max(0, this.#lastSnapshot + this.snapshotIntervalMs - Date.now());
    this.#snapshotTimer = setTimeout(() => {
      this.#snapshotTimer = null;
      this.#notifySnapshot();
    }, wait);
    // A list still to send never keeps a stopping gateway alive (stop() sends it at once).
    this.#snapshotTimer.unref();
  }

  #notifySnapshot(): void {
    this.#lastSnapshot = Date.now();
    const snapshot: OpenAlarmsSnapshot = { open: this.open(), json: this.json() };
    for (const listener of this.#snapshotListeners) listener(snapshot);
  }
}
