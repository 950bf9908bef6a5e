import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxTimeSeriesStore, RAW_NOT_STORED } from '../src/stores/timeseries/influx-time-series.js';
import {
  freePort,
  influxql,
  type RunningEngine,
  requireBinary,
  startInfluxd,
  startVictoriaMetrics,
  v2WriteShim,
} from './support/timeseries-servers.js';

const T0 = Date.parse('2026-11-24T23:00:00.000Z');
const dirs: string[] = [];
const spoolPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-spool-'));
  dirs.push(dir);
  return join(dir, 'spool.db');
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const bedEvent = (siteId: string, id: string, ms: number, extra: Partial<SensorEvent> = {}): SensorEvent => ({
  id,
  siteId,
  sensorId: 'bed-1',
  sensorKind: 'bed',
  roomId: 'room-1',
  residentId: 'res-1',
  time: new Date(ms).toISOString(),
  occupied: true,
  format: 'zigbee2mqtt',
  raw: '{"occupancy":true}',
  ...extra,
});

interface ExportLine {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

const vm = requireBinary('victoria-metrics', 'victoria-metrics');
describe.skipIf(vm === undefined)(
  'InfluxDB adapter write path against VictoriaMetrics (/api/v2/write, read back via /api/v1/export)',
  () => {
    let engine: RunningEngine;
    beforeAll(async () => {
      engine = await startVictoriaMetrics(vm as string);
    });
    afterAll(async () => {
      await engine?.stop();
    });

    const exported = async (site: string): Promise<ExportLine[]> => {
      await fetch(`${engine.url}/internal/force_flush`);
      const params = new URLSearchParams({ 'match[]': `{__name__=~"sensor_event_.*",site="${site}"}`, start: '0', end: '4000000000' });
      const text = await (await fetch(`${engine.url}/api/v1/export?${params}`)).text();
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ExportLine)
        .sort((a, b) => (a.metric.__name__ ?? '').localeCompare(b.metric.__name__ ?? ''));
    };

    it('writes one point per event: measurement_field metrics, categories as labels, 0/1 states, ms timestamps', async () => {
      const store = new InfluxTimeSeriesStore({
        url: engine.url,
        org: 'nattevakt',
        bucket: 'nattevakt',
        spoolPath: spoolPath(),
        flushDelayMs: 10,
      });
      const e = bedEvent('site-vm', 'evt-1', T0 + 123, { online: true, battery: 87, linkquality: 203, tamper: false, batteryLow: true });
      expect(await store.write([e])).toBe(1);
      await store.flush();
      expect(store.spoolDepth()).toBe(0);
      await store.close();

      const lines = await exported('site-vm');
      const byName = Object.fromEntries(lines.map((l) => [l.metric.__name__, l]));
      expect(Object.keys(byName).sort()).toEqual(
        ['battery', 'battery_low', 'event_id', 'linkquality', 'occupied', 'online', 'tamper'].map((f) => `sensor_event_${f}`),
      );
      const { __name__: _, db: _db, ...labels } = byName.sensor_event_occupied?.metric ?? {};
      expect(labels).toEqual({ site: 'site-vm', sensor: 'bed-1', kind: 'bed', room: 'room-1', resident: 'res-1', format: 'zigbee2mqtt' });
      const sample = (field: string) => ({
        values: byName[`sensor_event_${field}`]?.values,
        timestamps: byName[`sensor_event_${field}`]?.timestamps,
      });
      expect(sample('occupied')).toEqual({ values: [1], timestamps: [T0 + 123] });
      expect(sample('battery_low')).toEqual({ values: [1], timestamps: [T0 + 123] });
      expect(sample('tamper')).toEqual({ values: [0], timestamps: [T0 + 123] });
      expect(sample('battery')).toEqual({ values: [87], timestamps: [T0 + 123] });
      expect(sample('linkquality')).toEqual({ values: [203], timestamps: [T0 + 123] });
      // The string field is not kept by VictoriaMetrics: the event id becomes a 0-valued marker sample.
      expect(sample('event_id')).toEqual({ values: [0], timestamps: [T0 + 123] });
    });

    it('keeps events in the durable spool while the engine is unreachable and delivers them after a restart', async () => {
      const path = spoolPath();
      const down = `http://127.0.0.1:${await freePort()}`;
      const first = new InfluxTimeSeriesStore({
        url: down,
        org: 'nattevakt',
        bucket: 'nattevakt',
        spoolPath: path,
        flushDelayMs: 10,
        closeTimeoutMs: 200,
      });
      const events = [0, 1, 2].map((i) => bedEvent('site-vm-restart', `restart-${i}`, T0 + i * 1000, { occupied: i % 2 === 0 }));
      expect(await first.write(events)).toBe(3);
      await expect(first.flush()).rejects.toThrow();
      expect(first.spoolDepth()).toBe(3);
      // Reads fail loudly while the engine is down (no silently partial history).
      await expect(first.range('site-vm-restart', new Date(T0), new Date(T0 + 10_000))).rejects.toThrow();
      await first.close();

      const second = new InfluxTimeSeriesStore({
        url: engine.url,
        org: 'nattevakt',
        bucket: 'nattevakt',
        spoolPath: path,
        flushDelayMs: 10,
      });
      expect(second.spoolDepth()).toBe(3);
      // Ids accepted before the restart are still known: not new.
      expect(await second.write(events)).toBe(0);
      await second.flush();
      expect(second.spoolDepth()).toBe(0);
      await second.close();
      const occupied = (await exported('site-vm-restart')).find((l) => l.metric.__name__ === 'sensor_event_occupied');
      expect(occupied?.timestamps).toEqual([T0, T0 + 1000, T0 + 2000]);
      expect(occupied?.values).toEqual([1, 0, 1]);
    });
  },
);

