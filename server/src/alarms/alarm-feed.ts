import type { Alarm } from '@nattevakt/protocol/alarm';
import type { Logger } from 'pino';
import type { Cluster } from '../realtime/cluster.js';
import type { AlarmService } from './alarm-service.js';

export type AlarmFeedListener = (alarm: Alarm) => void;

/**
 * Every alarm change, for this instance's own tablets and gateways: the changes made here at
 * once, those made on other instances as soon as they say so (Redis), and, because Redis may
 * lose a message or be away, whatever the database holds beyond what was passed on (every
 * `pollMs`, and at once when Redis is back). The database's alarm `seq` is the one truth:
 * each version is passed on at most once per instance, never after a newer version of the
 * same alarm. Alone (no cluster), it passes on the local changes and nothing else.
 */
export class AlarmFeed {
  readonly #listeners = new Set<AlarmFeedListener>();
  /** Every change up to this seq was passed on (or superseded by a newer version passed on). */
  #floor = 0;
  /** Alarm id → the highest seq passed on, for versions above the floor. */
  readonly #passed = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #catchingUp: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly alarms: AlarmService,
    private readonly cluster: Cluster,
    private readonly logger: Logger,
    private readonly options: { pollMs: number },
  ) {}

  onAlarm(listener: AlarmFeedListener): void {
    this.#listeners.add(listener);
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.alarms.onChange((alarm) => {
      this.#pass(alarm);
      this.cluster.publish('alarm', alarm);
    });
    if (!this.cluster.clustered) return;
    this.#floor = await this.alarms.currentSeq();
    this.cluster.on('alarm', (alarm) => this.#pass(alarm));
    this.cluster.onReconnect(() => void this.catchUp());
    this.#timer = setInterval(() => void this.catchUp(), this.options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#catchingUp;
  }

  /** Passes on every change in the database beyond the floor; one pass at a time, a request meanwhile runs one more. */
  catchUp(): Promise<void> {
    if (this.#catchingUp !== null) {
      this.#again = true;
      return this.#catchingUp;
    }
    const run = async () => {
      do {
        this.#again = false;
        await this.#catchUpOnce();
      } while (this.#again && !this.#stopped);
    };
    this.#catchingUp = run()
      .catch((error: unknown) => {
        // The database is away (restart): the next poll tries again.
        if (!this.#stopped) this.logger.warn({ err: error }, 'alarm catch-up from the database failed; retrying at the next poll');
      })
      .finally(() => {
        this.#catchingUp = null;
      });
    return this.#catchingUp;
  }

  async #catchUpOnce(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const { alarms } = await this.alarms.changesSince(this.#floor, 500);
      let caughtUp = 0;
      for (const alarm of alarms) {
        if (this.#pass(alarm, true)) caughtUp++;
        // Rows come in seq order and the sequence becomes visible in order, so nothing below is still to come.
        this.#floor = Math.max(this.#floor, alarm.seq);
      }
      for (const [id, seq] of this.#passed) if (seq <= this.#floor) this.#passed.delete(id);
      if (caughtUp > 0) this.logger.warn({ alarms: caughtUp, seq: this.#floor }, 'alarm changes caught up from the database');
      if (alarms.length < 500) return;
    }
  }

  /** Passes a version on unless this instance already passed it or a newer one; true when passed. */
  #pass(alarm: Alarm, fromDatabase = false): boolean {
    if (this.cluster.clustered) {
      if (alarm.seq <= this.#floor || (this.#passed.get(alarm.id) ?? 0) >= alarm.seq) return false;
      this.#passed.set(alarm.id, alarm.seq);
    }
    if (fromDatabase) this.logger.info({ alarmId: alarm.id, seq: alarm.seq }, 'alarm change passed on from the database');
    for (const listener of this.#listeners) {
      try {
        listener(alarm);
      } catch (error) {
        this.logger.error({ alarmId: alarm.id, err: error }, 'alarm feed listener failed');
      }
    }
    return true;
  }
}
