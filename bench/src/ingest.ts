#!/usr/bin/env node
/**
 * Ingestion rate into each time-series adapter, as the server calls it (`TimeSeriesStore.write`
 * with one gateway batch at a time, awaited): the embedded SQLite store, and the InfluxDB adapter
 * (durable spool → `/api/v2/write`) against a real VictoriaMetrics and a real InfluxDB 1.x
 * (`influxd`), both started here from their Debian binaries on free loopback ports.
 *
 *   npm run build && node bench/dist/src/ingest.js            # --help for options
 *
 * Prints progress on stderr and the result as JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { InfluxTimeSeriesStore } from '@nattevakt/server/stores/timeseries/influx-time-series';
import { SqliteTimeSeriesStore } from '@nattevakt/server/stores/timeseries/sqlite-time-series';
import type { TimeSeriesStore } from '@nattevakt/server/stores/timeseries/time-series-store';
import { findBinary, influxql, startInfluxd, startVictoriaMetrics, v2WriteShim } from '@nattevakt/server/test-support/timeseries-servers';
import { machine } from './processes.js';

const usage = `Usage: node bench/dist/src/ingest.js [options]

Events per second into each time-series adapter, written as the server writes a gateway's batch.

  --events N        events per adapter and batch size (default 200000)
  --batch LIST      batch sizes, comma-separated (default 200,500: the gateway sends 200, the server takes
                    up to 500); one event per write is slow on the InfluxDB adapter (an fsync'd spool
                    append each): measure it with fewer events, e.g. --batch 1 --events 5000
  --sensors N       distinct sensors the events come from (default 1000)
  --adapters LIST   sqlite,victoria-metrics,influxd (default all three)
  --help            this text

SQLite is measured to the commit of each batch (WAL, synchronous=NORMAL, as the server opens it).
The InfluxDB adapter is measured twice: "accepted" is write() returning (the event is in the
durable spool, fsync'd), "delivered" is the spool empty again (the engine confirmed every batch),
after which the engine is asked how many events it holds. influxd 1.x has no /api/v2/write: a
small proxy here maps it onto /write (as the server's tests do), one extra loopback hop.
For a CPU profile: node --cpu-prof --cpu-prof-dir DIR bench/dist/src/ingest.js …
`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '200,500' },
    sensors: { type: 'string', default: '1000' },
    adapters: { type: 'string', default: 'sqlite,victoria-metrics,influxd' },
    help: { type: 'boolean', default: false },
  },
});

const SITE = 'bench';
const log = (line: string) => process.stderr.write(`[ingest] ${line}\n`);
const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}`);
  process.exit(2);
};
const wholeNumber = (name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max}, got ${text}`);
  return n;
};

// ── Events ──────────────────────────────────────────────────────────────────────────────────────

/**
 * `count` events as the gateway makes them: a bed mat and a door contact per room, state changes
 * and heartbeats with battery and link quality, the raw payload kept. Times are unique per sensor
 * (one millisecond apart), so no engine folds two events into one point.
 */
function makeEvents(count: number, sensors: number, startMs: number): SensorEvent[] {
  const events: SensorEvent[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % sensors;
    const room = Math.floor(s / 2) + 1;
    const bed = s % 2 === 0;
    const state = Math.floor(i / sensors) % 2 === 0;
    const battery = 60 + (i % 40);
    const linkquality = 100 + (i % 150);
    const raw = bed
      ? JSON.stringify({ kind: 'bed', occupied: state, battery, linkquality })
      : JSON.stringify({ contact: !state, battery, linkquality, battery_low: false, tamper: false });
    events.push({
      id: randomUUID(),
      siteId: SITE,
      sensorId: `${bed ? 'bed' : 'door'}-${room}`,
      sensorKind: bed ? 'bed' : 'door',
      roomId: `room-${room}`,
      ...(bed ? { residentId: `res-${room}`, occupied: state } : { open: state, tamper: false, batteryLow: false }),
      time: new Date(startMs + i).toISOString(),
      battery,
      linkquality,
      format: bed ? 'native' : 'zigbee2mqtt',
      raw,
    });
  }
  return events;
}

