#!/usr/bin/env node
// The demo ward in one command: server (embedded stores, built web app), gateway (embedded
// broker, simulated site clock) and the simulator playing a night for 24 residents.
// Each part runs as its own process, exactly as in production; their JSON logs go to
// data/demo/logs/, and this terminal says what is happening.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explainAlarm } from '@nattevakt/protocol/explain/explain-alarm';
import mqtt from 'mqtt';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(process.env.NATTEVAKT_DEMO_DIR ?? join(root, 'data/demo'));
const httpPort = Number(process.env.NATTEVAKT_PORT ?? 8080);
const mqttPort = Number(process.env.NATTEVAKT_MQTT_PORT ?? 1884);
const healthPort = Number(process.env.NATTEVAKT_GATEWAY_HEALTH_PORT ?? 9101);
const speed = Number(process.env.NATTEVAKT_DEMO_SPEED ?? 30);
const residents = Number(process.env.NATTEVAKT_DEMO_RESIDENTS ?? 24);
const from = process.env.NATTEVAKT_DEMO_FROM ?? '02:50';

const say = (text) => process.stdout.write(`[nattevakt] ${text}\n`);
const children = [];
let stopping = false;

for (const file of ['server/dist/src/main.js', 'gateway/dist/src/main.js', 'simulator/dist/src/cli.js', 'web/dist/index.html']) {
  if (!existsSync(join(root, file))) {
    say(`${file} is missing: run "npm run build" first (npm start does both).`);
    process.exit(1);
  }
}
mkdirSync(join(dataDir, 'logs'), { recursive: true });

/** Starts a part; its stdout (JSON logs) goes to a file, its stderr to the terminal with a prefix. */
function run(name, args, { stderrToTerminal = true } = {}) {
  const log = createWriteStream(join(dataDir, 'logs', `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.on('data', (chunk) => {
    // The server's printed demo logins (passwords) go to the terminal only, never into a log file.
    const text = chunk.toString();
    log.write(text.includes('[demo-login]') ? text.replace(/^.*\[demo-login\].*$\n?/gm, '') : chunk);
    if (stderrToTerminal) for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} stopped unexpectedly (${signal ?? `exit code ${code}`}); see ${join(dataDir, 'logs', `${name}.log`)}`);
    void shutdown(1);
  });
  children.push(child);
  return child;
}

async function waitForHealth(name, url, ms = 20_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (stopping) return;
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  say(`${name} did not become healthy at ${url} within ${ms / 1000} s; see ${join(dataDir, 'logs', `${name}.log`)}`);
  await shutdown(1);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping the demo …');
  await Promise.all(
    children.map(
      (child) =>
        new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', done);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// The ward and the gateway's token live in the demo's data folder, so a restart keeps them.
const wardFile = join(dataDir, 'ward.json');
if (!existsSync(wardFile)) {
  const ward = spawn(process.execPath, ['simulator/dist/src/cli.js', 'ward', '--residents', String(residents)], { cwd: root });
  let json = '';
  ward.stdout.on('data', (c) => (json += c));
  await new Promise((done) => ward.on('exit', done));
  writeFileSync(wardFile, json);
}
const tokenFile = join(dataDir, 'gateway-token');
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString('hex'), { mode: 0o600 });
const token = readFileSync(tokenFile, 'utf8').trim();
const gatewayConfig = join(dataDir, 'gateway.json');
writeFileSync(
  gatewayConfig,
  `${JSON.stringify(
    {
      version: 1,
      siteId: JSON.parse(readFileSync(wardFile, 'utf8')).site.id,
      mqtt: { host: '127.0.0.1', port: mqttPort, users: [] },
      server: { url: `http://127.0.0.1:${httpPort}`, token },
      stateDir: join(dataDir, 'gateway'),
      clock: 'simulated',
      http: { host: '127.0.0.1', port: healthPort },
      siteConfigFile: wardFile,
      // The tablets' fallback when the server is gone: the gateway announces it, /api/ward hands it on.
      localFeed: {
        token: `${token}-local`,
        publicUrl: `http://127.0.0.1:${healthPort}`,
        allowedOrigins: [`http://localhost:${httpPort}`, `http://127.0.0.1:${httpPort}`],
      },
    },
    null,
    2,
  )}\n`,
);

say(`starting the server on http://127.0.0.1:${httpPort} (logs: ${join(dataDir, 'logs')})`);
run('server', [
  'server/dist/src/main.js',
  '--port',
  String(httpPort),
  '--data-dir',
  join(dataDir, 'server'),
  '--seed-site',
  wardFile,
  '--gateway-token',
  token,
  '--seed-demo-users',
]);
await waitForHealth('server', `http://127.0.0.1:${httpPort}/api/health`);

say(`starting the gateway with its MQTT broker on 127.0.0.1:${mqttPort} (set NATTEVAKT_MQTT_PORT to change it)`);
run('gateway', ['gateway/dist/src/main.js', '--config', gatewayConfig]);
await waitForHealth('gateway', `http://127.0.0.1:${healthPort}/health`);

// What is happening: every alarm the gateway decides, from its local alarm topic.
const ward = JSON.parse(readFileSync(wardFile, 'utf8'));
const roomName = (id) => ward.rooms.find((r) => r.id === id)?.name ?? id;
const residentName = (id) => ward.residents.find((r) => r.id === id)?.name;
const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'demo-terminal' });
await watcher.subscribeAsync(`nattevakt/v1/${ward.site.id}/alarms`, { qos: 1 });
watcher.on('message', (_topic, payload) => {
  const alarm = JSON.parse(payload.toString());
  const words = explainAlarm(alarm, {
    lang: 'nb',
    timeZone: ward.site.timezone,
    roomName: roomName(alarm.roomId),
    residentName: residentName(alarm.residentId),
  });
  say(`ALARM (${alarm.priority}) ${words.title}: ${words.detail}`);
});

say(`the simulator plays the night from ${from} at ${speed}× speed for ${ward.residents.length} residents`);
run('simulator', [
  'simulator/dist/src/cli.js',
  'play',
  '--config',
  wardFile,
  '--url',
  `mqtt://127.0.0.1:${mqttPort}`,
  '--seed',
  '7',
  '--from',
  from,
  '--to',
  '07:00',
  '--speed',
  String(speed),
  '--loop',
]);

say('');
say(`Open http://localhost:${httpPort} on a tablet-sized window: the ward board for the night nurse.`);
say(
  'At 03:10 (site time) the resident in room 7 walks out of the door; at 03:50 the resident in room 12 has been out of bed for 20 minutes.',
);
say('Press Ctrl+C to stop.');
