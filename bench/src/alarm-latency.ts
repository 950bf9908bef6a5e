#!/usr/bin/env node
/**
 * End-to-end alarm latency, with every part a real process: a sensor message published to the
 * gateway's broker → rule decision → uplink → server → Socket.IO `/staff` client: the first the
 * nurse hears (the provisional alarm the gateway announces as it decides), and the stored alarm
 * (rule decision → outbox → acknowledged batch → stored and audited → `/staff`), both timed.
 *
 *   npm run build && npm run bench:latency -w bench -- --alarms 500 --sensors 24
 *
 * Each round opens one door (an alarm) and closes it again; rounds run one after another, so
 * this measures latency, not throughput. Prints p50 / p90 / p99 / max in milliseconds.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Alarm } from '@nattevakt/protocol/alarm';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import {
  freePort,
  gatewayConfig as gatewayConfigOf,
  machine,
  percentile,
  startNode,
  startServerAsNurse,
  waitHealthy,
} from './processes.js';

const { values } = parseArgs({ options: { alarms: { type: 'string', default: '300' }, sensors: { type: 'string', default: '24' } } });
const rounds = Number(values.alarms);
const residents = Number(values.sensors);

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
      JSON.stringify(
        gatewayConfigOf({
          siteId: 'bench',
          mqttPort,
          healthPort,
          server: { url: `http://127.0.0.1:${httpPort}`, token },
          stateDir: join(dir, 'gateway'),
          clock: 'simulated',
          wardFile,
        }),
      ),
    );
    const start = (args: string[]) => {
      children.push(startNode(args));
    };
    process.stderr.write('[bench] starting server and gateway …\n');
    // The server seeds demo users and prints their one-time passwords on stderr: log in as the nurse.
    const { server, cookie } = await startServerAsNurse({ port: httpPort, dataDir: join(dir, 'server'), wardFile, token });
    children.push(server);
    start(['gateway/dist/src/main.js', '--config', gatewayConfig]);
    await waitHealthy(`http://127.0.0.1:${healthPort}/health`);

    const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`http://127.0.0.1:${httpPort}/staff`, {
      transports: ['websocket'],
      extraHeaders: { cookie },
    });
    await new Promise<void>((r) => staff.once('connect', () => r()));
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'bench-sensors' });
    // 03:00 on the site clock: inside every resident's night window.
    await sensor.publishAsync(topics.clock('bench'), JSON.stringify({ time: '2026-11-25T02:00:00.000Z', speed: 1 }), { qos: 1 });
    const gatewayConnected = async () =>
      ((await (await fetch(`http://127.0.0.1:${httpPort}/api/ward`, { headers: { cookie } })).json()) as { gatewayConnected: boolean })
        .gatewayConnected;
    for (let i = 0; i < 50 && !(await gatewayConnected()); i++) await new Promise((r) => setTimeout(r, 100));

    const latencies: number[] = [];
    const toldLatencies: number[] = [];
    let pending: ((alarm: Alarm) => void) | null = null;
    let told: (() => void) | null = null;
    const seen = new Set<string>();
    const heard = new Set<string>();
    staff.on('provisionalAlarm', (decision) => {
      if (heard.has(decision.id) || decision.rule !== 'door-open-at-night') return;
      heard.add(decision.id);
      told?.();
    });
    staff.on('alarm', (alarm) => {
      // Only a newly raised door alarm counts: later changes (condition cleared) carry the same id, and the
      // site clock stands still here, so the door contacts also raise technical alarms (flapping).
      if (seen.has(alarm.id) || alarm.rule !== 'door-open-at-night') return;
      seen.add(alarm.id);
      if (!heard.has(alarm.id)) {
        heard.add(alarm.id);
        told?.();
      }
      pending?.(alarm);
    });
    for (let i = 0; i < rounds; i++) {
      const room = (i % residents) + 1;
      const received = new Promise<Alarm>((r) => {
        pending = r;
      });
      let toldAt = Number.NaN;
      told = () => {
        toldAt = performance.now();
        told = null;
      };
      const sent = performance.now();
      await sensor.publishAsync(topics.sensorState('bench', `door-${room}`), '{"kind":"door","open":true}', { qos: 0 });
      const alarm = await Promise.race([
        received,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`round ${i}: no alarm within 5 s`)), 5000)),
      ]);
      latencies.push(performance.now() - sent);
      toldLatencies.push(toldAt - sent);
      if (alarm.roomId !== `room-${room}`) throw new Error(`round ${i}: alarm for ${alarm.roomId}, expected room-${room}`);
      await sensor.publishAsync(topics.sensorState('bench', `door-${room}`), '{"kind":"door","open":false}', { qos: 0 });
      if (i % 50 === 49) process.stderr.write(`[bench] ${i + 1}/${rounds} alarms\n`);
    }
    staff.disconnect();
    await sensor.endAsync();

    const fmt = (v: number) => v.toFixed(2);
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return {
        p50_ms: fmt(percentile(sorted, 50)),
        p90_ms: fmt(percentile(sorted, 90)),
        p99_ms: fmt(percentile(sorted, 99)),
        max_ms: fmt(sorted[sorted.length - 1] ?? Number.NaN),
      };
    };
    const result = {
      machine: machine(),
      alarms: rounds,
      residents,
      /** The first the nurse's client heard of each alarm (normally the provisional alarm). */
      told: summary(toldLatencies),
      /** The stored alarm, with its lifecycle, at the nurse's client. */
      stored: summary(latencies),
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
