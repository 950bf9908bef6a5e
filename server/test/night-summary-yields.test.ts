/**
 * A large site's night summary must not hold the alarm path: the server yields to the event loop
 * every few residents and stores the summaries in short transactions (on SQLite every other query
 * waits for the one connection while a transaction is open). Measured in residents and in the order
 * things finish, not in milliseconds, so a busy machine does not make it flaky.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { summariseNight } from '../src/reports/night-summary.js';
import { allEvents, sensorsOf, sensorsOfEach } from '../src/reports/night-summary-service.js';
import { connectRelationalStore } from '../src/stores/relational/database.js';
import { SqliteTimeSeriesStore } from '../src/stores/timeseries/sqlite-time-series.js';
import { engines } from './support/databases.js';
import { ManualClock, oslo } from './support/nights.js';

// The real summariseNight, counted: how many residents were summarised between two turns of the event loop.
vi.mock('../src/reports/night-summary.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/reports/night-summary.js')>();
  return { ...original, summariseNight: vi.fn(original.summariseNight) };
});
const summarised = () => vi.mocked(summariseNight).mock.calls.length;

const RESIDENTS = 400;
const NIGHT = '2026-11-24';
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A site of RESIDENTS rooms, each with a resident, a bed mat and a door contact. */
function bigSite(): SiteConfig {
  const config: SiteConfig = {
    version: 1,
    site: { id: 'big', name: 'Big', timezone: 'Europe/Oslo' },
    rooms: [],
    residents: [],
    sensors: [],
  };
  for (let i = 0; i < RESIDENTS; i++) {
    config.rooms.push({ id: `room-${i}`, name: `Rom ${i}` });
    config.residents.push({
      id: `res-${i}`,
      name: `Beboer ${i}`,
      roomId: `room-${i}`,
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
        },
      },
    });
    config.sensors.push(
      { id: `bed-${i}`, kind: 'bed', roomId: `room-${i}`, residentId: `res-${i}` },
      { id: `door-${i}`, kind: 'door', roomId: `room-${i}` },
    );
  }
  return config;
}

let n = 0;
const bed = (i: number, time: number, occupied: boolean): SensorEvent => ({
  id: `big-${++n}`,
  siteId: 'big',
  sensorId: `bed-${i}`,
  sensorKind: 'bed',
  roomId: `room-${i}`,
  residentId: `res-${i}`,
  time: new Date(time + i).toISOString(),
  occupied,
  online: true,
  format: 'native',
  raw: '{}',
});
const door = (i: number, time: number, open: boolean): SensorEvent => ({
  id: `big-${++n}`,
  siteId: 'big',
  sensorId: `door-${i}`,
  sensorKind: 'door',
  roomId: `room-${i}`,
  time: new Date(time + i).toISOString(),
  open,
  format: 'native',
  raw: '{}',
});

/**
 * Every resident the same night: out of bed at 10:00 (found by the look-back: bed mats report only
 * on change), in bed 22:30, up 03:00–03:07 with the door opened at 03:01, up for the day at 07:10.
 */
function nightEvents(): SensorEvent[] {
  const events: SensorEvent[] = [];
  for (let i = 0; i < RESIDENTS; i++)
    events.push(
      bed(i, oslo('2026-11-24', '10:00'), false),
      bed(i, oslo('2026-11-24', '22:30'), true),
      bed(i, oslo('2026-11-25', '03:00'), false),
      door(i, oslo('2026-11-25', '03:01'), true),
      door(i, oslo('2026-11-25', '03:02'), false),
      bed(i, oslo('2026-11-25', '03:07'), true),
      bed(i, oslo('2026-11-25', '07:10'), false),
    );
  return events;
}

