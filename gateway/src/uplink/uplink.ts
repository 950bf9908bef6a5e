import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import { type GatewayClientToServer, type GatewayServerToClient, MAX_BATCH_ITEMS } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import type { SiteClock } from '../clock.js';
import type { EventBus } from '../event-bus.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Outbox } from '../outbox/outbox.js';

const BATCH_SIZE = Math.min(200, MAX_BATCH_ITEMS);
const ACK_TIMEOUT_MS = 10_000;
const RETRY_MS = 2_000;

/**
 * Streams the outbox to the server over Socket.IO `/gateway` in acknowledged batches, in order.
 * A batch leaves the outbox only after the server's ack; a timeout or a drop sends it again.
 */
export class Uplink {
  #socket: Socket<GatewayServerToClient, GatewayClientToServer> | null = null;
  #sending = false;
  #again = false;
  #retry: NodeJS.Timeout | null = null;
  #clockTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: { url: string; token: string; siteId: string; localFeed?: { url: string; token: string } },
    private readonly outbox: Outbox,
    private readonly bus: EventBus,
    private readonly clock: SiteClock,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    /** The revision of the configuration the gateway runs with. */
    private readonly currentRevision: () => number,
  ) {}

  get connected(): boolean {
    return this.#socket?.connected ?? false;
  }

  start(): void {
    const socket: Socket<GatewayServerToClient, GatewayClientToServer> = io(`${this.options.url}/gateway`, {
      auth: {
        token: this.options.token,
        siteId: this.options.siteId,
        // Where tablets reach this gateway's local alarm feed when the server is gone.
        ...(this.options.localFeed ? { localFeed: this.options.localFeed } : {}),
      },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.#socket = socket;
    socket.on('connect', () => {
      this.logger.info({ url: this.options.url }, 'uplink connected');
      this.metrics.uplinkConnected.set(1);
      this.#sendClock();
      this.flush();
    });
    socket.on('disconnect', (reason) => {
      this.logger.warn({ reason }, 'uplink disconnected; events stay in the outbox');
      this.metrics.uplinkConnected.set(0);
    });
    socket.on('connect_error', (error) => this.logger.warn({ err: error.message }, 'uplink cannot connect'));
    socket.on('config', (config) => this.#onConfig(config));
    socket.on('alarm', (alarm) => this.bus.emit('alarmUpdated', alarm));
    this.bus.on('clockAdvanced', this, () => this.#throttledClock());
    // Real-time sites report their clock too, so the board can tell a stale gateway.
    this.#clockTimer = setInterval(() => this.#sendClock(), 5_000);
    this.#clockTimer.unref();
  }

  stop(): void {
    this.bus.removeAllOf(this);
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#clockTimer) clearInterval(this.#clockTimer);
    this.#socket?.disconnect();
    this.#socket = null;
    this.metrics.uplinkConnected.set(0);
  }

  /** Sends everything in the outbox; safe to call at any time, it never overlaps itself. */
  flush(): void {
    if (this.#sending) {
      this.#again = true;
      return;
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    try {
      for (;;) {
        this.#again = false;
        const socket = this.#socket;
        if (socket === null || !socket.connected) return;
        const batch = this.outbox.peek(BATCH_SIZE);
        if (batch.length === 0) return;
        const first = batch[0]?.seq ?? 0;
        const last = batch[batch.length - 1]?.seq ?? 0;
        const result = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(
          'batch',
          batch.map((entry) => entry.item),
        );
        if (!result.ok) {
          this.logger.error({ error: result.error }, 'server refused the batch; retrying');
          this.#scheduleRetry();
          return;
        }
        for (const rejection of result.rejected) {
          this.logger.error({ seq: batch[rejection.index]?.seq ?? 0, error: rejection.error }, 'server rejected an outbox item; dropped');
        }
        this.outbox.remove(first, last);
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'batch not acknowledged; retrying');
      this.#scheduleRetry();
    } finally {
      this.#sending = false;
      if (this.#again) this.flush();
    }
  }

  #scheduleRetry(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.flush();
    }, RETRY_MS);
    this.#retry.unref();
  }

  #onConfig(config: SiteConfig): void {
    const checked = checkSiteConfig(config);
    if (!checked.ok) {
      this.logger.error({ errors: checked.errors }, 'server pushed an invalid site configuration; keeping the current one');
      return;
    }
    if (checked.value.site.id !== this.options.siteId) {
      this.logger.error({ siteId: checked.value.site.id }, 'server pushed the configuration of another site; ignored');
      return;
    }
    const current = this.currentRevision();
    if ((checked.value.revision ?? 0) < current) {
      this.logger.warn({ revision: checked.value.revision, current }, 'server pushed an older site configuration; keeping the newer one');
      return;
    }
    this.bus.emit('siteConfigChanged', checked.value);
  }

  #lastClockSent = 0;
  #throttledClock(): void {
    if (Date.now() - this.#lastClockSent >= 1_000) this.#sendClock();
  }

  #sendClock(): void {
    const socket = this.#socket;
    if (socket === null || !socket.connected) return;
    this.#lastClockSent = Date.now();
    socket.volatile.emit('clock', {
      siteId: this.options.siteId,
      time: new Date(this.clock.now()).toISOString(),
      simulated: this.clock.simulated,
      speed: this.clock.speed,
    });
  }
}
