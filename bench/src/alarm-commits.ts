#!/usr/bin/env node
/**
 * The server's alarm lifecycle under a flood, in this process: door alarms raised by gateway
 * batches, their conditions cleared by the next batches, and each resolved by a nurse, all
 * through `AlarmService` as the `/gateway` and `/staff` namespaces call it, on the relational
 * store as the server opens it (a SQLite file, or PostgreSQL with `--database postgres://…`).
 *
 * Several lifecycles are in flight at once (`--in-flight`), as under load, so the commit group
 * gathers them. Reports lifecycle changes per second, how busy the event loop was (the share of
 * wall time it spent running code, not waiting: what is left for everything else the server does),
 * and the time until a batch's alarms were stored and answered. Progress on stderr, JSON on stdout.
 *
 *   npx tsc -b bench && node bench/dist/src/alarm-commits.js      # --help for options
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { buildApp } from '@nattevakt/server/app';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import { machine, percentile, wholeOption } from './processes.js';

const usage = `Usage: node bench/dist/src/alarm-commits.js [options]

  --alarms N      door alarms, each raised, cleared and resolved (default 6000), after 300 unmeasured
  --batch N       alarms per gateway batch (default 10)
  --in-flight N   batches (each with its clearings and resolves) in flight at once (default 8)
  --database URL  postgres://… for PostgreSQL; default a SQLite file in a temporary directory
  --help          this text
`;

const { values } = parseArgs({
  options: {
    alarms: { type: 'string', default: '6000' },
    batch: { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '8' },
    database: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const total = wholeOption('alarms', values.alarms);
const batchSize = wholeOption('batch', values.batch);
const inFlight = wholeOption('in-flight', values['in-flight']);
const log = (line: string) => process.stderr.write(`[alarm-commits] ${line}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-alarm-commits-'));
  const server = await buildApp({ dataDir: dir, ...(values.database ? { databaseUrl: values.database } : {}) });
  try {
    const ward = demoWard({ residents: 500, siteId: 'bench' });
    await server.sites.save(ward);
    const doors = ward.sensors.filter((s) => s.kind === 'door');
    let next = 0;
    const decision = (): AlarmDecision => {
      const door = doors[next++ % doors.length] as (typeof doors)[number];
      const at = new Date().toISOString();
      return {
        id: randomUUID(),
        siteId: 'bench',
        roomId: door.roomId,
        sensorId: door.id,
        rule: 'door-open-at-night',
        priority: 'high',
        raisedAt: at,
        decidedAt: at,
        evidence: { eventIds: [randomUUID()], since: at },
      };
    };
    /** One batch's lifecycles: raised (one gateway batch), cleared (the next), each resolved by a nurse. */
    const lifecycle = async (): Promise<number> => {
      const alarms = Array.from({ length: batchSize }, decision);
      const started = performance.now();
      await server.alarms.applyDecisions(
        alarms.map((alarm) => ({ type: 'alarm' as const, alarm })),
        'bench',
      );
      const stored = performance.now() - started;
      const at = new Date().toISOString();
      await server.alarms.applyDecisions(
        alarms.map((alarm) => ({
          type: 'cleared' as const,
          cleared: { alarmId: alarm.id, siteId: 'bench', clearedAt: at, eventId: randomUUID() },
        })),
        'bench',
      );
      const results = await Promise.all(
        alarms.map((alarm) => server.alarms.resolve({ alarmId: alarm.id, by: 'Benchmark', outcome: 'false-alarm' })),
      );
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`resolve failed: ${JSON.stringify(failed[0])}`);
      return stored;
    };
    const run = async (alarms: number, progress: boolean) => {
      const batches = Math.ceil(alarms / batchSize);
      let started = 0;
      let done = 0;
      const storedMs: number[] = [];
      let lastReport = performance.now();
      const worker = async () => {
        while (started < batches) {
          started++;
          storedMs.push(await lifecycle());
          done++;
          if (progress && performance.now() - lastReport > 2_000) {
            lastReport = performance.now();
            log(`${done * batchSize} of ${batches * batchSize} alarms`);
          }
        }
      };
      const elu = performance.eventLoopUtilization();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: inFlight }, worker));
      const seconds = (performance.now() - t0) / 1000;
      return {
        seconds,
        elu: performance.eventLoopUtilization(elu).utilization,
        storedMs: storedMs.sort((a, b) => a - b),
        alarms: batches * batchSize,
      };
    };
    log(
      `${machine()}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}; ${values.database ? 'PostgreSQL' : 'SQLite file'}`,
    );
    await run(300, false);
    log(`warm; ${total} alarms in batches of ${batchSize}, ${inFlight} batches in flight`);
    const r = await run(total, true);
    const changes = r.alarms * 3;
    const result = {
      machine: machine(),
      database: values.database ? 'postgres' : 'sqlite',
      alarms: r.alarms,
      batch: batchSize,
      inFlight,
      seconds: Number(r.seconds.toFixed(2)),
      changesPerSecond: Math.round(changes / r.seconds),
      eventLoopBusyPercent: Math.round(r.elu * 100),
      /** Event-loop time per lifecycle change, µs: what one change costs the server's one thread. */
      loopMicrosPerChange: Math.round((r.elu * r.seconds * 1e6) / changes),
      batchStoredMs: { p50: percentile(r.storedMs, 50), p99: percentile(r.storedMs, 99), max: r.storedMs.at(-1) },
    };
    log(
      `${result.changesPerSecond} changes/s (raised, cleared, resolved), event loop busy ${result.eventLoopBusyPercent} %, ` +
        `${result.loopMicrosPerChange} µs of it per change; a batch stored in p50 ${result.batchStoredMs.p50.toFixed(2)} p99 ${result.batchStoredMs.p99.toFixed(2)} ms`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