describe.each(engines)('a large site-night summary yields to the alarm path ($name)', (engine) => {
  let server: NattevaktServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.app.close();
    server = undefined;
    await engine.reset();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** The server (its relational store in `dataDir` when given, so a second connection can reach it), at 09:00 after the night. */
  const start = async (dataDir?: string) => {
    const clock = new ManualClock(oslo('2026-11-25', '09:00'));
    const store = await engine.store(dataDir);
    server = await buildApp({ ...store, clock, retention: { intervalMs: 0 } });
    await server.sites.save(bigSite());
    await server.timeSeries.write(nightEvents());
    return { server, databaseUrl: store.databaseUrl };
  };
  /** Whether the night is marked done: the job then finds nothing to summarise. */
  const marked = async (s: NattevaktServer) => {
    const run = await s.nights.summariseDue(oslo('2026-11-24', '12:00'), 30 * 60_000);
    return run.done === 0 && run.failed === 0;
  };
  const stored = async (s: NattevaktServer, i: number) => (await s.nights.list('big', `res-${i}`, NIGHT, NIGHT)).length === 1;

  it('lets the event loop turn every few residents, other queries in between the transactions, and an alarm raised mid-run be stored first', async () => {
    const { server: s } = await start();
    const before = summarised();
    const finished: string[] = [];
    let done = false;

    // Every turn of the event loop: how many residents were summarised since the last one.
    const perTurn: number[] = [];
    let last = 0;
    let alarm: Promise<unknown> | undefined;
    const tick = () => {
      const count = summarised() - before;
      perTurn.push(count - last);
      last = count;
      // Mid-run, an alarm comes in from a gateway.
      if (alarm === undefined && count > 0 && count < RESIDENTS)
        alarm = s.alarms
          .raise(
            {
              id: 'alarm-mid-run',
              siteId: 'big',
              residentId: 'res-7',
              roomId: 'room-7',
              sensorId: 'door-7',
              rule: 'door-open-at-night',
              priority: 'high',
              raisedAt: new Date(oslo('2026-11-25', '08:59')).toISOString(),
              decidedAt: new Date(oslo('2026-11-25', '08:59')).toISOString(),
              evidence: { eventIds: ['e-mid-run'], since: new Date(oslo('2026-11-25', '08:58')).toISOString() },
            },
            'big',
          )
          .then(() => finished.push('alarm'));
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);

    // Meanwhile a nurse's tablet reads: does it ever see the first residents stored and the last not yet?
    let sawPartial = false;
    const reading = (async () => {
      while (!done) {
        if ((await stored(s, 0)) && !(await stored(s, RESIDENTS - 1))) sawPartial = true;
        await turn();
      }
    })();

    const summaries = await s.nights.summariseSiteNight('big', NIGHT);
    finished.push('summaries');
    done = true;
    await reading;
    await alarm;

    expect(summaries).toHaveLength(RESIDENTS);
    expect(summarised() - before).toBe(RESIDENTS);
    // The old code summarised all 400 between two turns; now at most a few dozen.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(50);
    expect(perTurn.filter((k) => k > 0).length).toBeGreaterThanOrEqual(RESIDENTS / 50);
    // The old code stored all residents in one transaction that every other query waited for.
    expect(sawPartial).toBe(true);
    expect(finished).toEqual(['alarm', 'summaries']);
    expect((await s.alarms.get('alarm-mid-run'))?.alarm.status).toBe('active');

    // The same summaries as ever, every resident's stored, and the night marked done.
    expect(summaries.every((x) => x.complete)).toBe(true);
    for (const x of summaries) expect(x).toMatchObject({ bedExits: 1, longestOutOfBedMinutes: 7, doorOpenings: 1, timeInBedMinutes: 503 });
    expect((await s.nights.list('big', `res-${RESIDENTS - 1}`, NIGHT, NIGHT))[0]).toEqual(summaries.at(-1));
    expect(await marked(s)).toBe(true);
  });

  it('late events that come in while the night is being summarised send it back to be summarised again', async () => {
    const { server: s } = await start();
    // What the gateway ingestion writes through.
    const ingest = s.nights.watching(s.timeSeries);
    const before = summarised();
    let late: Promise<number> | undefined;
    let done = false;
    const tick = () => {
      const count = summarised() - before;
      // Resident 0's gateway delivers its outbox: she got up at 05:00 and was not back by the morning.
      if (late === undefined && count > 0 && count < RESIDENTS) late = ingest.write([bed(0, oslo('2026-11-25', '05:00'), false)]);
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const first = await s.nights.summariseSiteNight('big', NIGHT);
    done = true;
    expect(await late).toBe(1);
    // Summarised from the events read before the late one came: this run must not mark the night done.
    expect(first[0]).toMatchObject({ bedExits: 1 });
    expect(await marked(s)).toBe(false); // `marked` ran the job, which summarised the night again
    expect(await marked(s)).toBe(true);
    const again = await s.nights.list('big', 'res-0', NIGHT, NIGHT);
    expect(again[0]).toMatchObject({ bedExits: 2 });
    expect(again[0]?.timeInBedMinutes).toBeLessThan(503);
  });

  it('a failure between two transactions leaves the first residents stored and the night not marked; the next run summarises it whole', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nattevakt-night-chunks-'));
    const { server: s, databaseUrl } = await start(dir);
    // A second connection to the same database makes storing resident 150 (the second chunk of 100) fail.
    const admin = connectRelationalStore<unknown>(databaseUrl);
    try {
      if (engine.name === 'sqlite')
        await sql`create trigger fail_150 before insert on night_summaries when new.resident_id = 'res-150'
          begin select raise(abort, 'disk full'); end`.execute(admin);
      else {
        await sql`create function fail_150() returns trigger language plpgsql as $$
          begin if new.resident_id = 'res-150' then raise exception 'disk full'; end if; return new; end $$`.execute(admin);
        await sql`create trigger fail_150 before insert on night_summaries for each row execute function fail_150()`.execute(admin);
      }
      await expect(s.nights.summariseSiteNight('big', NIGHT)).rejects.toThrow(/disk full/);
      expect(await stored(s, 0)).toBe(true);
      expect(await stored(s, 99)).toBe(true);
      // The failed chunk is rolled back whole.
      expect(await stored(s, 100)).toBe(false);
      expect(await stored(s, RESIDENTS - 1)).toBe(false);
      expect(await s.nights.summariseDue(oslo('2026-11-24', '12:00'), 30 * 60_000)).toEqual({ done: 0, failed: 1 });

      await sql`drop trigger fail_150${sql.raw(engine.name === 'sqlite' ? '' : ' on night_summaries')}`.execute(admin);
      // The next run summarises the night again: the stored residents are overwritten, the rest added.
      expect(await s.nights.summariseDue(oslo('2026-11-24', '12:00'), 30 * 60_000)).toEqual({ done: 1, failed: 0 });
      for (const i of [0, 100, 150, RESIDENTS - 1]) expect(await stored(s, i)).toBe(true);
      expect(await marked(s)).toBe(true);
    } finally {
      await admin.destroy();
    }
  });
});

