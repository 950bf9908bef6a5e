import type { EvaluationReminders } from '@nattevakt/protocol/supervision';
import type { Logger } from 'pino';
import type { Cluster } from '../realtime/cluster.js';
import type { SupervisionService } from './supervision-service.js';

export type ReminderFeedListener = (reminders: EvaluationReminders) => void;

/**
 * Every change of a site's evaluation reminders, for this instance's own nurses in charge, the
 * way AlarmFeed passes on alarm changes: a change made here at once (no wait for Redis), one made
 * on another instance as soon as it says so (Redis), and whatever the database's `site_reminders`
 * versions show beyond what was passed on (every `pollMs`, and at once when Redis is back). Each
 * site's version is passed on at most once per instance; the list is state, not an event, so
 * versions that came close together are passed on as one fresh list read from the database.
 */
export class ReminderFeed {
  readonly #listeners = new Set<ReminderFeedListener>();
  /** Site id → the highest version passed on. */
  readonly #passed = new Map<string, number>();
  /** Passes run one after the other, so lists go out in the order they were read. */
  #queue: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #catchingUp: Promise<void> | null = null;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly supervision: SupervisionService,
    private readonly cluster: Cluster,
    private readonly logger: Logger,
    private readonly options: { pollMs: number },
  ) {}

  onReminders(listener: ReminderFeedListener): void {
    this.#listeners.add(listener);
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.supervision.onReminders((reminders, version) => {
      if (!this.#claim(reminders.siteId, version)) return;
      this.#enqueue(async () => this.#pass(reminders));
      this.cluster.publish('reminders', { siteId: reminders.siteId, version });
    });
    if (!this.cluster.clustered) return;
    for (const [siteId, version] of await this.supervision.reminderVersions()) this.#claim(siteId, version);
    this.cluster.on('reminders', ({ siteId, version }) => this.#learn(siteId, version));
    this.cluster.onReconnect(() => void this.catchUp());
    this.#timer = setInterval(() => void this.catchUp(), this.options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#catchingUp;
    await this.#queue;
  }

  /** Passes on the sites whose version in the database is above the one passed on; one pass at a time. */
  catchUp(): Promise<void> {
    if (this.#catchingUp !== null) return this.#catchingUp;
    this.#catchingUp = this.supervision
      .reminderVersions()
      .then((versions) => {
        for (const [siteId, version] of versions) this.#learn(siteId, version);
      })
      .catch((error: unknown) => {
        // The database is away (restart): the next poll tries again.
        if (!this.#stopped) this.logger.warn({ err: error }, 'reminder catch-up from the database failed; retrying at the next poll');
      })
      .finally(() => {
        this.#catchingUp = null;
      });
    return this.#catchingUp;
  }

  /** Another instance's change (told, or found in the database): the fresh list from the database, once per version. */
  #learn(siteId: string, version: number): void {
    const before = this.#passed.get(siteId) ?? 0;
    if (!this.#claim(siteId, version)) return;
    this.#enqueue(async () => {
      const reminders = await this.supervision.reminders(siteId).catch((error: unknown) => {
        // Not passed on after all: the next poll tries this version again.
        if (this.#passed.get(siteId) === version) this.#passed.set(siteId, before);
        throw error;
      });
      this.logger.info({ siteId, version }, 'evaluation reminders passed on from another instance');
      this.#pass(reminders);
    });
  }

  /** Marks `version` of a site as passed on; false when it (or a later one) already was. */
  #claim(siteId: string, version: number): boolean {
    if ((this.#passed.get(siteId) ?? 0) >= version) return false;
    this.#passed.set(siteId, version);
    return true;
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((error: unknown) => {
      if (!this.#stopped) this.logger.error({ err: error }, 'passing on evaluation reminders failed');
    });
  }

  #pass(reminders: EvaluationReminders): void {
    if (this.#stopped) return;
    for (const listener of this.#listeners) {
      try {
        listener(reminders);
      } catch (error) {
        this.logger.error({ siteId: reminders.siteId, err: error }, 'reminder feed listener failed');
      }
    }
  }
}
