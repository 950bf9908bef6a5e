#!/usr/bin/env node
/**
 * The server's cost per sensor event of a gateway batch: `ingest()` as the `/gateway` namespace calls
 * it (validation, the time-series write, the rooms' live state, the tablets told), in this process,
 * on a demo site, with the relational store on disk (SQLite, `synchronous = FULL`, as the server opens
 * it) or on PostgreSQL (`--database postgres://…`). Prints progress on stderr and JSON on stdout.
 *
 *   npx tsc -b bench && node bench/dist/src/server-ingest.js      # --help for options
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import type { RoomState } from '@nattevakt/protocol/ward';
import { buildApp } from '@nattevakt/server/app';
import { standalone } from '@nattevakt/server/realtime/cluster';
import { type GatewayIngestDeps, ingest } from '@nattevakt/server/realtime/gateway-namespace';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import { machine, wholeOption } from './processes.js';

const usage = `Usage: node bench/dist/src/server-ingest.js [options]

  --residents N   demo-ward residents, a bed mat and a door each (default 500: 1,000 sensors)
  --events N      measured events (default 40000), after 2,000 unmeasured
  --batch N       events per gateway batch (default 200, what the gateway's uplink sends under load)
  --database URL  postgres://… for PostgreSQL; default a SQLite file in a temporary directory
  --per-event     write the rooms' state one event at a time (the ingestion before 2026-11-24 23:20 UTC), for comparison
  --help          this text
`;

const { values } = parseArgs({
  options: {
    residents: { type: 'string', default: '500' },
    events: { type: 'string', default: '40000' },
    batch: { type: 'string', default: '200' },
    database: { type: 'string' },
    'per-event': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const residents = wholeOption('residents', values.residents);
const total = wholeOption('events', values.events);
const batchSize = wholeOption('batch', values.batch);
const log = (line: string) => process.stderr.write(`[server-ingest] ${line}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-server-ingest-'));
  const server = await buildApp({ dataDir: dir, ...(values.database ? { databaseUrl: values.database } : {}) });
  try {
    const ward = demoWard({ residents, siteId: 'bench' });
    await server.sites.save(ward);
    const sensors = ward.sensors;
    let clock = Date.parse('2026-11-25T01:00:00Z');
    let next = 0;
    const batch = (n: number): OutboxItem[] =>
      Array.from({ length: n }, () => {
        const sensor = sensors[next++ % sensors.length] as (typeof sensors)[number];
        clock += 7;
        const changed = (next >> 3) % 2 === 0;
        const event: SensorEvent = {
          id: randomUUID(),
          siteId: 'bench',
          sensorId: sensor.id,
          sensorKind: sensor.kind,
          roomId: sensor.roomId,
          ...(sensor.residentId ? { residentId: sensor.residentId } : {}),
          time: new Date(clock).toISOString(),
          ...(sensor.kind === 'bed' ? { occupied: changed } : { open: false }),
          online: true,
          battery: 90,
          format: 'native',
          raw: JSON.stringify({ kind: sensor.kind, battery: 90 }),
        } as SensorEvent;
        return { type: 'event', event };
      });
    const perEvent = {
      applyMany: async (events: readonly SensorEvent[]): Promise<RoomState[]> => {
        const rooms: RoomState[] = [];
        for (const event of events) {
          const room = await server.ward.apply(event);
          if (room) rooms.push(room);
        }
        return rooms;
      },
    };
    const deps: GatewayIngestDeps = {
      sites: server.sites,
      alarms: server.alarms,
      ward: values['per-event'] ? (perEvent as unknown as GatewayIngestDeps['ward']) : server.ward,
      timeSeries: server.timeSeries,
      metrics: server.metrics,
      logger: server.app.log.child({ module: 'bench' }, { level: 'silent' }) as unknown as GatewayIngestDeps['logger'],
      staff: server.io.of('/staff') as unknown as GatewayIngestDeps['staff'],
      clocks: new Map(),
      cluster: standalone,
    };
    log(
      `${machine()}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ${sensors.length} sensors, ${values.database ? 'PostgreSQL' : 'SQLite'}`,
    );
    for (let sent = 0; sent < 2_000; sent += batchSize) await ingest(deps, 'bench', batch(batchSize));
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const batchMs: number[] = [];
    for (let sent = 0; sent < total; ) {
      const n = Math.min(batchSize, total - sent);
      const started = performance.now();
      const ack = await ingest(deps, 'bench', batch(n));
      batchMs.push(performance.now() - started);
      if (!ack.ok || ack.accepted !== n) throw new Error(`batch refused: ${JSON.stringify(ack).slice(0, 300)}`);
      sent += n;
      if (batchMs.length % 50 === 0) log(`${sent}/${total} events`);
    }
    const wallMs = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    batchMs.sort((a, b) => a - b);
    const pick = (p: number) => Number((batchMs[Math.min(batchMs.length - 1, Math.ceil((p / 100) * batchMs.length) - 1)] ?? 0).toFixed(2));
    const result = {
      machine: machine(),
      load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))),
      database: values.database ? 'postgres' : 'sqlite',
      sensors: sensors.length,
      events: total,
      batch: batchSize,
      per_event_writes: values['per-event'],
      events_per_second: Math.round(total / (wallMs / 1000)),
      cpu_us_per_event: Number(((cpuMs * 1000) / total).toFixed(1)),
      batch_p50_ms: pick(50),
      batch_p99_ms: pick(99),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
