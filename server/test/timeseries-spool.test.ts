import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableSpool } from '../src/stores/timeseries/durable-spool.js';
import { InfluxTimeSeriesStore } from '../src/stores/timeseries/influx-time-series.js';

const T0 = Date.parse('2026-11-24T23:00:00.000Z');
const event = (id: string, ms: number, extra: Partial<SensorEvent> = {}): SensorEvent => ({
  id,
  siteId: 'site-a',
  sensorId: 'door-1',
  sensorKind: 'door',
  roomId: 'room-1',
  time: new Date(ms).toISOString(),
  open: true,
  format: 'native',
  raw: `{"id":"${id}"}`,
  ...extra,
});

/** A scripted `/api/v2/write` + `/query` endpoint: answers writes with the next status, records bodies. */
interface FakeEngine {
  url: string;
  writes: { status: number; lines: string[] }[];
  statuses: number[];
  close(): Promise<void>;
}
async function fakeEngine(statuses: number[], reject: (line: string) => boolean = () => false): Promise<FakeEngine> {
  const engine = { writes: [] as { status: number; lines: string[] }[], statuses } as FakeEngine;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/query')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: [{ statement_id: 0 }] }));
        return;
      }
      const body = Buffer.concat(chunks);
      const lines = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString().split('\n');
      const status = lines.some(reject) ? 400 : (engine.statuses.shift() ?? 204);
      engine.writes.push({ status, lines });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 ? undefined : JSON.stringify({ code: 'x', message: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  engine.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  engine.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return engine;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const tempSpool = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-spool-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'spool.db');
};
const until = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('durable spool', () => {
  it('persists appended events and accepted ids across reopen, and drops them only on ack', () => {
    const path = tempSpool();
    const first = new DurableSpool(path);
    expect(first.append([event('a', T0), event('b', T0 + 1), event('a', T0)])).toBe(2);
    first.close();
    const second = new DurableSpool(path);
    cleanups.push(() => second.close());
    expect(second.depth()).toBe(2);
    expect(second.append([event('a', T0)])).toBe(0);
    const [a] = second.peek(1);
    expect(a?.event).toEqual(event('a', T0));
    second.ack([a?.seq ?? -1]);
    expect(second.peek(10).map((s) => s.event.id)).toEqual(['b']);
    expect(second.pending('site-a', T0, T0 + 10, 10).map((e) => e.id)).toEqual(['b']);
    expect(second.pruneSeen(Date.now() + 1)).toBe(2);
    expect(second.append([event('a', T0)])).toBe(1); // forgotten after the retention window
  });
});

describe('InfluxTimeSeriesStore drain (scripted engine)', () => {
  it('drains in the background, batching writes, in line protocol with ms timestamps', async () => {
    const engine = await fakeEngine([]);
    cleanups.push(() => engine.close());
    const store = new InfluxTimeSeriesStore({ url: engine.url, org: 'o', bucket: 'b', spoolPath: tempSpool(), flushDelayMs: 50 });
    cleanups.push(() => store.close());
    await store.write([event('a', T0)]);
    await store.write([event('b', T0 + 1, { residentId: 'res-1', open: false, battery: 12 })]);
    expect(store.spoolDepth()).toBe(2);
    await until(() => store.spoolDepth() === 0);
    expect(engine.writes).toHaveLength(1);
    expect(engine.writes[0]?.lines).toEqual([
      `sensor_event,format=native,kind=door,room=room-1,sensor=door-1,site=site-a event_id="a",open=1i ${T0}`,
      `sensor_event,format=native,kind=door,resident=res-1,room=room-1,sensor=door-1,site=site-a battery=12i,event_id="b",open=0i ${T0 + 1}`,
    ]);
  });

  it('retries with backoff until the engine accepts, keeping events spooled (and readable) meanwhile', async () => {
    const engine = await fakeEngine([503, 503, 500]);
    cleanups.push(() => engine.close());
    const warnings: object[] = [];
    const store = new InfluxTimeSeriesStore({
      url: engine.url,
      org: 'o',
      bucket: 'b',
      spoolPath: tempSpool(),
      flushDelayMs: 0,
      minRetryDelayMs: 40,
      maxRetryDelayMs: 200,
      logger: { warn: (o) => warnings.push(o), error: () => {} },
    });
    cleanups.push(() => store.close());
    const started = Date.now();
    await store.write([event('a', T0)]);
    // Until delivered, reads merge the spool: the event is there, raw payload included.
    expect(await store.range('site-a', new Date(T0), new Date(T0 + 1))).toEqual([event('a', T0)]);
    await until(() => store.spoolDepth() === 0);
    expect(engine.writes.map((w) => w.status)).toEqual([503, 503, 500, 204]);
    expect(warnings.map((w) => (w as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    // Backoff 40, 80, 160 ms with jitter in [½, 1]: at least 140 ms in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(store.lastError).toBeUndefined();
  });

  it('dead-letters an event the engine rejects as malformed and delivers the rest of its batch', async () => {
    const engine = await fakeEngine([], (line) => line.includes('event_id="bad"'));
    cleanups.push(() => engine.close());
    const errors: object[] = [];
    const store = new InfluxTimeSeriesStore({
      url: engine.url,
      org: 'o',
      bucket: 'b',
      spoolPath: tempSpool(),
      flushDelayMs: 10_000,
      logger: { warn: () => {}, error: (o) => errors.push(o) },
    });
    cleanups.push(() => store.close());
    await store.write([event('a', T0), event('bad', T0 + 1), event('c', T0 + 2)]);
    await store.flush();
    expect(store.spoolDepth()).toBe(0);
    expect(engine.writes.map((w) => [w.status, w.lines.length])).toEqual([
      [400, 3],
      [204, 1],
      [400, 1],
      [204, 1],
    ]);
    expect(errors).toHaveLength(1);
  });

  it('leaves undelivered events in the spool on close and sends them from the next instance', async () => {
    const engine = await fakeEngine([503, 503, 503, 503, 503, 503]);
    cleanups.push(() => engine.close());
    const path = tempSpool();
    const first = new InfluxTimeSeriesStore({
      url: engine.url,
      org: 'o',
      bucket: 'b',
      spoolPath: path,
      flushDelayMs: 0,
      closeTimeoutMs: 100,
    });
    await first.write([event('a', T0), event('b', T0 + 1)]);
    await first.close();
    await expect(first.write([event('c', T0)])).rejects.toThrow(/closed/);
    engine.statuses.length = 0;
    const second = new InfluxTimeSeriesStore({ url: engine.url, org: 'o', bucket: 'b', spoolPath: path, flushDelayMs: 0 });
    cleanups.push(() => second.close());
    await until(() => second.spoolDepth() === 0);
    expect(engine.writes.at(-1)).toEqual({
      status: 204,
      lines: [expect.stringContaining('event_id="a"'), expect.stringContaining('event_id="b"')],
    });
  });
});