describe('sensorsOfEach', () => {
  it("gives every resident the same sensors, in the same order, as sensorsOf: their own, and their room's that belong to nobody", () => {
    const config = bigSite();
    // Two residents share room-0 and its door; one has a second bed mat; a bed mat of room-1 belongs to res-0.
    config.residents.push({ ...(config.residents[1] as SiteConfig['residents'][number]), id: 'res-shared', roomId: 'room-0' });
    config.sensors.push(
      { id: 'door-0b', kind: 'door', roomId: 'room-0' },
      { id: 'bed-0b', kind: 'bed', roomId: 'room-1', residentId: 'res-0' },
      { id: 'bed-shared', kind: 'bed', roomId: 'room-0', residentId: 'res-shared' },
    );
    const each = sensorsOfEach(config);
    for (const r of config.residents) {
      const one = sensorsOf(config, r);
      const mine = each.get(r);
      expect([...(mine?.bed ?? [])], r.id).toEqual([...one.bed]);
      expect([...(mine?.door ?? [])], r.id).toEqual([...one.door]);
    }
    expect([...(each.get(config.residents.at(-1) as SiteConfig['residents'][number])?.door ?? [])]).toEqual(['door-0', 'door-0b']);
    expect([...(each.get(config.residents[0] as SiteConfig['residents'][number])?.bed ?? [])]).toEqual(['bed-0', 'bed-0b']);
  });
});

describe('allEvents', () => {
  const at = (i: number, time: number): SensorEvent => ({
    ...door(0, time, i % 2 === 0),
    id: `page-${i}`,
  });
  const from = new Date(oslo('2026-11-24', '12:00'));
  const to = new Date(oslo('2026-11-25', '12:00'));

  it('reads every event once, oldest first, in pages with turns of the event loop between them', async () => {
    const store = new SqliteTimeSeriesStore(':memory:');
    try {
      // 12,000 events, four to a millisecond, so page boundaries fall inside a millisecond.
      const events = Array.from({ length: 12_000 }, (_, i) => at(i, oslo('2026-11-24', '22:00') + Math.floor(i / 4)));
      await store.write(events);
      let turns = 0;
      let reading = true;
      const tick = () => {
        turns++;
        if (reading) setImmediate(tick);
      };
      setImmediate(tick);
      const read = await allEvents(store, 'big', from, to);
      reading = false;
      expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
      // The old reader took it in two pages of 10,000 with no turn between.
      expect(turns).toBeGreaterThanOrEqual(4);
    } finally {
      await store.close();
    }
  });

  it('reads more events at one millisecond than a page holds, and refuses more than 10,000 rather than loop', async () => {
    const store = new SqliteTimeSeriesStore(':memory:');
    try {
      const burst = oslo('2026-11-25', '03:00');
      await store.write([at(0, burst - 1), ...Array.from({ length: 3_000 }, (_, i) => at(i + 1, burst)), at(3_001, burst + 1)]);
      const read = await allEvents(store, 'big', from, to);
      expect(read).toHaveLength(3_002);
      expect(new Set(read.map((e) => e.id)).size).toBe(3_002);
      expect(read.at(-1)?.id).toBe('page-3001');

      await store.write(Array.from({ length: 7_001 }, (_, i) => at(i + 10_000, burst)));
      await expect(allEvents(store, 'big', from, to)).rejects.toThrow(/more than 10000 events of site big at 2026-11-25T02:00:00.000Z/);
    } finally {
      await store.close();
    }
  });
});
