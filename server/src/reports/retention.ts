import type { Logger } from 'pino';
import type { Clock } from '../alarms/escalation.js';
import type { TimeSeriesStore } from '../stores/timeseries/time-series-store.js';
import type { NightSummaryService } from './night-summary-service.js';

const DAY = 24 * 3_600_000;

export interface RetentionOptions {
  /** Raw sensor events are deleted this many days after their time (default 30). Night summaries and the alarm audit trail are kept. */
  rawEventDays?: number;
  /** How often the job runs (default every 15 minutes); 0 = never by itself (tests call `run()`). */
  intervalMs?: number;
  /** A night is summarised this long after its last night window closed, so late events from a gateway's outbox count (default 30 min). */
  settleMs?: number;
}

export const DEFAULT_RAW_EVENT_DAYS = 30;

/** Checks a number of days given on the command line or in NATTEVAKT_RAW_EVENT_DAYS; throws a message naming the setting. */
export function parseRawEventDays(value: string, setting: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(days) || days < 1 || days > 3650)
    throw new Error(`${setting} must be a whole number of days from 1 to 3650, got "${value}"`);
  return days;
}

/**
 * The retention job: first summarises every night that has ended and is not summarised yet, then
 * deletes raw events older than the retention period, so no night is lost. If any summary fails,
 * nothing is deleted in that run. Several instances may run it at once: summaries are upserts and
 * the delete is idempotent.
 */
export class RetentionJob {
  readonly rawEventDays: number;
  readonly #intervalMs: number;
  readonly #settleMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionRun> | undefined;
  #stopped = false;

  constructor(
    private readonly nights: NightSummaryService,
    private readonly timeSeries: TimeSeriesStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: RetentionOptions = {},
  ) {
    this.rawEventDays = options.rawEventDays ?? DEFAULT_RAW_EVENT_DAYS;
    if (!Number.isInteger(this.rawEventDays) || this.rawEventDays < 1)
      throw new Error(`rawEventDays must be a whole number ≥ 1, got ${this.rawEventDays}`);
    nights.rawEventDays = this.rawEventDays;
    this.#intervalMs = options.intervalMs ?? 15 * 60_000;
    this.#settleMs = options.settleMs ?? 30 * 60_000;
  }

  start(): void {
    if (this.#intervalMs <= 0) return;
    const tick = () => {
      this.run().then(
        () => this.#schedule(tick),
        () => this.#schedule(tick),
      );
    };
    // The first run waits a little, so a starting server is not slowed by a backlog.
    this.#timer = setTimeout(tick, Math.min(this.#intervalMs, 60_000));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** One pass (concurrent callers share it). */
  run(): Promise<RetentionRun> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<RetentionRun> {
    const now = this.clock.now();
    const cutoff = new Date(now - this.rawEventDays * DAY);
    try {
      // Back to twice the retention period: nights a stopped server missed are still summarised while their events exist.
      const summarised = await this.nights.summariseDue(now - 2 * this.rawEventDays * DAY, this.#settleMs);
      if (summarised.failed > 0) {
        this.logger.error({ failed: summarised.failed }, 'retention: raw events kept because some nights could not be summarised');
        return { cutoff: cutoff.toISOString(), summarised: summarised.done, deleted: false };
      }
      await this.timeSeries.deleteBefore(cutoff);
      this.logger.info({ cutoff: cutoff.toISOString(), summarised: summarised.done }, 'retention: raw events before cutoff deleted');
      return { cutoff: cutoff.toISOString(), summarised: summarised.done, deleted: true };
    } catch (error) {
      this.logger.error({ err: error }, 'retention run failed');
      throw error;
    }
  }

  #schedule(tick: () => void): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(tick, this.#intervalMs);
    this.#timer.unref();
  }
}

export interface RetentionRun {
  cutoff: string;
  /** Site-nights summarised in this run. */
  summarised: number;
  deleted: boolean;
}
