#!/usr/bin/env node
/**
 * Night summaries, retention and what-if on a large site, as the server runs them (embedded SQLite
 * stores in a temporary data dir): every sensor reports its state every 10 minutes, each resident is
 * in bed 22:30–06:45 with one exit of 7 minutes at 03:00.
 *
 *   npm run build && node bench/dist/src/night-summaries.js            # --help for options
 *
 * Prints progress on stderr and the result as JSON on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { buildApp } from '@nattevakt/server/app';
import { machine, percentile } from './processes.js';

const usage = `Usage: node bench/dist/src/night-summaries.js [options]

  --residents N   residents on the site, each with a bed mat and a door sensor (default 200)
  --nights N      nights of recorded events, and nights replayed by what-if (default 14)
  --help          this text

Measures: one site-night summarised for every resident (read of the site's events, one pass,
transactions of up to 100 residents), the retention job over every recorded night (summaries, then delete), and a
what-if replay of one resident's last N nights under a proposed plan over HTTP (app.inject).
While the site-night and the retention job run: the event loop's longest stalls (monitorEventLoopDelay,
1 ms resolution: max and p99) and how late a small database query wanted every 5 ms completes (from
when it was wanted: a late timer waits as much as a held connection does), as the alarm path's queries
would (on SQLite they share the one connection with the summaries' transactions).
`;

const { values } = parseArgs({
  options: {
    residents: { type: 'string', default: '200' },
    nights: { type: 'string', default: '14' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const whole = (name: string, text: string, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    process.stderr.write(`--${name} must be a whole number from 1 to ${max}, got "${text}"\n\n${usage}`);
    process.exit(2);
  }
  return n;
};
const RESIDENTS = whole('residents', values.residents, 2000);
const NIGHTS = whole('nights', values.nights, 30);
const log = (line: string) => process.stderr.write(`[night-summaries] ${line}\n`);

const oslo = (iso: string) => Date.parse(`${iso}+01:00`);
const now = oslo('2026-11-25T09:00:00');
const dir = mkdtempSync(join(tmpdir(), 'nattevakt-bench-nights-'));
const server = await buildApp({ dataDir: dir, clock: { now: () => now }, retention: { intervalMs: 0, rawEventDays: 30 } });

const tenth = (x: number) => Math.round(x * 10) / 10;
const ms = (ns: number) => tenth(ns / 1e6);

/**
 * Runs `work` while watching what else gets to run: the event loop's stalls (what an alarm arriving
 * meanwhile waits before it is even read) and a small query wanted every 5 ms (what it waits to be stored).
 */
async function watchingTheLoop<T>(work: () => Promise<T>) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const probes: number[] = [];
  let done = false;
  const probing = (async () => {
    while (!done) {
      // Wanted 5 ms after the last one: a late timer is waiting as much as a held connection is.
      const wanted = performance.now() + 5;
      await new Promise((r) => setTimeout(r, 5));
      await server.nights.list('bench', 'res-0', '2000-01-01', '2000-01-01');
      probes.push(performance.now() - wanted);
    }
  })();
  loop.enable();
  // Its first tick only sets where it counts from: a stall before it would never be recorded.
  await new Promise((r) => setTimeout(r, 5));
  try {
    const result = await work();
    // The monitor's timer records a stall when it next fires: let it, or one long stall is never seen.
    await new Promise((r) => setTimeout(r, 2));
    return [
      result,
      {
        loopStallMaxMs: ms(loop.max),
        loopStallP99Ms: ms(loop.percentile(99)),
        queries: probes.length,
        queryLateMaxMs: tenth(Math.max(0, ...probes)),
        queryLateP99Ms: tenth(
          percentile(
            probes.sort((a, b) => a - b),
            99,
          ),
        ),
      },
    ] as const;
  } finally {
    loop.disable();
    done = true;
    await probing;
  }
}

