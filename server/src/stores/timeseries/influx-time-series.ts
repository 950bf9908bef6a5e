import { HttpError, InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { DurableSpool, type SpooledEvent } from './durable-spool.js';
import type { RangeOptions, TimeSeriesStore } from './time-series-store.js';

/** The measurement every sensor event is one point of. */
export const MEASUREMENT = 'sensor_event';
/** `raw` is not stored in InfluxDB (audit payloads stay in the gateway/relational store): reads return this. */
export const RAW_NOT_STORED = '';

export interface InfluxTimeSeriesOptions {
  /** Base URL of the engine, e.g. http://influxdb:8086 (no `/api/v2`). */
  url: string;
  /** API token (2.x / 3.x); `user:password` for 1.8 with auth; omitted when auth is off. */
  token?: string;
  /** Organisation (2.x); any non-empty string for 1.8 / 3.x / VictoriaMetrics. */
  org: string;
  /** Bucket (2.x), database (3.x), or `db/rp` (1.8). */
  bucket: string;
  /** InfluxQL database for `/query`; defaults to the bucket (before a `/`). 2.x needs a DBRP mapping for it. */
  database?: string;
  /** InfluxQL retention policy; defaults to the part of the bucket after a `/`, else the database default. */
  retentionPolicy?: string;
  /** The spool's SQLite file, under the data dir. */
  spoolPath: string;
  /** Wait this long after a write before sending, to batch (default 1000 ms). */
  flushDelayMs?: number;
  /** Points per HTTP write (default 500). */
  batchSize?: number;
  /** Backoff after a failed send: doubles from min to max, with jitter (defaults 1 s, 60 s). */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** How long accepted ids are remembered to answer "how many were new" (default 7 days). */
  seenRetentionMs?: number;
  /** HTTP timeout for writes and queries (default 10 s). */
  timeoutMs?: number;
  /** How long `close()` tries to drain the spool before leaving the rest for the next start (default 2 s). */
  closeTimeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const bit = (v: boolean) => (v ? 1 : 0);

/**
 * One event as one point. Series = measurement + tags (site, sensor, kind, room, resident, format),
 * timestamp = event time in ms: the same event written twice is the same point, so a re-send
 * after a lost acknowledgement overwrites it with identical values (idempotent).
 *
 * The event id is a *string field* `event_id`, not a tag: a per-event tag would make every event
 * its own series (unbounded cardinality in 1.x/2.x TSI and 3.x), and InfluxDB 3 forbids a tag and
 * a field sharing a name (`event_id` is neither `id` nor any tag). VictoriaMetrics turns string
 * fields into 0, so there `sensor_event_event_id` is just a per-event marker sample with value 0.
 * Consequence: two different events of the same sensor in the same millisecond are one point
 * (the later write wins), an accepted limit for one physical sensor.
 */
export function toPoint(e: SensorEvent): Point {
  const p = new Point(MEASUREMENT)
    .tag('site', e.siteId)
    .tag('sensor', e.sensorId)
    .tag('kind', e.sensorKind)
    .tag('room', e.roomId)
    .tag('format', e.format)
    .stringField('event_id', e.id)
    .timestamp(Date.parse(e.time));
  if (e.residentId !== undefined) p.tag('resident', e.residentId);
  if (e.occupied !== undefined) p.intField('occupied', bit(e.occupied));
  if (e.open !== undefined) p.intField('open', bit(e.open));
  if (e.online !== undefined) p.intField('online', bit(e.online));
  if (e.tamper !== undefined) p.intField('tamper', bit(e.tamper));
  if (e.batteryLow !== undefined) p.intField('battery_low', bit(e.batteryLow));
  if (e.battery !== undefined) p.intField('battery', e.battery);
  if (e.linkquality !== undefined) p.intField('linkquality', e.linkquality);
  if (e.sensorTime !== undefined) p.intField('sensor_time_ms', Date.parse(e.sensorTime));
  return p;
}

type Cell = string | number | boolean | null;

/** An InfluxQL row (`SELECT *`, epoch=ms) back to a SensorEvent; undefined when it is not one of ours. */
export function fromRow(row: Record<string, Cell>): SensorEvent | undefined {
  const str = (k: string) => (typeof row[k] === 'string' && row[k] !== '' ? (row[k] as string) : undefined);
  const num = (k: string) => (typeof row[k] === 'number' ? (row[k] as number) : undefined);
  const flag = (k: string) => (typeof row[k] === 'number' ? row[k] === 1 : typeof row[k] === 'boolean' ? (row[k] as boolean) : undefined);
  const id = str('event_id');
  const siteId = str('site');
  const sensorId = str('sensor');
  const kind = str('kind');
  const roomId = str('room');
  const format = str('format');
  const time = typeof row.time === 'number' ? row.time : typeof row.time === 'string' ? Date.parse(row.time) : Number.NaN;
  if (!id || !siteId || !sensorId || !roomId || Number.isNaN(time)) return undefined;
  if (kind !== 'bed' && kind !== 'door') return undefined;
  if (format !== 'native' && format !== 'zigbee2mqtt') return undefined;
  const event: SensorEvent = {
    id,
    siteId,
    sensorId,
    sensorKind: kind,
    roomId,
    time: new Date(time).toISOString(),
    format,
    raw: RAW_NOT_STORED,
  };
  const residentId = str('resident');
  if (residentId !== undefined) event.residentId = residentId;
  const sensorTime = num('sensor_time_ms');
  if (sensorTime !== undefined) event.sensorTime = new Date(sensorTime).toISOString();
  for (const [key, column] of [
    ['occupied', 'occupied'],
    ['open', 'open'],
    ['online', 'online'],
    ['tamper', 'tamper'],
    ['batteryLow', 'battery_low'],
  ] as const) {
    const v = flag(column);
    if (v !== undefined) event[key] = v;
  }
  const battery = num('battery');
  if (battery !== undefined) event.battery = battery;
  const linkquality = num('linkquality');
  if (linkquality !== undefined) event.linkquality = linkquality;
  return event;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const ident = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** HTTP statuses after which the same batch will never succeed: bisect and dead-letter instead of retrying. */
const permanent = (error: unknown) => error instanceof HttpError && [400, 413, 422].includes(error.statusCode);

/**
 * The InfluxDB adapter. Writes: `write()` appends to a durable SQLite spool and returns; a
 * background drain sends batches through `@influxdata/influxdb-client`'s WriteApi
 * (`/api/v2/write`, precision ms) and deletes them from the spool only after the client reports
 * success. The client's own retry buffer is off (`maxRetries: 0`, it lives in memory only):
 * the spool retries with exponential backoff and jitter, across restarts.
 * Reads: InfluxQL `SELECT *` over `/query` (plain fetch, JSON), merged with events still in the
 * spool so a reader sees its own writes. `raw` is not stored in InfluxDB: it reads back as ''.
 */
export class InfluxTimeSeriesStore implements TimeSeriesStore {
  readonly #spool: DurableSpool;
  readonly #writeApi: WriteApi;
  readonly #options: Required<Omit<InfluxTimeSeriesOptions, 'token' | 'logger' | 'database' | 'retentionPolicy'>> &
    Pick<InfluxTimeSeriesOptions, 'token' | 'logger'>;
  readonly #database: string;
  readonly #retentionPolicy: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #current: Promise<void> | undefined;
  #failures = 0;
  #lastPrune = 0;
  #closed = false;
  /** The last send error, for health/diagnostics; cleared on success. */
  lastError: Error | undefined;

  constructor(options: InfluxTimeSeriesOptions) {
    this.#options = {
      flushDelayMs: 1000,
      batchSize: 500,
      minRetryDelayMs: 1000,
      maxRetryDelayMs: 60_000,
      seenRetentionMs: 7 * 24 * 3600_000,
      timeoutMs: 10_000,
      closeTimeoutMs: 2000,
      ...options,
      url: options.url.replace(/\/+$/, ''),
    };
    const [db, rp] = options.bucket.split('/', 2) as [string, string | undefined];
    this.#database = options.database ?? db;
    this.#retentionPolicy = options.retentionPolicy ?? rp;
    this.#spool = new DurableSpool(options.spoolPath);
    const client = new InfluxDB({ url: this.#options.url, token: options.token, timeout: this.#options.timeoutMs });
    this.#writeApi = client.getWriteApi(options.org, options.bucket, 'ms', {
      batchSize: this.#options.batchSize + 1, // never auto-flushes: the drain calls flush() per batch
      flushInterval: 0,
      maxRetries: 0,
      // Reject flush() without the client's console logging and without its in-memory retry buffer.
      writeFailed: (error: Error) => Promise.reject(error),
    });
    this.#prune();
    if (this.#spool.depth() > 0) this.#schedule(0); // left over from the last run
  }

  async write(events: SensorEvent[]): Promise<number> {
    if (this.#closed) throw new Error('time-series store is closed');
    const added = this.#spool.append(events);
    if (added > 0) this.#schedule(this.#options.flushDelayMs);
    return added;
  }

  async range(siteId: string, from: Date, to: Date, limit = 10_000, options: RangeOptions = {}): Promise<SensorEvent[]> {
    const sensors = options.sensors === undefined ? undefined : new Set([...options.sensors].slice(0, 100));
    if (sensors?.size === 0) return [];
    const pending = this.#spool
      .pending(siteId, from.getTime(), to.getTime(), sensors === undefined ? limit : Number.MAX_SAFE_INTEGER)
      .filter((e) => sensors === undefined || sensors.has(e.sensorId));
    const bySensor = sensors === undefined ? '' : ` AND (${[...sensors].map((s) => `${ident('sensor')} = ${quote(s)}`).join(' OR ')})`;
    const stored = await this.#query(
      `SELECT * FROM ${this.#retentionPolicy ? `${ident(this.#retentionPolicy)}.` : ''}${ident(MEASUREMENT)}` +
        ` WHERE ${ident('site')} = ${quote(siteId)}${bySensor} AND time >= ${quote(from.toISOString())} AND time < ${quote(to.toISOString())}` +
        ` ORDER BY time ASC LIMIT ${Math.max(0, Math.floor(limit))}`,
    );
    const byId = new Map<string, SensorEvent>();
    for (const e of stored) byId.set(e.id, e);
    for (const e of pending) byId.set(e.id, e); // the spool still has `raw`
    return [...byId.values()].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)).slice(0, limit);
  }

  /**
   * Retention: deletes every `sensor_event` point before `before`. The spool is drained first, so
   * nothing older arrives after the delete. InfluxDB 2.x and 1.8+ take `/api/v2/delete` (start and
   * stop are inclusive, so stop is one nanosecond before `before`); an engine without that endpoint
   * (1.7 and older answer 404) gets InfluxQL `DELETE … WHERE time < …` over `/query`. InfluxDB 3
   * supports neither: there the database's own retention period must do it, and this rejects.
   */
  async deleteBefore(before: Date): Promise<void> {
    if (this.#closed) throw new Error('time-series store is closed');
    this.#clearTimer();
    try {
      await this.#run();
    } finally {
      if (!this.#spool.closed && this.#spool.depth() > 0) this.#schedule(0);
    }
    // Dead letters hold raw events too: kept for inspection no longer than the events themselves.
    if (!this.#spool.closed) this.#spool.pruneDeadLetters(before.getTime());
    const stop = `${new Date(before.getTime() - 1).toISOString().slice(0, -1)}999999Z`;
    const params = new URLSearchParams({ org: this.#options.org, bucket: this.#options.bucket });
    const v2 = await fetch(`${this.#options.url}/api/v2/delete?${params}`, {
      method: 'POST',
      headers: { ...this.#auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop, predicate: `_measurement="${MEASUREMENT}"` }),
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    if (v2.ok) return;
    const v2Text = await v2.text();
    if (v2.status !== 404 && v2.status !== 405) throw new Error(`InfluxDB delete failed: HTTP ${v2.status}: ${v2Text.slice(0, 500)}`);
    const q = `DELETE FROM ${ident(MEASUREMENT)} WHERE time < ${quote(before.toISOString())}`;
    const v1 = await fetch(`${this.#options.url}/query?${new URLSearchParams({ db: this.#database, q })}`, {
      method: 'POST',
      headers: { ...this.#auth(), Accept: 'application/json' },
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    const v1Text = await v1.text();
    const error = v1.ok ? (JSON.parse(v1Text) as { results?: { error?: string }[] }).results?.find((r) => r.error)?.error : v1Text;
    if (!v1.ok || error !== undefined)
      throw new Error(
        `InfluxDB has neither /api/v2/delete (HTTP ${v2.status}) nor InfluxQL DELETE (${v1.status}: ${String(error).slice(0, 300)}): set a retention period on the database instead`,
      );
  }

  /** Events accepted but not yet confirmed by the engine (export as a gauge). */
  spoolDepth(): number {
    return this.#spool.closed ? 0 : this.#spool.depth();
  }

  /** Sends everything spooled now; rejects with the engine's error if a batch fails (tests, shutdown). */
  async flush(): Promise<void> {
    this.#clearTimer();
    await this.#run();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    if (this.#spool.depth() > 0 || this.#current !== undefined) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#run().catch(() => {}),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, this.#options.closeTimeoutMs);
        }),
      ]);
      clearTimeout(timeout);
    }
    this.#writeApi.dispose();
    this.#spool.close(); // what is left is sent at the next start
  }

  #schedule(delayMs: number): void {
    if (this.#closed && delayMs > 0) return;
    const due = Date.now() + delayMs;
    if (this.#timer !== undefined && this.#timerDue <= due) return;
    this.#clearTimer();
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run().then(
        () => {
          this.#failures = 0;
          this.lastError = undefined;
          if (!this.#spool.closed && this.#spool.depth() > 0) this.#schedule(0);
        },
        (error: Error) => {
          if (this.#spool.closed) return;
          this.#failures++;
          this.lastError = error;
          const { minRetryDelayMs: min, maxRetryDelayMs: max } = this.#options;
          const backoff = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 30));
          const delay = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
          this.#options.logger?.warn(
            { err: error, attempt: this.#failures, retryInMs: delay, spoolDepth: this.#spool.depth() },
            'time-series write failed',
          );
          this.#schedule(delay);
        },
      );
    }, delayMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One drain pass at a time; concurrent callers share it. */
  #run(): Promise<void> {
    this.#current ??= this.#drain().finally(() => {
      this.#current = undefined;
    });
    return this.#current;
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#spool.closed) return;
      const batch = this.#spool.peek(this.#options.batchSize);
      if (batch.length === 0) break;
      try {
        await this.#send(batch);
        if (this.#spool.closed) return; // closed mid-send: resent (idempotently) at the next start
        this.#spool.ack(batch.map((b) => b.seq));
      } catch (error) {
        if (!permanent(error)) throw error;
        // A malformed point poisons its batch: send one by one, dead-letter what still fails.
        for (const item of batch) {
          try {
            await this.#send([item]);
            if (this.#spool.closed) return;
            this.#spool.ack([item.seq]);
          } catch (single) {
            if (!permanent(single)) throw single;
            this.#options.logger?.error({ err: single, eventId: item.event.id }, 'time-series engine rejected an event: dead-lettered');
            this.#spool.deadLetter(item, (single as Error).message);
          }
        }
      }
    }
    this.#prune();
  }

  async #send(batch: SpooledEvent[]): Promise<void> {
    this.#writeApi.writePoints(batch.map((b) => toPoint(b.event)));
    await this.#writeApi.flush();
  }

  #prune(): void {
    const now = Date.now();
    if (now - this.#lastPrune < 60_000 || this.#spool.closed) return;
    this.#lastPrune = now;
    this.#spool.pruneSeen(now - this.#options.seenRetentionMs);
  }

  #auth(): Record<string, string> {
    return this.#options.token ? { Authorization: `Token ${this.#options.token}` } : {};
  }

  async #query(q: string): Promise<SensorEvent[]> {
    const params = new URLSearchParams({ db: this.#database, q, epoch: 'ms' });
    if (this.#retentionPolicy) params.set('rp', this.#retentionPolicy);
    const headers: Record<string, string> = { Accept: 'application/json', ...this.#auth() };
    const response = await fetch(`${this.#options.url}/query?${params}`, { headers, signal: AbortSignal.timeout(this.#options.timeoutMs) });
    const text = await response.text();
    if (!response.ok) throw new Error(`InfluxQL query failed: HTTP ${response.status}: ${text.slice(0, 500)}`);
    const body = JSON.parse(text) as {
      error?: string;
      results?: { error?: string; series?: { columns: string[]; values: Cell[][] }[] }[];
    };
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (error !== undefined) throw new Error(`InfluxQL query failed: ${error}`);
    const events: SensorEvent[] = [];
    for (const result of body.results ?? [])
      for (const series of result.series ?? [])
        for (const values of series.values) {
          const event = fromRow(Object.fromEntries(series.columns.map((c, i) => [c, values[i] ?? null])));
          if (event !== undefined) events.push(event);
        }
    return events;
  }
}