const influxd = requireBinary('influxd', 'influxdb');
describe.skipIf(influxd === undefined)('InfluxDB adapter read path against influxd 1.x (InfluxQL over /query)', () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startInfluxd(influxd as string);
    await influxql(engine.url, 'CREATE DATABASE reads');
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const seed = async (lines: string[]) => {
    const response = await fetch(`${engine.url}/write?db=reads&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(response.status).toBe(204);
  };

  it('maps InfluxQL rows written by any line-protocol writer back to SensorEvents', async () => {
    const t = T0 + 5;
    await seed([
      `sensor_event,site=site-r,sensor=bed-1,kind=bed,room=room-1,resident=res-1,format=zigbee2mqtt event_id="r1",occupied=0i,online=1i,battery=55i,linkquality=90i,battery_low=0i,tamper=1i,sensor_time_ms=${t - 250}i ${t}`,
      // The same point twice (a re-send): one point.
      `sensor_event,site=site-r,sensor=door-1,kind=door,room=room-1,format=native event_id="r2",open=1i ${t + 1000}`,
      `sensor_event,site=site-r,sensor=door-1,kind=door,room=room-1,format=native event_id="r2",open=1i ${t + 1000}`,
      // Not one of ours (no event_id): ignored. Another site: filtered by the tag.
      `sensor_event,site=site-r,sensor=door-1,kind=door,room=room-1,format=native open=0i ${t + 2000}`,
      `sensor_event,site=site-other,sensor=door-1,kind=door,room=room-1,format=native event_id="o1",open=0i ${t + 1500}`,
    ]);
    const store = new InfluxTimeSeriesStore({ url: engine.url, org: '-', bucket: 'reads', spoolPath: spoolPath() });
    const read = await store.range('site-r', new Date(T0), new Date(T0 + 60_000));
    await store.close();
    expect(read).toEqual([
      {
        id: 'r1',
        siteId: 'site-r',
        sensorId: 'bed-1',
        sensorKind: 'bed',
        roomId: 'room-1',
        residentId: 'res-1',
        time: new Date(t).toISOString(),
        sensorTime: new Date(t - 250).toISOString(),
        occupied: false,
        online: true,
        battery: 55,
        linkquality: 90,
        batteryLow: false,
        tamper: true,
        format: 'zigbee2mqtt',
        raw: RAW_NOT_STORED,
      },
      {
        id: 'r2',
        siteId: 'site-r',
        sensorId: 'door-1',
        sensorKind: 'door',
        roomId: 'room-1',
        time: new Date(t + 1000).toISOString(),
        open: true,
        format: 'native',
        raw: '',
      },
    ]);
  });

  it('is idempotent in the engine: the same event from two processes (two spools) is one point', async () => {
    const shim = await v2WriteShim(engine.url);
    try {
      const e = bedEvent('site-idem', 'idem-1', T0 + 42);
      for (let i = 0; i < 2; i++) {
        const store = new InfluxTimeSeriesStore({ url: shim.url, org: '-', bucket: 'reads', spoolPath: spoolPath(), flushDelayMs: 10 });
        expect(await store.write([e])).toBe(1);
        await store.flush();
        await store.close();
      }
      const counted = (await influxql(engine.url, `SELECT count(event_id) FROM sensor_event WHERE site = 'site-idem'`, 'reads')) as {
        results: { series?: { values: unknown[][] }[] }[];
      };
      expect(counted.results[0]?.series?.[0]?.values[0]?.[1]).toBe(1);
    } finally {
      await shim.close();
    }
  });

  it('reports a query error (unknown database) instead of returning nothing', async () => {
    const store = new InfluxTimeSeriesStore({ url: engine.url, org: '-', bucket: 'missing', spoolPath: spoolPath() });
    await expect(store.range('site-r', new Date(T0), new Date(T0 + 1))).rejects.toThrow(/database not found/);
    await store.close();
  });
});
