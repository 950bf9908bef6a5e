/** Messages per second and burst of one client's token bucket. */
export interface RateLimit {
  messagesPerSecond: number;
  burst: number;
}

/**
 * What to do with one message: pass it on; hold a QoS 1/2 message back for `delayMs` (it stays
 * unacknowledged meanwhile); drop a QoS 0 one; or disconnect the client that keeps flooding.
 * `report` is set when a log line is due: messages held back or dropped since the last one.
 */
export type RateVerdict =
  | { action: 'accept' }
  | { action: 'delay'; delayMs: number; report?: number }
  | { action: 'drop'; report?: number }
  | { action: 'disconnect'; over: number };

interface Bucket {
  limit: RateLimit;
  /** Below zero: QoS 1 messages already promised to later refills (each waits for its token). */
  tokens: number;
  updated: number;
  /** Start of the current window and the QoS 0 messages dropped in it. */
  windowStart: number;
  droppedInWindow: number;
  lastReport: number;
  overSinceReport: number;
}

/** How long QoS 0 drops are counted before a client counts as flooding, and how often one is logged. */
const WINDOW_MS = 10_000;

/**
 * One token bucket per client, so one broken sensor cannot drown the ward: up to `burst` messages
 * at once, `messagesPerSecond` sustained. Over the limit, a QoS 0 message is dropped (at most once
 * delivery allows it); a QoS 1 or 2 message is held back until its token is due, so nothing the
 * broker acknowledges is lost and the client is slowed by TCP backpressure. A client is
 * disconnected when `disconnectAfter` QoS 0 messages were dropped within 10 s, or when that many
 * QoS 1 messages would be waiting. Buckets are kept by key (the user name, else the client id),
 * so reconnecting does not refill a flooder's bucket.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: RateLimit & { disconnectAfter: number },
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string, qos: 0 | 1 | 2, limit: RateLimit = this.defaults): RateVerdict {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = {
        limit,
        tokens: limit.burst,
        updated: now,
        windowStart: now,
        droppedInWindow: 0,
        lastReport: Number.NEGATIVE_INFINITY,
        overSinceReport: 0,
      };
      this.#buckets.set(key, bucket);
    }
    bucket.limit = limit;
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updated) / 1000) * limit.messagesPerSecond);
    bucket.updated = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { action: 'accept' };
    }
    const disconnectAfter = this.defaults.disconnectAfter;
    if (qos > 0) {
      const waiting = -bucket.tokens; // messages already waiting for a token
      if (waiting + 1 >= disconnectAfter) return { action: 'disconnect', over: Math.ceil(waiting + 1) };
      bucket.tokens -= 1;
      // Due when the refill brings the bucket back to zero.
      const delayMs = (-bucket.tokens / limit.messagesPerSecond) * 1000;
      return { action: 'delay', delayMs, ...this.#report(bucket, now) };
    }
    if (now - bucket.windowStart >= WINDOW_MS) {
      bucket.windowStart = now;
      bucket.droppedInWindow = 0;
    }
    bucket.droppedInWindow++;
    if (bucket.droppedInWindow >= disconnectAfter) {
      const over = bucket.droppedInWindow;
      bucket.windowStart = now;
      bucket.droppedInWindow = 0;
      return { action: 'disconnect', over };
    }
    return { action: 'drop', ...this.#report(bucket, now) };
  }

  #report(bucket: Bucket, now: number): { report?: number } {
    bucket.overSinceReport++;
    if (now - bucket.lastReport < WINDOW_MS) return {};
    const report = bucket.overSinceReport;
    bucket.lastReport = now;
    bucket.overSinceReport = 0;
    return { report };
  }

  /** Forgets buckets that have refilled and stopped dropping: a new one would be the same. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.#buckets) {
      const refilled = bucket.tokens + ((now - bucket.updated) / 1000) * bucket.limit.messagesPerSecond >= bucket.limit.burst;
      if (refilled && now - bucket.windowStart >= WINDOW_MS) this.#buckets.delete(key);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}

/** At most one log line per key and interval, so a misbehaving client cannot flood the log either. */
export class LogThrottle {
  readonly #last = new Map<string, number>();

  constructor(
    private readonly intervalMs = WINDOW_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  allow(key: string): boolean {
    const now = this.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.#last.size > 10_000) this.#last.clear(); // bounded even if every key is new
    this.#last.set(key, now);
    return true;
  }
}
