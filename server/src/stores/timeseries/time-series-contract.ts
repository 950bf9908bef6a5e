import { randomUUID } from 'node:crypto';
import { type SensorEvent, sensorEvent } from '@nattevakt/protocol/sensor-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { TimeSeriesStore } from './time-series-store.js';

/** One adapter under test, opened fresh for each test. */
export interface ContractSubject {
  store: TimeSeriesStore;
  /** Makes written events readable from the engine itself (e.g. drains a spool); optional. */
  settle?: () => Promise<void>;
  /** Runs after the store is closed (stop helpers, remove files). */
  cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /** Whether `raw` reads back as written; otherwise it must read back as `rawMarker`. */
  keepsRaw: boolean;
  rawMarker?: string;
}

const T0 = Date.parse('2026-11-24T22:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A fresh site id per test, so suites can share one engine database. */
const newSite = () => `site-${randomUUID().slice(0, 8)}`;

const bed = (siteId: string, id: string, minutes: number, extra: Partial<SensorEvent> = {}): SensorEvent => ({
  id,
  siteId,
  sensorId: 'bed-1',
  sensorKind: 'bed',
  roomId: 'room-1',
  residentId: 'res-1',
  time: at(minutes),
  occupied: minutes % 2 === 0,
  format: 'native',
  raw: `{"n":${minutes}}`,
  ...extra,
});

/**
 * The `TimeSeriesStore` port's contract: registers vitest tests against any adapter.
 * Usage: `timeSeriesContract('sqlite', async () => ({ store: new SqliteTimeSeriesStore(':memory:') }), { keepsRaw: true })`.
 */
export function timeSeriesContract(name: string, open: () => Promise<ContractSubject>, options: ContractOptions): void {
  // Instants compare as instants: an adapter may keep the sensor's offset or normalise to UTC.
  const instants = (e: SensorEvent): SensorEvent => ({
    ...e,
    time: new Date(e.time).toISOString(),
    ...(e.sensorTime === undefined ? {} : { sensorTime: new Date(e.sensorTime).toISOString() }),
  });
  const expected = (e: SensorEvent): SensorEvent => ({ ...instants(e), raw: options.keepsRaw ? e.raw : (options.rawMarker ?? '') });

  describe(`TimeSeriesStore contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const start = async () => {
      subject = await open();
      return { store: subject.store, settle: async () => subject?.settle?.() };
    };
    afterEach(async () => {
      await subject?.store.close();
      await subject?.cleanup?.();
      subject = undefined;
    });

    it('counts new events and skips ids seen before, in and across batches', async () => {
      const { store, settle } = await start();
      const site = newSite();
      const [a, b, c] = [bed(site, `${site}-a`, 0), bed(site, `${site}-b`, 1), bed(site, `${site}-c`, 2)];
      expect(await store.write([a, b])).toBe(2);
      expect(await store.write([b, c, c])).toBe(1);
      expect(await store.write([])).toBe(0);
      await settle();
      const read = await store.range(site, new Date(T0 - 60_000), new Date(T0 + 3_600_000));
      expect(read.map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    });

    it('reads one site in [from, to), oldest first, up to the limit', async () => {
      const { store, settle } = await start();
      const site = newSite();
      const other = newSite();
      const events = [3, 0, 4, 1, 2].map((m) => bed(site, `${site}-${m}`, m));
      await store.write([...events, bed(other, `${other}-1`, 1)]);
      await settle();
      const ids = async (from: number, to: number, limit?: number) =>
        (await store.range(site, new Date(at(from)), new Date(at(to)), limit)).map((e) => e.id);
      expect(await ids(1, 4)).toEqual([`${site}-1`, `${site}-2`, `${site}-3`]);
      expect(await ids(1, 4, 2)).toEqual([`${site}-1`, `${site}-2`]);
      expect(await ids(0, 100)).toHaveLength(5);
      expect(await ids(10, 20)).toEqual([]);
      expect(await store.range(newSite(), new Date(at(0)), new Date(at(100)))).toEqual([]);
    });

    it('reads only the sensors asked for, when asked', async () => {
      const { store, settle } = await start();
      const site = newSite();
      await store.write([
        bed(site, `${site}-1`, 1),
        bed(site, `${site}-2`, 2, { sensorId: 'bed-2' }),
        bed(site, `${site}-3`, 3, { sensorId: 'door-1', sensorKind: 'door', occupied: undefined, open: true }),
        bed(site, `${site}-4`, 4),
      ]);
      await settle();
      const ids = async (sensors: string[], limit?: number) =>
        (await store.range(site, new Date(at(0)), new Date(at(10)), limit, { sensors })).map((e) => e.id);
      expect(await ids(['bed-1', 'door-1'])).toEqual([`${site}-1`, `${site}-3`, `${site}-4`]);
      expect(await ids(['bed-1', 'door-1'], 2)).toEqual([`${site}-1`, `${site}-3`]);
      expect(await ids(["it's-not-there"])).toEqual([]);
      expect(await ids([])).toEqual([]);
    });

    it('deletes the events of every site before an instant and keeps the rest (retention), idempotently', async () => {
      const { store, settle } = await start();
      const [site, other] = [newSite(), newSite()];
      await store.write([0, 1, 2, 3].flatMap((m) => [bed(site, `${site}-${m}`, m), bed(other, `${other}-${m}`, m)]));
      await settle();
      await store.deleteBefore(new Date(at(2)));
      await store.deleteBefore(new Date(at(2)));
      const ids = async (s: string) => (await store.range(s, new Date(at(-10)), new Date(at(10)))).map((e) => e.id);
      expect(await ids(site)).toEqual([`${site}-2`, `${site}-3`]);
      expect(await ids(other)).toEqual([`${other}-2`, `${other}-3`]);
      // Events written after the delete are kept, however old: retention runs again later.
      await store.write([bed(site, `${site}-late`, 1)]);
      await settle();
      expect(await ids(site)).toEqual([`${site}-late`, `${site}-2`, `${site}-3`]);
    });

    it('round-trips every field of bed and door events, valid against the SensorEvent schema', async () => {
      const { store, settle } = await start();
      const site = newSite();
      const full = bed(site, `${site}-full`, 5, {
        sensorTime: '2026-11-24T23:04:59.250+01:00',
        online: true,
        battery: 87,
        linkquality: 203,
        tamper: false,
        batteryLow: true,
        format: 'zigbee2mqtt',
        raw: '{"occupancy":false,"battery":87}',
      });
      const door: SensorEvent = {
        id: `${site}-door`,
        siteId: site,
        sensorId: 'door-1',
        sensorKind: 'door',
        roomId: 'room-2',
        time: at(6),
        open: true,
        format: 'native',
        raw: '',
      };
      expect(await store.write([full, door])).toBe(2);
      await settle();
      const read = await store.range(site, new Date(at(0)), new Date(at(10)));
      expect(read.map(instants)).toEqual([expected(full), expected(door)]);
      for (const e of read) expect(sensorEvent.check(e)).toEqual({ ok: true, value: e });
    });
  });
}
