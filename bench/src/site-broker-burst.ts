#!/usr/bin/env node
/**
 * A burst on the site's broker: the built gateway in external-broker mode, a client of the
 * machine's Mosquitto (as on a site with its own broker), and one sensor client publishing
 * --messages QoS 1 messages as fast as Mosquitto takes them. Mosquitto keeps at most
 * `max_queued_messages` (1,000 by default) for a subscriber that is behind and drops the rest, so
 * what the gateway took of the burst is how well it keeps up. Reports messages published, taken
 * (the gateway's `nattevakt_gateway_messages_total`) and dropped, and the time to take them.
 *
 *   npx tsc -b && node bench/dist/src/site-broker-burst.js [--messages 6000] [--runs 3] [--mosquitto mqtt://127.0.0.1:1883]
 *   node bench/dist/src/site-broker-burst.js --queue 10000   # its own Mosquitto (loopback, ephemeral port) with
 *                                                            # max_queued_messages 10000, as deploy/mosquitto/mosquitto.conf
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt from 'mqtt';
import { freePort, gatewayConfig, machine, metricValue, scrape, startNode, stop, waitHealthy } from './processes.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '6000' },
    runs: { type: 'string', default: '3' },
    mosquitto: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    queue: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const say = (line: string) => process.stderr.write(`[site-broker-burst ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function run(n: number): Promise<{ taken: number; seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-burst-'));
  const siteId = `burst-${randomBytes(3).toString('hex')}`;
  const clientId = `nattevakt-gateway-${siteId}`;
  const ward = demoWard({ residents: 1, siteId });
  const sensor = ward.sensors.find((s) => s.kind === 'door');
  if (sensor === undefined) throw new Error('the demo ward has no door');
  const wardFile = join(dir, 'ward.json');
  writeFileSync(wardFile, JSON.stringify(ward));
  const healthPort = await freePort();
  const configFile = join(dir, 'gateway.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      gatewayConfig({
        siteId,
        mqttPort: 0,
        healthPort,
        stateDir: join(dir, 'gateway'),
        wardFile,
        clock: 'system',
        server: null,
        siteBroker: { url: values.mosquitto, clientId },
      }),
    ),
  );
  const gateway = startNode(['gateway/dist/src/main.js', '--config', configFile]);
  const metrics = `http://127.0.0.1:${healthPort}/metrics`;
  try {
    await waitHealthy(`http://127.0.0.1:${healthPort}/health`, gateway);
    await sleep(500); // subscribed
    const taken = async () => metricValue(await scrape(metrics), 'nattevakt_gateway_messages_total');
    const before = await taken();
    const publisher = await mqtt.connectAsync(values.mosquitto, { clientId: `burst-sensor-${siteId}` });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        publisher.publishAsync(topics.sensorState(siteId, sensor.id), `{"kind":"door","open":false,"battery":${i % 100}}`, { qos: 1 }),
      ),
    );
    await publisher.endAsync();
    // Until everything is taken, or nothing more comes for a second (Mosquitto dropped the rest).
    let last = -1;
    let now = await taken();
    let finished = performance.now();
    while (now - before < MESSAGES && now !== last) {
      last = now;
      await sleep(1000);
      now = await taken();
      if (now !== last) finished = performance.now();
    }
    const result = { taken: now - before, seconds: (finished - started) / 1000 };
    say(`run ${n}: published ${MESSAGES}, taken ${result.taken}, dropped ${MESSAGES - result.taken}, in ${result.seconds.toFixed(2)} s`);
    return result;
  } finally {
    await stop(gateway);
    // Drop the gateway's persistent session on Mosquitto.
    const cleanup = await mqtt.connectAsync(values.mosquitto, { clientId, clean: true, reconnectPeriod: 0 });
    await cleanup.endAsync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --queue: a Mosquitto of our own with that queue per client (the machine's keeps its default, 1,000). */
let ownBroker: ChildProcess | null = null;
if (values.queue !== undefined) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-burst-mosquitto-'));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages ${Number(values.queue)}\nlog_dest stderr\nlog_type error\n`,
  );
  ownBroker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  values.mosquitto = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await (await mqtt.connectAsync(values.mosquitto, { reconnectPeriod: 0 })).endAsync();
      break;
    } catch (error) {
      if (i > 50) throw new Error(`our Mosquitto did not start: ${(error as Error).message}`);
      await sleep(100);
    }
  }
}
say(
  `${machine()}; ${MESSAGES} QoS 1 messages per burst through ${values.mosquitto}` +
    `${values.queue === undefined ? " (the machine's Mosquitto)" : ` (our Mosquitto, max_queued_messages ${values.queue})`}, ${values.runs} runs`,
);
const results = [];
for (let n = 1; n <= Number(values.runs); n++) results.push(await run(n));
process.stdout.write(
  `| run | published | taken by the gateway | dropped by Mosquitto | seconds |\n| --: | --: | --: | --: | --: |\n${results
    .map((r, i) => `| ${i + 1} | ${MESSAGES} | ${r.taken} | ${MESSAGES - r.taken} | ${r.seconds.toFixed(2)} |`)
    .join('\n')}\n`,
);
ownBroker?.kill('SIGTERM');
