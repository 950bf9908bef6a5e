/**
 * The InfluxDB adapter's retention requests, against small HTTP engines that answer as InfluxDB 2.x
 * (`/api/v2/delete`) and InfluxDB 3 (neither delete) do; the 1.x InfluxQL path runs against a real
 * influxd in the contract suite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxTimeSeriesStore } from '../src/stores/timeseries/influx-time-series.js';

interface Request {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function engine(
  answer: (r: Request) => { status: number; body?: string },
): Promise<{ url: string; requests: Request[]; close(): Promise<void> }> {
  const requests: Request[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(r);
      const { status, body } = answer(r);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const spoolPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-retention-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'spool.db');
};

describe('InfluxDB adapter: deleteBefore', () => {
  it('asks InfluxDB 2.x to delete sensor_event points up to one nanosecond before the cutoff, with the token', async () => {
    const e = await engine((r) => ({ status: r.url.startsWith('/api/v2/delete') ? 204 : 404 }));
    cleanups.push(() => e.close());
    const store = new InfluxTimeSeriesStore({
      url: e.url,
      org: 'kommune',
      bucket: 'nattevakt',
      token: 'secret-token',
      spoolPath: spoolPath(),
    });
    cleanups.push(() => store.close());
    await store.deleteBefore(new Date('2026-10-26T09:00:00.000Z'));
    expect(e.requests).toHaveLength(1);
    const [r] = e.requests;
    expect(r?.method).toBe('POST');
    expect(r?.url).toBe('/api/v2/delete?org=kommune&bucket=nattevakt');
    expect(r?.headers.authorization).toBe('Token secret-token');
    expect(JSON.parse(r?.body ?? '')).toEqual({
      start: '1970-01-01T00:00:00Z',
      stop: '2026-10-26T08:59:59.999999999Z',
      predicate: '_measurement="sensor_event"',
    });
  });

  it('says what to do on an engine with neither /api/v2/delete nor InfluxQL DELETE (InfluxDB 3)', async () => {
    const e = await engine((r) =>
      r.url.startsWith('/query')
        ? { status: 400, body: '{"error":"DELETE is not supported"}' }
        : { status: 404, body: '{"error":"not found"}' },
    );
    cleanups.push(() => e.close());
    const store = new InfluxTimeSeriesStore({ url: e.url, org: 'o', bucket: 'nattevakt', spoolPath: spoolPath() });
    cleanups.push(() => store.close());
    await expect(store.deleteBefore(new Date('2026-10-26T09:00:00Z'))).rejects.toThrow(/set a retention period on the database instead/);
    expect(new URL(e.requests[1]?.url ?? '', e.url).searchParams.get('q')).toBe(
      `DELETE FROM "sensor_event" WHERE time < '2026-10-26T09:00:00.000Z'`,
    );
  });

  it('drops dead letters older than the cutoff with the raw events', async () => {
    const e = await engine((r) => ({ status: r.url.startsWith('/api/v2/write') ? 400 : 204, body: '{"code":"invalid","message":"bad"}' }));
    cleanups.push(() => e.close());
    const path = spoolPath();
    const store = new InfluxTimeSeriesStore({
      url: e.url,
      org: 'o',
      bucket: 'b',
      spoolPath: path,
      flushDelayMs: 60_000,
      logger: { warn() {}, error() {} },
    });
    cleanups.push(() => store.close());
    const event = {
      id: 'x',
      siteId: 's',
      sensorId: 'bed-1',
      sensorKind: 'bed' as const,
      roomId: 'r',
      time: '2026-11-24T22:00:00.000Z',
      occupied: true,
      format: 'native' as const,
      raw: '{"secret":1}',
    };
    await store.write([event]);
    await store.flush();
    const deadLetters = () => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM dead_letter').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(deadLetters()).toBe(1);
    await store.deleteBefore(new Date(Date.now() - 60_000));
    expect(deadLetters()).toBe(1);
    await store.deleteBefore(new Date(Date.now() + 1000));
    expect(deadLetters()).toBe(0);
  });
});
