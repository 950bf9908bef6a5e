import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

/**
 * The gateway's own list of open alarms, for on-site systems and for tablets that cannot reach
 * the server: raised here, marked "condition cleared" here, acknowledged and resolved by the
 * server when it is reachable. Kept on disk so a restart of the gateway still shows them.
 */
export class LocalAlarmBoard {
  readonly #open = new Map<string, LocalAlarm>();
  readonly #listeners = new Set<(open: LocalAlarm[], changed: LocalAlarm | { id: string; status: 'resolved' }) => void>();

  constructor(
    private readonly path: string,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  start(): void {
    try {
      for (const alarm of JSON.parse(readFileSync(this.path, 'utf8')) as LocalAlarm[]) this.#open.set(alarm.id, alarm);
    } catch {
      // No file yet, or a torn one from a power cut: start empty, the server has the history.
    }
    this.bus.on('alarmRaised', this, (alarm) =>
      this.#change({ ...alarm, status: 'active', acknowledgedBy: null, conditionClearedAt: null }),
    );
    this.bus.on('conditionCleared', this, (cleared) => this.#cleared(cleared));
    this.bus.on('alarmUpdated', this, (alarm) => this.#updated(alarm));
  }

  stop(): void {
    this.bus.removeAllOf(this);
    this.#listeners.clear();
  }

  open(): LocalAlarm[] {
    return [...this.#open.values()].sort((a, b) => a.raisedAt.localeCompare(b.raisedAt));
  }

  onChange(listener: (open: LocalAlarm[], changed: LocalAlarm | { id: string; status: 'resolved' }) => void): void {
    this.#listeners.add(listener);
  }

  #cleared(cleared: ConditionCleared): void {
    const alarm = this.#open.get(cleared.alarmId);
    if (alarm) this.#change({ ...alarm, conditionClearedAt: cleared.clearedAt });
  }

  #updated(alarm: Alarm): void {
    if (alarm.status === 'resolved') {
      if (!this.#open.delete(alarm.id)) return;
      this.#persistAndNotify({ id: alarm.id, status: 'resolved' });
      return;
    }
    const known = this.#open.get(alarm.id);
    if (known === undefined) return; // raised before this gateway's board existed: the server's list is the truth
    this.#change({
      ...known,
      status: alarm.status,
      acknowledgedBy: alarm.acknowledgedBy,
      conditionClearedAt: alarm.conditionClearedAt ?? known.conditionClearedAt,
    });
  }

  #change(alarm: LocalAlarm): void {
    this.#open.set(alarm.id, alarm);
    this.#persistAndNotify(alarm);
  }

  #persistAndNotify(changed: LocalAlarm | { id: string; status: 'resolved' }): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(`${this.path}.tmp`, JSON.stringify(this.open()));
      renameSync(`${this.path}.tmp`, this.path);
    } catch (error) {
      this.logger.error({ alarmId: changed.id, err: (error as Error).message }, 'cannot store the open alarms');
    }
    const open = this.open();
    for (const listener of this.#listeners) listener(open, changed);
  }
}
