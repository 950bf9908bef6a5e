#!/usr/bin/env node
/**
 * End-to-end alarm latency, with every part a real process: a sensor message published to the
 * gateway's broker → rule decision → outbox → uplink → server → Socket.IO `/staff` client.
 *
 *   npm run build && npm run bench:latency -w bench -- --alarms 500 --sensors 24
 *
 * Each round opens one door (an alarm) and closes it again; rounds run one after another, so
 * this measures latency, not throughput. Prints p50 / p90 / p99 / max in milliseconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Alarm } from '@nattevakt/protocol/alarm';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';

const { values } = parseArgs({ options: { alarms: { type: 'string', default: '300' }, sensors: { type: 'string', default: '24' } } });
const rounds = Number(values.alarms);
const residents = Number(values.sensors);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became healthy`);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-bench-'));
  const children: ChildProcess[] = [];
  try {
    const ward = demoWard({ residents, siteId: 'bench' });
    const wardFile = join(dir, 'ward.json');
    writeFileSync(wardFile, JSON.stringify(ward));
    const token = randomBytes(24).toString('hex');
    const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const gatewayConfig = join(dir, 'gateway.json');
    writeFileSync(
      gatewayConfig,
      JSON.stringify({
        version: 1,
        siteId: 'bench',
        mqtt: { port: mqttPort },
        http: { port: healthPort },
        server: { url: `http://127.0.0.1:${httpPort}`, token },
        stateDir: join(dir, 'gateway'),
        clock: 'simulated',
        siteConfigFile: wardFile,
      }),
    );
    const start = (args: string[]) => {
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
    };
    process.stderr.write('[bench] starting server and gateway …\n');
    start([
      'server/dist/src/main.js',
      '--port',
      String(httpPort),
      '--data-dir',
      join(dir, 'server'),
      '--seed-site',
      wardFile,
      '--gateway-token',
      token,
    ]);
    await waitHealthy(`http://127.0.0.1:${httpPort}/api/health`);
    start(['gateway/dist/src/main.js', '--config', gatewayConfig]);
    await waitHealthy(`http://127.0.0.1:${healthPort}/health`);

    const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`http://127.0.0.1:${httpPort}/staff`, { transports: ['websocket'] });
    await new Promise<void>((r) => staff.once('connect', () => r()));
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'bench-sensors' });
    // 03:00 on the site clock: inside every resident's night window.
    await sensor.publishAsync(topics.clock('bench'), JSON.stringify({ time: '2026-11-25T02:00:00.000Z', speed: 1 }), { qos: 1 });
    const gatewayConnected = async () =>
      ((await (await fetch(`http://127.0.0.1:${httpPort}/api/ward`)).json()) as { gatewayConnected: boolean }).gatewayConnected;
    for (let i = 0; i < 50 && !(await gatewayConnected()); i++) await new Promise((r) => setTimeout(r, 100));

    const latencies: number[] = [];
    let pending: ((alarm: Alarm) => void) | null = null;
    const seen = new Set<string>();
    staff.on('alarm', (alarm) => {
      // Only a newly raised alarm counts; later changes (condition cleared) carry the same id.
      if (seen.has(alarm.id)) return;
      seen.add(alarm.id);
      pending?.(alarm);
    });
    for (let i = 0; i < rounds; i++) {
      const room = (i % residents) + 1;
      const received = new Promise<Alarm>((r) => {
        pending = r;
      });
      const sent = performance.now();
      await sensor.publishAsync(topics.sensorState('bench', `door-${room}`), '{"kind":"door","open":true}', { qos: 0 });
      const alarm = await Promise.race([
        received,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`round ${i}: no alarm within 5 s`)), 5000)),
      ]);
      latencies.push(performance.now() - sent);
      if (alarm.roomId !== `room-${room}`) throw new Error(`round ${i}: alarm for ${alarm.roomId}, expected room-${room}`);
      await sensor.publishAsync(topics.sensorState('bench', `door-${room}`), '{"kind":"door","open":false}', { qos: 0 });
      if (i % 50 === 49) process.stderr.write(`[bench] ${i + 1}/${rounds} alarms\n`);
    }
    staff.disconnect();
    await sensor.endAsync();

    const sorted = [...latencies].sort((a, b) => a - b);
    const fmt = (v: number) => v.toFixed(2);
    const result = {
      machine: `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      alarms: rounds,
      residents,
      p50_ms: fmt(percentile(sorted, 50)),
      p90_ms: fmt(percentile(sorted, 90)),
      p99_ms: fmt(percentile(sorted, 99)),
      max_ms: fmt(sorted[sorted.length - 1] ?? Number.NaN),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${(error as Error).message}\n`);
  process.exit(1);
});
