import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { InfluxTimeSeriesStore } from '../src/stores/timeseries/influx-time-series.js';
import { SqliteTimeSeriesStore } from '../src/stores/timeseries/sqlite-time-series.js';
import { timeSeriesContract } from '../src/stores/timeseries/time-series-contract.js';
import { influxql, type RunningEngine, requireBinary, startInfluxd, v2WriteShim } from './support/timeseries-servers.js';

timeSeriesContract('embedded SQLite', async () => ({ store: new SqliteTimeSeriesStore(':memory:') }), { keepsRaw: true });

const influxd = requireBinary('influxd', 'influxdb');
describe.skipIf(influxd === undefined)('InfluxDB adapter against influxd 1.x (v2 write via shim, InfluxQL read)', () => {
  let engine: RunningEngine;
  let shim: { url: string; close(): Promise<void> };
  const dirs: string[] = [];
  beforeAll(async () => {
    engine = await startInfluxd(influxd as string);
    await influxql(engine.url, 'CREATE DATABASE nattevakt');
    shim = await v2WriteShim(engine.url);
  });
  afterAll(async () => {
    await shim?.close();
    await engine?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  timeSeriesContract(
    'InfluxDB (influxd 1.x)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nattevakt-spool-'));
      dirs.push(dir);
      const store = new InfluxTimeSeriesStore({
        url: shim.url,
        org: 'nattevakt',
        bucket: 'nattevakt',
        spoolPath: join(dir, 'spool.db'),
        flushDelayMs: 10,
      });
      return {
        store,
        // Drain the spool and insist it is empty, so every read below comes from InfluxQL, not from the spool.
        settle: async () => {
          await store.flush();
          if (store.spoolDepth() !== 0) throw new Error(`spool not drained: ${store.spoolDepth()}`);
        },
      };
    },
    { keepsRaw: false },
  );
});