// ── Engines (started as the server's tests start them) ─────────────────────────────────────────

function binary(name: string): string {
  return (
    findBinary(name) ?? fail(`${name} not found: install its Debian package (victoria-metrics, influxdb), or leave it out of --adapters`)
  );
}

/** How many `event_id` samples VictoriaMetrics holds for the site (one per event). */
async function countInVictoriaMetrics(url: string, fromMs: number, toMs: number): Promise<number> {
  const params = new URLSearchParams({
    'match[]': `sensor_event_event_id{site="${SITE}"}`,
    start: String(fromMs / 1000),
    end: String(toMs / 1000),
  });
  const text = await (await fetch(`${url}/api/v1/export?${params}`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line) n += (JSON.parse(line) as { values: unknown[] }).values.length;
  return n;
}

async function countInInfluxd(url: string, db: string): Promise<number> {
  const body = (await influxql(url, `SELECT count("event_id") FROM "sensor_event" WHERE "site" = '${SITE}'`, db)) as {
    results: { series?: { values: [number, number][] }[] }[];
  };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

// ── Measuring ───────────────────────────────────────────────────────────────────────────────────

interface Run {
  adapter: string;
  batch: number;
  events: number;
  accepted_per_s: number;
  /** Events per second of this process's CPU time (user + system) while writing: what an idle core would take. */
  accepted_per_cpu_s: number;
  delivered_per_s?: number;
  /** How many events the engine holds afterwards (must equal `events`). */
  stored?: number;
  /** Write (into the store or the spool) per batch, p50 / p99 ms. */
  batch_p50_ms: number;
  batch_p99_ms: number;
  file_mb?: number;
}

async function writeAll(
  store: TimeSeriesStore,
  events: SensorEvent[],
  batch: number,
  name: string,
): Promise<{ seconds: number; cpuSeconds: number; perBatch: number[] }> {
  const perBatch: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  let reported = started;
  for (let i = 0; i < events.length; i += batch) {
    const slice = events.slice(i, i + batch);
    const t = performance.now();
    const added = await store.write(slice);
    perBatch.push(performance.now() - t);
    if (added !== slice.length) throw new Error(`${name}: ${added} of ${slice.length} events taken as new`);
    if (performance.now() - reported > 2000) {
      reported = performance.now();
      log(`  ${name}, batch ${batch}: ${i + slice.length} / ${events.length} …`);
    }
  }
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, perBatch };
}

const rate = (n: number, seconds: number) => Math.round(n / seconds);
function percentiles(perBatch: number[]): { batch_p50_ms: number; batch_p99_ms: number } {
  const sorted = [...perBatch].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN) * 1000) / 1000;
  return { batch_p50_ms: at(50), batch_p99_ms: at(99) };
}

