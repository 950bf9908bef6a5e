#!/usr/bin/env node
import type { ChildProcess } from 'node:child_process';
/**
 * Accelerated soak: many nights of a 1,000-sensor ward (500 residents, a bed mat and a door
 * contact each) played through the real gateway and server processes on the simulated clock,
 * with a night nurse resolving every alarm, while the resident memory (RSS) and the V8 heap of
 * both processes are sampled. Writes a CSV and an SVG of memory over time and prints a summary
 * with a verdict: flat or growing.
 *
 *   npx tsc -b bench && node bench/dist/src/soak.js                  # 30 minutes, defaults below
 *   node bench/dist/src/soak.js --minutes 5 --rate 100 --out /tmp/soak
 *
 * Each night is the simulator's planned night (`planNight`, a new seed per night) from `--from`
 * to `--to`; the site clock runs at the speed that makes the night's messages arrive at about
 * `--rate` messages per second, and jumps forward to the next evening between nights.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { planNight } from '@nattevakt/simulator/behaviour/plan-night';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import { playNight } from '@nattevakt/simulator/player';
import { io, type Socket } from 'socket.io-client';
import {
  freePort,
  gatewayConfig,
  machine,
  memoryMb,
  metricValue,
  root,
  scrape,
  startNode,
  startServerAsNurse,
  stop,
  waitHealthy,
} from './processes.js';
import { lineChart } from './svg-chart.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    residents: { type: 'string', default: '500' },
    rate: { type: 'string', default: '150' },
    from: { type: 'string', default: '21:00' },
    to: { type: 'string', default: '07:00' },
    'sample-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: join(root, 'bench/results') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'node bench/dist/src/soak.js [--minutes 30] [--residents 500] [--rate 150] [--from 21:00] [--to 07:00] [--sample-seconds 10] [--out bench/results]\n',
  );
  process.exit(0);
}
const MINUTES = Number(values.minutes);
const RESIDENTS = Number(values.residents);
const RATE = Number(values.rate);
const SAMPLE_MS = Number(values['sample-seconds']) * 1000;
const OUT = resolve(values.out);
const SITE = 'soak';
const say = (line: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface Sample {
  elapsedS: number;
  night: number;
  siteTime: string;
  gatewayRssMb: number;
  gatewayHeapMb: number;
  serverRssMb: number;
  serverHeapMb: number;
  sent: number;
  gatewayMessages: number;
  alarmsRaised: number;
  alarmsResolved: number;
  outboxDepth: number;
  /** The machine's 1-minute load average: other work on the same two cores shows here. */
  load1: number;
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-soak-'));
  const children: ChildProcess[] = [];
  const started = Date.now();
  const deadline = started + MINUTES * 60_000;
  try {
    const ward = demoWard({ residents: RESIDENTS, siteId: SITE });
    const wardFile = join(dir, 'ward.json');
    writeFileSync(wardFile, JSON.stringify(ward));
    const token = `soak-${Date.now()}-token-0123456789`;
    const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const configFile = join(dir, 'gateway.json');
    const serverUrl = `http://127.0.0.1:${httpPort}`;
    writeFileSync(
      configFile,
      JSON.stringify(
        gatewayConfig({
          siteId: SITE,
          mqttPort,
          healthPort,
          stateDir: join(dir, 'gateway'),
          wardFile,
          clock: 'simulated',
          server: { url: serverUrl, token },
        }),
      ),
    );
    say(`${ward.sensors.length} sensors, ${MINUTES} min, about ${RATE} msg/s; starting server and gateway …`);
    const { server, cookie } = await startServerAsNurse({ port: httpPort, dataDir: join(dir, 'server'), wardFile, token });
    children.push(server);
    const gateway = startNode(['gateway/dist/src/main.js', '--config', configFile]);
    children.push(gateway);
    await waitHealthy(`http://127.0.0.1:${healthPort}/health`, gateway);

    // The night nurse: resolves every alarm she is sent, so open alarms stay few as on a real night.
    const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`${serverUrl}/staff`, {
      transports: ['websocket'],
      extraHeaders: { cookie },
    });
    let raised = 0;
    let resolved = 0;
    const handled = new Set<string>();
    const byRule = new Map<string, number>();
    staff.on('alarm', (alarm) => {
      if (alarm.status === 'resolved' || handled.has(alarm.id)) return;
      handled.add(alarm.id);
      raised++;
      byRule.set(alarm.rule, (byRule.get(alarm.rule) ?? 0) + 1);
      staff.emit('resolve', { alarmId: alarm.id, by: 'Soak', outcome: 'false-alarm' }, (result) => {
        if (result.ok) resolved++;
      });
    });
    await new Promise<void>((r) => staff.once('connect', () => r()));

    let sent = 0;
    let night = 0;
    let siteTime = 0;
    const samples: Sample[] = [];
    const sample = async () => {
      if (gateway.pid === undefined || server.pid === undefined) return;
      // RSS from /proc now; the heap from /metrics, which a busy process answers late (or not within 3 s: NaN).
      const at = {
        elapsedS: Math.round((Date.now() - started) / 1000),
        gatewayRssMb: memoryMb(gateway.pid).rss,
        serverRssMb: memoryMb(server.pid).rss,
      };
      const within = <T>(work: Promise<T>, fallback: T) =>
        Promise.race([work.catch(() => fallback), new Promise<T>((r) => setTimeout(() => r(fallback), 3000))]);
      const [g, s, h] = await Promise.all([
        within(scrape(`http://127.0.0.1:${healthPort}/metrics`), ''),
        within(scrape(`${serverUrl}/metrics`), ''),
        within(
          fetch(`http://127.0.0.1:${healthPort}/health`).then((r) => r.json() as Promise<{ outboxDepth: number }>),
          { outboxDepth: Number.NaN },
        ),
      ]);
      const heap = (text: string, name: string) => (text === '' ? Number.NaN : metricValue(text, name) / 2 ** 20);
      const row: Sample = {
        elapsedS: at.elapsedS,
        night,
        siteTime: siteTime ? new Date(siteTime).toISOString() : '',
        gatewayRssMb: at.gatewayRssMb,
        gatewayHeapMb: heap(g, 'nattevakt_gateway_nodejs_heap_size_used_bytes'),
        serverRssMb: at.serverRssMb,
        serverHeapMb: heap(s, 'nattevakt_server_nodejs_heap_size_used_bytes'),
        sent,
        gatewayMessages: g === '' ? Number.NaN : metricValue(g, 'nattevakt_gateway_messages_total'),
        alarmsRaised: raised,
        alarmsResolved: resolved,
        outboxDepth: h.outboxDepth,
        load1: loadavg()[0] ?? Number.NaN,
      };
      samples.push(row);
      if (samples.length % 6 === 1) {
        say(
          `night ${night} ${row.siteTime.slice(0, 16)} sent ${sent} gateway RSS ${row.gatewayRssMb.toFixed(0)} MB heap ${row.gatewayHeapMb.toFixed(0)} MB, ` +
            `server RSS ${row.serverRssMb.toFixed(0)} MB heap ${row.serverHeapMb.toFixed(0)} MB, alarms ${raised}/${resolved} resolved, outbox ${row.outboxDepth}`,
        );
      }
    };
    await sample();
    const sampler = setInterval(() => void sample(), SAMPLE_MS);

    // Nights one after the other until the time is up; the last one is cut short by the deadline.
    const evening = (n: number) => new Date(Date.now() + (2 + n) * 86_400_000).toISOString().slice(0, 10);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), deadline - Date.now());
    const nightSpeeds: number[] = [];
    while (Date.now() < deadline) {
      const date = evening(night);
      const messages = planNight(ward, { seed: 1000 + night, night: date, from: values.from, to: values.to });
      const first = messages[0]?.at ?? 0;
      const last = messages[messages.length - 1]?.at ?? first;
      const speed = Math.min(100_000, Math.max(1, (last - first) / ((messages.length / RATE) * 1000)));
      nightSpeeds.push(speed);
      night++;
      say(`night ${night} (${date}): ${messages.length} messages at ${speed.toFixed(0)}× speed`);
      const result = await playNight(messages, {
        url: `mqtt://127.0.0.1:${mqttPort}`,
        speed,
        siteId: SITE,
        signal: abort.signal,
        onMessage: () => {
          sent++;
        },
        onProgress: (p) => {
          siteTime = p.simTime;
        },
      });
      if (result.aborted) break;
      if (gateway.exitCode !== null || server.exitCode !== null) throw new Error('a process died during the soak');
    }
    clearTimeout(timer);
    clearInterval(sampler);
    await sample();
    staff.disconnect();
    const health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as { outboxDepth: number };

    // Output: CSV, SVG, summary.
    mkdirSync(OUT, { recursive: true });
    const stamp = new Date(started).toISOString().slice(0, 16).replace(/[:T]/g, '');
    const columns = Object.keys(samples[0] ?? {}) as (keyof Sample)[];
    const csv = [
      columns.join(','),
      ...samples.map((r) => columns.map((c) => (typeof r[c] === 'number' ? Number((r[c] as number).toFixed(2)) : r[c])).join(',')),
    ].join('\n');
    const csvFile = join(OUT, `soak-${stamp}.csv`);
    writeFileSync(csvFile, `${csv}\n`);
    const command = `node bench/dist/src/soak.js ${process.argv.slice(2).join(' ')}`.trim();
    const minutes = (r: Sample) => r.elapsedS / 60;
    const svg = lineChart({
      title: `Soak: memory over ${night} accelerated nights, ${ward.sensors.length} sensors`,
      x: { label: 'minutes (real time)' },
      y: { label: 'MB' },
      series: [
        { name: 'gateway RSS', points: samples.map((r) => [minutes(r), r.gatewayRssMb]) },
        { name: 'server RSS', points: samples.map((r) => [minutes(r), r.serverRssMb]) },
        { name: 'gateway heap used', points: samples.map((r) => [minutes(r), r.gatewayHeapMb]), dashed: true },
        { name: 'server heap used', points: samples.map((r) => [minutes(r), r.serverHeapMb]), dashed: true },
      ],
      caption: [`${machine()}; ${new Date(started).toISOString()}`, `command: ${command}`],
    });
    const svgFile = join(OUT, `soak-${stamp}.svg`);
    writeFileSync(svgFile, svg);

    // Flat or not: after the first fifth (warm-up: caches, the SQLite page cache, JIT), the trend
    // of each series in MB per hour, and the median of the last fifth against the second fifth.
    const steady = samples.filter((r) => r.elapsedS >= (samples.at(-1)?.elapsedS ?? 0) / 5);
    const fifth = Math.max(1, Math.floor(steady.length / 4));
    const trend = (key: keyof Sample) => {
      const known = steady.filter((r) => Number.isFinite(r[key]));
      const pts = known.map((r) => [r.elapsedS / 3600, r[key] as number] as [number, number]);
      const early = median(known.slice(0, fifth).map((r) => r[key] as number));
      const late = median(known.slice(-fifth).map((r) => r[key] as number));
      const perHour = slope(pts);
      const flat = Math.abs(late - early) <= Math.max(10, 0.1 * early) && perHour < Math.max(20, 0.2 * early);
      return { early: Number(early.toFixed(1)), late: Number(late.toFixed(1)), mbPerHour: Number(perHour.toFixed(1)), flat };
    };
    const summary = {
      machine: machine(),
      command,
      minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
      nights: night,
      sensors: ward.sensors.length,
      speeds: nightSpeeds.map((s) => Math.round(s)),
      messagesSent: sent,
      gatewayMessages: samples.at(-1)?.gatewayMessages,
      alarmsRaised: raised,
      alarmsResolved: resolved,
      alarmsByRule: Object.fromEntries(byRule),
      outboxAtEnd: health.outboxDepth,
      gatewayRss: trend('gatewayRssMb'),
      gatewayHeap: trend('gatewayHeapMb'),
      serverRss: trend('serverRssMb'),
      serverHeap: trend('serverHeapMb'),
      peakMb: { gateway: memoryMb(gateway.pid ?? 0).peak, server: memoryMb(server.pid ?? 0).peak },
      csv: csvFile,
      svg: svgFile,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(OUT, `soak-${stamp}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await Promise.all(children.map((c) => stop(c)));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
