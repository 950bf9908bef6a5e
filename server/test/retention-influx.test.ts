import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfluxTimeSeriesStore } from '../src/stores/timeseries/influx-time-series.js';
import { sqlite } from './support/databases.js';
import { oslo, recordedNights } from './support/nights.js';
import { influxql, type RunningEngine, requireBinary, startInfluxd, v2WriteShim } from './support/timeseries-servers.js';

const influxd = requireBinary('influxd', 'influxdb');
describe.skipIf(influxd === undefined)('retention on the InfluxDB adapter against influxd 1.x', () => {
  let engine: RunningEngine;
  let shim: { url: string; close(): Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-retention-'));
  beforeAll(async () => {
    engine = await startInfluxd(influxd as string);
    await influxql(engine.url, 'CREATE DATABASE nattevakt');
    shim = await v2WriteShim(engine.url);
  });
  afterAll(async () => {
    await shim?.close();
    await engine?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('summarises the nights from InfluxDB, then deletes the raw events there; the summaries stay', async () => {
    const { server, clock } = await recordedNights(sqlite, {
      dataDir: dir,
      influx: { url: shim.url, org: 'nattevakt', bucket: 'nattevakt' },
      retention: { intervalMs: 0, rawEventDays: 2 },
    });
    try {
      const window = [new Date(oslo('2026-11-24', '00:00')), new Date(oslo('2026-11-26', '00:00'))] as const;
      // The events are in the engine, not only in the spool.
      await (server.timeSeries as InfluxTimeSeriesStore).flush();
      const stored = (await influxql(engine.url, 'SELECT count(event_id) FROM sensor_event', 'nattevakt')) as {
        results: { series?: { values: number[][] }[] }[];
      };
      expect(stored.results[0]?.series?.[0]?.values[0]?.[1]).toBe(11);
      clock.set(oslo('2026-11-28', '09:00'));
      expect(await server.retention.run()).toMatchObject({ deleted: true, summarised: 2 });
      // Read back from the engine itself: nothing left before the cutoff.
      const left = (await influxql(engine.url, 'SELECT count(event_id) FROM sensor_event', 'nattevakt')) as {
        results: { series?: unknown[] }[];
      };
      expect(left.results[0]?.series).toBeUndefined();
      expect(await server.timeSeries.range('demo', ...window)).toEqual([]);
      const [summary] = await server.nights.list('demo', 'res-1', '2026-11-24', '2026-11-24');
      expect(summary).toMatchObject({ timeInBedMinutes: 534, bedExits: 1, doorOpenings: 1, verdict: 'calm' });
    } finally {
      await server.app.close();
    }
  });
});
