import type { Alarm } from '@nattevakt/protocol/alarm';
import type { Priority } from '@nattevakt/protocol/site-config';
import type { Logger } from 'pino';
import type { AlarmService } from './alarm-service.js';

/** The server's wall clock, injectable so tests can move time by hand. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/**
 * When an alarm nobody has acknowledged escalates (Ascom Unite: "not accepted within N seconds";
 * Bosch NurseCall repeats after ~3 min, then a second group). Each step waits `afterMs[priority]`
 * without an acknowledgement: step 1 alerts every nurse on the site again, step 2 the nurse in charge.
 */
export interface EscalationOptions {
  /** Time without acknowledgement before each step, per priority; null: that priority never escalates. */
  afterMs: Record<Priority, number | null>;
  /** The scheduler also wakes this often, for steps that another instance set up or a clock jump made due. */
  safetyPollMs: number;
}

export const DEFAULT_ESCALATION: EscalationOptions = {
  afterMs: { high: 60_000, medium: 3 * 60_000, low: 10 * 60_000, technical: 30 * 60_000 },
  safetyPollMs: 5_000,
};

export type EscalationSettings = { afterMs?: Partial<Record<Priority, number | null>>; safetyPollMs?: number };

/** Merges settings over the defaults and fails fast, naming the setting, when one is out of range. */
export function escalationOptions(settings: EscalationSettings = {}): EscalationOptions {
  const afterMs = { ...DEFAULT_ESCALATION.afterMs, ...settings.afterMs };
  for (const [priority, ms] of Object.entries(afterMs)) {
    if (ms !== null && !(Number.isInteger(ms) && ms > 0))
      throw new Error(`escalation.afterMs.${priority} must be a positive whole number of milliseconds or null (never), got ${ms}`);
  }
  const safetyPollMs = settings.safetyPollMs ?? DEFAULT_ESCALATION.safetyPollMs;
  if (!(Number.isInteger(safetyPollMs) && safetyPollMs > 0 && safetyPollMs <= 3_600_000))
    throw new Error(`escalation.safetyPollMs must be a whole number of milliseconds from 1 to 3600000, got ${safetyPollMs}`);
  return { afterMs, safetyPollMs };
}

/**
 * Runs due escalation steps. The state is in the database (`escalation_level`,
 * `next_escalation_at`), never only in a timer: each step is claimed by a conditional UPDATE, so
 * with several instances on one database every step happens exactly once, and an instance that
 * starts picks up whatever fell due while none ran. The timer only decides when to look: at the
 * earliest `next_escalation_at` this instance knows of, and at least every `safetyPollMs`.
 */
export class EscalationScheduler {
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Clock time the armed timer fires at. */
  #wakeAt = Number.POSITIVE_INFINITY;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = true;
  /** Set by stop(): the database may be closing, so no more passes. */
  #closed = false;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly alarms: AlarmService,
    private readonly options: EscalationOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.#stopped || this.#closed) return;
    this.#stopped = false;
    this.#unsubscribe = this.alarms.onChange((alarm) => {
      if (alarm.nextEscalationAt !== null) this.#wakeBy(Date.parse(alarm.nextEscalationAt));
    });
    this.#tick();
  }

  /** Stops waking and waits for a step in progress, so the database can close after it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#running;
  }

  /** Claims and runs every step that is due now, one run at a time; resolves with the steps this instance claimed. */
  runDue(): Promise<number> {
    const run = this.#running.then(() => this.#runDueNow());
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #runDueNow(): Promise<number> {
    let claimed = 0;
    while (!this.#closed) {
      const due = await this.alarms.dueEscalations(this.clock.now(), 100);
      for (const step of due) {
        try {
          if (await this.alarms.escalate(step.id, step.escalationLevel)) claimed++;
        } catch (error) {
          // A busy database or a lost race is retried on the next wake; the row still says it is due.
          this.logger.error({ alarmId: step.id, err: error }, 'escalation step failed');
        }
      }
      if (due.length < 100) break;
    }
    return claimed;
  }

  #tick(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#wakeAt = Number.POSITIVE_INFINITY;
    // One pass (run what is due, then find the next step) inside the same chain as runDue, so stop() waits for it.
    const pass = this.#running.then(async () => {
      await this.#runDueNow();
      return this.#stopped ? null : this.alarms.nextEscalationDue();
    });
    this.#running = pass.catch(() => undefined);
    pass.then(
      (next) => {
        const poll = this.options.safetyPollMs;
        this.#arm(next === null ? poll : Math.min(poll, Math.max(0, next - this.clock.now())));
      },
      (error: unknown) => {
        if (!this.#stopped) this.logger.error({ err: error }, 'escalation scheduler failed; retrying at the next poll');
        this.#arm(this.options.safetyPollMs);
      },
    );
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#wakeAt = this.clock.now() + delayMs;
    this.#timer = setTimeout(() => this.#tick(), delayMs);
    this.#timer.unref();
  }

  /** Wakes earlier when an alarm changed here becomes due before the armed timer. */
  #wakeBy(at: number): void {
    if (this.#stopped || at >= this.#wakeAt) return;
    this.#arm(Math.max(0, at - this.clock.now()));
  }
}

/**
 * Which alarm versions an instance passes on are escalation steps to alert about. It watches the
 * versions the AlarmFeed passes on (each at most once per instance, never after a newer one of
 * the same alarm), so every instance decides for its own tablets, from the same change that
 * already reaches them without waiting for Redis, and no alert is sent twice. An alert is due
 * when an active alarm's `escalationLevel` rises above the last version this instance passed on
 * (a version skipped while Redis was away still alerts with the next one). For the first version
 * an instance sees of an alarm (it started after the alarm was raised), the alarm's audit says
 * whether that version is the escalation step itself.
 */
export class EscalationAlerts {
  /** Alarm id → the escalation level of the last version passed on, for active alarms. */
  readonly #levels = new Map<string, number>();

  constructor(private readonly alarms: Pick<AlarmService, 'get'>) {}

  /** The level to alert for this version, or null when it is not a new escalation step. */
  async levelToAlert(alarm: Alarm): Promise<number | null> {
    if (alarm.status !== 'active') {
      this.#levels.delete(alarm.id);
      return null;
    }
    const before = this.#levels.get(alarm.id);
    this.#levels.set(alarm.id, Math.max(before ?? 0, alarm.escalationLevel));
    if (alarm.escalationLevel === 0) return null;
    if (before !== undefined) return alarm.escalationLevel > before ? alarm.escalationLevel : null;
    // After the raise, an active alarm changes only when its condition clears or it escalates.
    if (alarm.conditionClearedAt === null) return alarm.escalationLevel;
    const found = await this.alarms.get(alarm.id);
    const action = found?.audit.find((entry) => entry.seq === alarm.seq)?.action;
    return action === 'escalated' ? alarm.escalationLevel : null;
  }

  /** Alarms being watched (active ones this instance passed on). */
  get size(): number {
    return this.#levels.size;
  }
}
