import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import { type BatchAck, type GatewayClientToServer, type GatewayServerToClient, MAX_BATCH_ITEMS } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import type { SiteClock } from '../clock.js';
import type { EventBus } from '../event-bus.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Outbox } from '../outbox/outbox.js';

const ACK_TIMEOUT_MS = 10_000;
const RETRY_MS = 2_000;

export interface UplinkTuning {
  /** Items per batch, at most the protocol's MAX_BATCH_ITEMS. */
  batchItems?: number;
  /** Batches sent and not yet acknowledged, at most. */
  window?: number;
  ackTimeoutMs?: number;
  retryMs?: number;
}

interface InFlight {
  first: number;
  last: number;
}

/**
 * Streams the outbox to the server over Socket.IO `/gateway` in acknowledged batches, in order.
 *
 * Up to `window` batches (of up to MAX_BATCH_ITEMS items) are in flight at once, so the next batch
 * travels while the server stores the previous one: one batch at a time left the link idle for a
 * round trip and the server's whole ingestion per batch (~3,000–4,000 items/s). The server stores a
 * site's batches one after another in the order they arrive (server/src/realtime/gateway-namespace.ts),
 * so the window keeps the order. An ack removes exactly its batch's rows from the outbox; a refusal,
 * a timeout or a drop forgets the whole window and sends everything still in the outbox again, from
 * the oldest (at least once: the server's ingestion is idempotent by id).
 */
export class Uplink {
  #socket: Socket<GatewayServerToClient, GatewayClientToServer> | null = null;
  /** Batches sent on the current attempt, oldest first. */
  #inFlight: InFlight[] = [];
  /** The last seq sent on the current attempt; the next batch starts after it. */
  #sentUpTo = 0;
  /** Bumped whenever the window is forgotten: answers to an older attempt only remove what they acknowledge. */
  #attempt = 0;
  #pumpQueued = false;
  #retry: NodeJS.Timeout | null = null;
  #clockTimer: NodeJS.Timeout | null = null;
  readonly #batchItems: number;
  readonly #window: number;
  readonly #ackTimeoutMs: number;
  readonly #retryMs: number;

  constructor(
    private readonly options: { url: string; token: string; siteId: string; localFeed?: { url: string; token: string } },
    private readonly outbox: Outbox,
    private readonly bus: EventBus,
    private readonly clock: SiteClock,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    /** The revision of the configuration the gateway runs with. */
    private readonly currentRevision: () => number,
    tuning: UplinkTuning = {},
  ) {
    this.#batchItems = Math.max(1, Math.min(tuning.batchItems ?? MAX_BATCH_ITEMS, MAX_BATCH_ITEMS));
    this.#window = Math.max(1, tuning.window ?? 4);
    this.#ackTimeoutMs = tuning.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    this.#retryMs = tuning.retryMs ?? RETRY_MS;
  }

  /** Batches sent and not yet answered (for tests and metrics). */
  get inFlight(): number {
    return this.#inFlight.length;
  }

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
      // Unanswered batches may or may not be stored: everything still in the outbox goes again.
      this.#forgetWindow();
      // A server that closed the connection itself is not retried by socket.io-client.
      if (reason === 'io server disconnect') this.#scheduleRetry();
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
    this.#retry = null;
    this.#forgetWindow();
    if (this.#clockTimer) clearInterval(this.#clockTimer);
    this.#socket?.disconnect();
    this.#socket = null;
    this.metrics.uplinkConnected.set(0);
  }

  /**
   * Tells the server about an alarm the moment it is decided, before it is durable: the server
   * shows it on the tablets at once as provisional. Only while connected (not buffered for a later
   * connection: by then the outbox delivers it); not `volatile`, which would also drop it whenever
   * the previous frame (a batch) is still being written. The outbox delivers the same decision,
   * which is what stores it.
   */
  announce(decision: AlarmDecision): void {
    const socket = this.#socket;
    if (socket === null || !socket.connected) return;
    socket.emit('alarmDecided', decision);
    this.metrics.alarmsAnnounced.inc();
  }

  /**
   * Sends what is in the outbox; safe to call at any time and often (calls in one turn send once).
   * It waits until the outbox's open batch has committed and everyone waiting on that commit has
   * run (the PUBACKs, the local alarm publish): an alarm never reaches the server before the
   * on-site consumers were given it.
   */
  flush(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    this.outbox.afterCommit(() =>
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      }),
    );
  }

  /** Fills the window with the next batches after the last one sent. */
  #pump(): void {
    const socket = this.#socket;
    if (socket === null || !socket.connected || this.#retry !== null) return;
    while (this.#inFlight.length < this.#window) {
      const batch = this.outbox.peekJson(this.#batchItems, this.#sentUpTo);
      if (batch.length === 0) return;
      const sent: InFlight = { first: batch[0]?.seq ?? 0, last: batch[batch.length - 1]?.seq ?? 0 };
      this.#sentUpTo = sent.last;
      this.#inFlight.push(sent);
      const attempt = this.#attempt;
      // Only the seqs wait for the answer (to name a rejected item).
      const seqs = batch.map((entry) => entry.seq);
      // The items as the outbox stores them (JSON text), joined into one JSON array and sent as a
      // binary attachment: nothing parsed and serialised again on the event loop (the server parses it).
      const payload = Buffer.from(`[${batch.map((entry) => entry.json).join(',')}]`);
      socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('batch', payload)
        .then(
          (result) => this.#answered(attempt, sent, seqs, result),
          (error: unknown) => this.#failed(attempt, `batch not acknowledged: ${(error as Error).message}`),
        );
    }
  }

  #answered(attempt: number, sent: InFlight, seqs: number[], result: BatchAck): void {
    if (!result.ok) {
      this.#failed(attempt, `server refused the batch: ${result.error ?? 'no reason given'}`);
      return;
    }
    for (const rejection of result.rejected) {
      this.logger.error({ seq: seqs[rejection.index] ?? 0, error: rejection.error }, 'server rejected an outbox item; dropped');
    }
    // Stored (or rejected for good): these rows go, also when the answer belongs to an older attempt.
    this.outbox.remove(sent.first, sent.last);
    if (attempt !== this.#attempt) return;
    const index = this.#inFlight.indexOf(sent);
    if (index >= 0) this.#inFlight.splice(index, 1);
    this.flush();
  }

  #failed(attempt: number, reason: string): void {
    if (attempt !== this.#attempt) return;
    this.logger.warn({ reason }, 'uplink batch failed; sending everything unacknowledged again');
    this.#forgetWindow();
    this.#scheduleRetry();
  }

  /** Forgets the batches in flight: the next pump starts again from the oldest row in the outbox. */
  #forgetWindow(): void {
    this.#attempt++;
    this.#inFlight = [];
    this.#sentUpTo = 0;
  }

  #scheduleRetry(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.flush();
    }, this.#retryMs);
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