try {
  const plan = {
    armed: true,
    nightWindow: { start: '22:00', end: '07:00' },
    rules: {
      doorOpenAtNight: { enabled: true, priority: 'high' as const },
      outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' as const },
    },
  };
  const site: SiteConfig = {
    version: 1,
    site: { id: 'bench', name: 'Bench', timezone: 'Europe/Oslo' },
    rooms: [],
    residents: [],
    sensors: [],
  };
  for (let i = 0; i < RESIDENTS; i++) {
    site.rooms.push({ id: `room-${i}`, name: `Rom ${i}` });
    site.residents.push({ id: `res-${i}`, name: `Beboer ${i}`, roomId: `room-${i}`, plan });
    site.sensors.push(
      { id: `bed-${i}`, kind: 'bed', roomId: `room-${i}`, residentId: `res-${i}` },
      { id: `door-${i}`, kind: 'door', roomId: `room-${i}` },
    );
  }
  await server.sites.save(site);

  let written = 0;
  const writeStart = performance.now();
  let batch: SensorEvent[] = [];
  for (let t = oslo('2026-11-25T12:00:00') - (NIGHTS + 1) * 86_400_000; t < now; t += 600_000) {
    const local = new Date(t + 3_600_000);
    const m = local.getUTCHours() * 60 + local.getUTCMinutes();
    const inBed = (m >= 22 * 60 + 30 || m < 6 * 60 + 45) && !(m >= 180 && m < 187);
    for (let i = 0; i < RESIDENTS; i++) {
      const time = new Date(t + i).toISOString();
      const common = { siteId: 'bench', roomId: `room-${i}`, time, online: true, format: 'native' as const, raw: '{}' };
      batch.push({ ...common, id: `b${written++}`, sensorId: `bed-${i}`, sensorKind: 'bed', residentId: `res-${i}`, occupied: inBed });
      batch.push({ ...common, id: `d${written++}`, sensorId: `door-${i}`, sensorKind: 'door', open: false });
    }
    if (batch.length >= 5000) {
      await server.timeSeries.write(batch);
      batch = [];
    }
  }
  await server.timeSeries.write(batch);
  log(`${written} events written in ${Math.round(performance.now() - writeStart)} ms`);

  let t0 = performance.now();
  const [summaries, oneNightLoop] = await watchingTheLoop(() => server.nights.summariseSiteNight('bench', '2026-11-24'));
  const oneNightMs = Math.round(performance.now() - t0);
  log(`one site-night: ${summaries.length} residents in ${oneNightMs} ms; ${JSON.stringify(oneNightLoop)}`);

  t0 = performance.now();
  const [run, retentionLoop] = await watchingTheLoop(() => server.retention.run());
  const retentionMs = Math.round(performance.now() - t0);
  log(`retention run: ${run.summarised} site-nights summarised in ${retentionMs} ms; ${JSON.stringify(retentionLoop)}`);

  await server.auth.upsertUser({
    username: 'lead',
    displayName: 'Lead',
    role: 'nurse_in_charge',
    password: 'bench password 1',
    sites: ['bench'],
  });
  const login = await server.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { 'x-nattevakt': '1' },
    payload: { username: 'lead', password: 'bench password 1' },
  });
  const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const proposed = { ...plan, rules: { ...plan.rules, outOfBedTooLong: { enabled: true, minutes: 5, priority: 'medium' as const } } };
  t0 = performance.now();
  const whatIf = await server.app.inject({
    method: 'POST',
    url: '/api/sites/bench/residents/res-0/what-if',
    headers: { cookie, 'x-nattevakt': '1' },
    payload: { plan: proposed, nights: NIGHTS },
  });
  const whatIfMs = Math.round(performance.now() - t0);
  if (whatIf.statusCode !== 200) throw new Error(`what-if: HTTP ${whatIf.statusCode} ${whatIf.body}`);
  const totals = whatIf.json<{ totals: { current: { total: number }; proposed: { total: number } } }>().totals;
  log(`what-if over ${NIGHTS} nights: ${whatIfMs} ms (current ${totals.current.total}, proposed ${totals.proposed.total} alarms)`);
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: machine(),
        loadavg: loadavg().map((l) => Math.round(l * 10) / 10),
        residents: RESIDENTS,
        nights: NIGHTS,
        events: written,
        oneSiteNightMs: oneNightMs,
        oneSiteNightLoop: oneNightLoop,
        retention: { siteNights: run.summarised, ms: retentionMs, ...retentionLoop },
        whatIf: { ms: whatIfMs, current: totals.current.total, proposed: totals.proposed.total },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
}