async function sqlite(events: SensorEvent[], batch: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-ingest-sqlite-'));
  const path = join(dir, 'timeseries.db');
  const store = new SqliteTimeSeriesStore(path);
  try {
    const { seconds, cpuSeconds, perBatch } = await writeAll(store, events, batch, 'sqlite');
    const stored = (await store.range(SITE, new Date(0), new Date(8.64e15), events.length + 1)).length;
    return {
      adapter: 'sqlite (embedded)',
      batch,
      events: events.length,
      accepted_per_s: rate(events.length, seconds),
      accepted_per_cpu_s: rate(events.length, cpuSeconds),
      stored,
      ...percentiles(perBatch),
      file_mb: Math.round((statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1e5) / 10,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function influx(
  adapter: string,
  url: string,
  bucket: string,
  events: SensorEvent[],
  batch: number,
  count: () => Promise<number>,
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-ingest-spool-'));
  const warnings: string[] = [];
  const store = new InfluxTimeSeriesStore({
    url,
    org: 'nattevakt',
    bucket,
    spoolPath: join(dir, 'spool.db'),
    logger: { warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`), error: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`) },
  });
  try {
    const started = performance.now();
    const { seconds, cpuSeconds, perBatch } = await writeAll(store, events, batch, adapter);
    for (let depth = store.spoolDepth(); depth > 0; depth = store.spoolDepth()) {
      log(`  ${adapter}, batch ${batch}: ${depth} events still in the spool …`);
      await Promise.race([store.flush(), new Promise((r) => setTimeout(r, 2000))]);
    }
    await store.flush();
    const delivered = (performance.now() - started) / 1000;
    if (warnings.length > 0) log(`  ${adapter}: ${warnings.length} warnings, first: ${warnings[0]}`);
    return {
      adapter,
      batch,
      events: events.length,
      accepted_per_s: rate(events.length, seconds),
      accepted_per_cpu_s: rate(events.length, cpuSeconds),
      delivered_per_s: rate(events.length, delivered),
      stored: await count(),
      ...percentiles(perBatch),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const total = wholeNumber('events', values.events, 1);
  const sensors = wholeNumber('sensors', values.sensors, 2, 100_000);
  const batches = (values.batch ?? '').split(',').map((b) => wholeNumber('batch', b.trim(), 1, 500));
  const adapters = (values.adapters ?? '').split(',').map((a) => a.trim());
  for (const a of adapters) if (!['sqlite', 'victoria-metrics', 'influxd'].includes(a)) fail(`--adapters: unknown adapter "${a}"`);
  log(
    `machine: ${machine()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`${total} events per run from ${sensors} sensors, batches of ${batches.join(', ')}`);

  const runs: Run[] = [];
  const report = (run: Run) => {
    runs.push(run);
    log(
      `${run.adapter}, batch ${run.batch}: ${run.accepted_per_s} events/s accepted (${run.accepted_per_cpu_s} per CPU second)` +
        (run.delivered_per_s === undefined ? '' : `, ${run.delivered_per_s} events/s delivered`) +
        `, ${run.stored} stored, batch p50 ${run.batch_p50_ms} ms p99 ${run.batch_p99_ms} ms`,
    );
  };
  // Every run writes events of its own hour, so the engines' counts are per run.
  let hour = 0;
  const eventsOfNextHour = () => {
    const from = Date.UTC(2026, 10, 20, 0, 0, 0) + hour++ * 3600_000;
    return { events: makeEvents(total, sensors, from), from, to: from + total + 1 };
  };

  if (adapters.includes('sqlite')) for (const batch of batches) report(await sqlite(eventsOfNextHour().events, batch));

  if (adapters.includes('victoria-metrics')) {
    const vm = await startVictoriaMetrics(binary('victoria-metrics'));
    try {
      for (const batch of batches) {
        const { events, from, to } = eventsOfNextHour();
        report(
          await influx('influx adapter → victoria-metrics', vm.url, 'nattevakt', events, batch, async () => {
            // VictoriaMetrics makes new samples searchable within a second or so.
            for (let i = 0; ; i++) {
              const n = await countInVictoriaMetrics(vm.url, from, to);
              if (n >= events.length || i >= 20) return n;
              await new Promise((r) => setTimeout(r, 500));
            }
          }),
        );
      }
    } finally {
      await vm.stop();
    }
  }

  if (adapters.includes('influxd')) {
    const engine = await startInfluxd(binary('influxd'));
    const shim = await v2WriteShim(engine.url);
    try {
      for (const batch of batches) {
        const db = `bench_${batch}`;
        await influxql(engine.url, `CREATE DATABASE ${db}`);
        const { events } = eventsOfNextHour();
        report(await influx('influx adapter → influxd 1.x', shim.url, db, events, batch, () => countInInfluxd(engine.url, db)));
      }
    } finally {
      await shim.close();
      await engine.stop();
    }
  }

  const embedded = runs.filter((r) => r.adapter.startsWith('sqlite'));
  const atGatewayBatch = embedded.find((r) => r.batch === 200) ?? embedded[embedded.length - 1];
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: machine(),
        load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))),
        events_per_run: total,
        sensors,
        runs,
        target_embedded_events_per_s_at_least: 20_000,
        ...(atGatewayBatch ? { embedded_at_batch: atGatewayBatch.batch, met: atGatewayBatch.accepted_per_s >= 20_000 } : {}),
      },
      null,
      2,
    )}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[ingest] failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
