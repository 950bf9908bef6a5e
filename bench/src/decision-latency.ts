#!/usr/bin/env node
/**
 * Decision latency and sustained throughput of the gateway, every part a separate process:
 * sensor messages published over MQTT (QoS 1) to the gateway's embedded broker → adapter →
 * outbox write → rules → alarm written to the outbox → alarm on the local alarm topic
 * `nattevakt/v1/{site}/alarms`, where this process measures it. The gateway writes an alarm to
 * its outbox before it publishes it locally (gateway.ts #onAlarm), so "on the local topic" means
 * "decided and durably enqueued". The server runs too, so the outbox drains as in production.
 *
 *   npx tsc -b && node bench/dist/src/decision-latency.js
 *   node bench/dist/src/decision-latency.js --sensors 10000 --rate 2000 --seconds 10 --profile /tmp/prof
 *
 * For each site size: a fixed offered rate (token-paced) for the latency percentiles, then a ramp
 * for the highest rate the gateway sustains without loss, then the same publish → subscribe hop
 * through the machine's Mosquitto (no rules) with identical pacing, as the floor. See bench/README.md.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import {
  cpuSeconds,
  freePort,
  gatewayConfig,
  machine,
  memoryMb,
  metricValue,
  percentile,
  scrape,
  startNode,
  startServerAsNurse,
  stop,
  waitHealthy,
} from './processes.js';

const { values } = parseArgs({
  options: {
    sensors: { type: 'string', default: '1000,10000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    ramp: { type: 'string', default: '1000,2000,3000,5000,7500,10000,15000,20000,25000,30000' },
    'ramp-seconds': { type: 'string', default: '5' },
    publishers: { type: 'string', default: '4' },
    mosquitto: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    'no-server': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'no-resolve': { type: 'boolean', default: false },
    'open-every': { type: 'string', default: '20' },
    profile: { type: 'string' },
    'gateway-node-args': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'node bench/dist/src/decision-latency.js [--sensors 1000,10000] [--rate 2000] [--seconds 10] [--ramp 1000,2000,…]\n' +
      '  [--ramp-seconds 5] [--publishers 4] [--open-every 20] [--mosquitto mqtt://127.0.0.1:1883] [--no-server] [--no-resolve]\n' +
      '  [--no-floor] [--profile DIR] [--gateway-node-args "--max-semi-space-size=2 …"]\n',
  );
  process.exit(0);
}
const SITE = 'bench';
const LOAD_AT_START = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
const SIZES = values.sensors.split(',').map(Number);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RAMP = values.ramp.split(',').map(Number);
const RAMP_SECONDS = Number(values['ramp-seconds']);
const PUBLISHERS = Number(values.publishers);
/** One message in this many opens a door (an alarm, measured); the door closes again half as many messages later. */
const OPEN_EVERY = Number(values['open-every']);
/** A night nurse (a /staff client) resolves every alarm, so open alarms stay few, as on a real night. */
const RESOLVE = !values['no-server'] && !values['no-resolve'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const num = (v: number, digits = 0) => (Number.isNaN(v) ? '–' : v.toFixed(digits));

// ── the site ──────────────────────────────────────────────────────────────────────────────────

/** HH:MM in Oslo, `offsetMinutes` from now. */
function osloClock(offsetMinutes: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Oslo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    Date.now() + offsetMinutes * 60_000,
  );
}

/**
 * A site of `sensors` sensors on the system clock, its night window around now, so a door that
 * opens during the run is a door opening at night. Up to 1,000 sensors: the demo ward (one bed
 * mat and one door contact per room). Above: the configuration's limit is 2,000 residents, so
 * 2,000 rooms with one bed mat and the rest as door contacts (10,000 sensors: four per room —
 * corridor, bathroom, balcony, window).
 */
function benchWard(sensors: number): SiteConfig {
  const nightWindow = { start: osloClock(-60), end: osloClock(240) };
  if (sensors % 2 !== 0) throw new Error('--sensors must be even');
  let ward: SiteConfig;
  if (sensors <= 1000) {
    ward = demoWard({ residents: sensors / 2, siteId: SITE });
  } else {
    const rooms = Math.min(2000, sensors / 2);
    const doorsPerRoom = sensors / rooms - 1;
    if (!Number.isInteger(doorsPerRoom)) throw new Error(`--sensors ${sensors} must be a multiple of ${rooms}`);
    const base = demoWard({ residents: 1, siteId: SITE });
    const plan = base.residents[0]?.plan;
    if (plan === undefined) throw new Error('demo ward without a resident');
    ward = {
      ...base,
      rooms: Array.from({ length: rooms }, (_, i) => ({ id: `room-${i + 1}`, name: `Rom ${i + 1}` })),
      residents: Array.from({ length: rooms }, (_, i) => ({ id: `res-${i + 1}`, name: `Beboer ${i + 1}`, roomId: `room-${i + 1}`, plan })),
      sensors: Array.from({ length: rooms }, (_, i) => [
        { id: `bed-${i + 1}`, kind: 'bed' as const, roomId: `room-${i + 1}`, residentId: `res-${i + 1}` },
        ...Array.from({ length: doorsPerRoom }, (_, k) => ({
          id: `door-${i + 1}-${k + 1}`,
          kind: 'door' as const,
          roomId: `room-${i + 1}`,
        })),
      ]).flat(),
    };
  }
  ward = { ...ward, residents: ward.residents.map((r) => ({ ...r, plan: { ...r.plan, nightWindow } })) };
  const checked = checkSiteConfig(ward);
  if (!checked.ok) throw new Error(`bench ward is invalid: ${checked.errors.join('; ')}`);
  if (checked.value.sensors.length !== sensors) throw new Error(`bench ward has ${checked.value.sensors.length} sensors, not ${sensors}`);
  return checked.value;
}

// ── the traffic ───────────────────────────────────────────────────────────────────────────────

interface Sensor {
  id: string;
  kind: 'bed' | 'door';
  /** Which publisher connection carries it: one per sensor, so its messages stay in order. */
  connection: number;
  /** open (door) / occupied (bed). */
  state: boolean;
}

interface Message {
  sensor: Sensor;
  payload: string;
  /** A door opening at night: the gateway must raise door-open-at-night for it. */
  opening: boolean;
}

/**
 * Deterministic sensor traffic: mostly heartbeats (the current state and battery) round-robin
 * over every sensor, and every 20th message a door opening, closed again 10 messages later. The
 * next opening in the same room comes only after every other room had one, so each opening is a
 * closed → open transition of its resident: one alarm each.
 */
class Traffic {
  readonly sensors: Sensor[];
  readonly #doors: Sensor[];
  #position = 0;
  #heartbeat = 0;
  #nextDoor = 0;
  #closing: { sensor: Sensor; at: number }[] = [];

  constructor(ward: SiteConfig) {
    this.sensors = ward.sensors.map((s, i) => ({ id: s.id, kind: s.kind, connection: i % PUBLISHERS, state: s.kind === 'bed' }));
    // Doors room by room for each door slot: door-1-1, door-2-1, …, then door-1-2, …
    const slot = (id: string) => Number(id.split('-')[2] ?? 1);
    const room = (id: string) => Number(id.split('-')[1]);
    this.#doors = this.sensors.filter((s) => s.kind === 'door').sort((a, b) => slot(a.id) - slot(b.id) || room(a.id) - room(b.id));
  }

  next(): Message {
    const position = this.#position++;
    const due = this.#closing[0];
    if (due !== undefined && due.at <= position) {
      this.#closing.shift();
      due.sensor.state = false;
      return { sensor: due.sensor, payload: payload(due.sensor), opening: false };
    }
    if (position % OPEN_EVERY === 0) {
      const door = this.#doors[this.#nextDoor++ % this.#doors.length];
      if (door !== undefined && !door.state) {
        door.state = true;
        this.#closing.push({ sensor: door, at: position + OPEN_EVERY / 2 });
        return { sensor: door, payload: payload(door), opening: true };
      }
    }
    const sensor = this.sensors[this.#heartbeat++ % this.sensors.length] as Sensor;
    return { sensor, payload: payload(sensor), opening: false };
  }
}

const payload = (s: Sensor) =>
  s.kind === 'door' ? `{"kind":"door","open":${s.state},"battery":90}` : `{"kind":"bed","occupied":${s.state},"battery":90}`;

// ── publishing at a fixed rate ────────────────────────────────────────────────────────────────

interface Publishers {
  clients: MqttClient[];
  topicOf(sensor: Sensor): string;
  sent: number;
  acked: number;
  failed: number;
}

async function connectPublishers(url: string, topicOf: (sensor: Sensor) => string, name: string): Promise<Publishers> {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) =>
      mqtt.connectAsync(url, { clientId: `${name}-${i}-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0 }),
    ),
  );
  return { clients, topicOf, sent: 0, acked: 0, failed: 0 };
}

/**
 * Offers `rate` messages per second for `seconds`, paced by a token count (the messages due by
 * now are sent every millisecond tick), QoS 1. `onOpening` is told just before a door opening
 * is sent. Returns the rate actually offered.
 */
async function offer(
  pubs: Publishers,
  traffic: Traffic,
  rate: number,
  seconds: number,
  onOpening: (sensor: Sensor) => void,
  progress: (elapsed: number) => void,
  alive: () => boolean = () => true,
): Promise<{ sent: number; seconds: number }> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  let lastProgress = start;
  while (sent < total && alive()) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const message = traffic.next();
      const client = pubs.clients[message.sensor.connection] as MqttClient;
      if (message.opening) onOpening(message.sensor);
      pubs.sent++;
      client.publish(pubs.topicOf(message.sensor), message.payload, { qos: 1 }, (error) => {
        if (error) pubs.failed++;
        else pubs.acked++;
      });
    }
    if (now - lastProgress >= 1000) {
      lastProgress = now;
      progress((now - start) / 1000);
    }
    await sleep(1);
  }
  return { sent, seconds: (performance.now() - start) / 1000 };
}

/** Latency of each door opening: from just before its publish to its alarm (or message, for the floor). */
class Openings {
  readonly #pending = new Map<string, number>();
  readonly latencies: number[] = [];
  unmatched = 0;

  opened(sensorId: string): void {
    this.#pending.set(sensorId, performance.now());
  }

  arrived(sensorId: string): void {
    const at = this.#pending.get(sensorId);
    if (at === undefined) {
      this.unmatched++;
      return;
    }
    this.#pending.delete(sensorId);
    this.latencies.push(performance.now() - at);
  }

  get waiting(): number {
    return this.#pending.size;
  }

  /** Percentiles of what arrived so far, and starts over. */
  take(): { n: number; p50: number; p99: number; max: number; missing: number } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const result = {
      n: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      missing: this.#pending.size,
    };
    this.latencies.length = 0;
    this.#pending.clear();
    return result;
  }
}

// ── the gateway under test ───────────────────────────────────────────────────────────────────

interface GatewayUnderTest {
  gateway: ChildProcess;
  /** The gateway's last stderr lines (a crash's stack). */
  gatewayErrors(): string;
  server: ChildProcess | null;
  serverUrl: string;
  /** The demo nurse's session cookie. */
  cookie: string;
  healthUrl: string;
  mqttUrl: string;
  dir: string;
}

async function startSite(ward: SiteConfig, profileDir: string | undefined): Promise<GatewayUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-decision-'));
  const wardFile = join(dir, 'ward.json');
  writeFileSync(wardFile, JSON.stringify(ward));
  const token = randomBytes(24).toString('hex');
  const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  let server: ChildProcess | null = null;
  let cookie = '';
  if (!values['no-server']) {
    ({ server, cookie } = await startServerAsNurse({ port: httpPort, dataDir: join(dir, 'server'), wardFile, token }));
    // Its stderr is piped for the demo passwords: keep reading it, so a full pipe never blocks the server.
    server.stderr?.resume();
  }
  const configFile = join(dir, 'gateway.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      gatewayConfig({
        siteId: SITE,
        mqttPort,
        healthPort,
        stateDir: join(dir, 'gateway'),
        wardFile,
        clock: 'system',
        server: server ? { url: `http://127.0.0.1:${httpPort}`, token } : null,
      }),
    ),
  );
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const gateway = startNode(['gateway/dist/src/main.js', '--config', configFile], {
    nodeArgs: [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ...values['gateway-node-args'].split(' ').filter((a) => a !== ''),
    ],
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  gateway.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-8192);
  });
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  await waitHealthy(`${healthUrl}/health`, gateway);
  if (server) {
    for (let i = 0; i < 100; i++) {
      if (((await (await fetch(`${healthUrl}/health`)).json()) as { uplinkConnected: boolean }).uplinkConnected) break;
      await sleep(100);
    }
  }
  return {
    gateway,
    gatewayErrors: () => errors,
    server,
    cookie,
    serverUrl: `http://127.0.0.1:${httpPort}`,
    healthUrl,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    dir,
  };
}

interface GatewaySample {
  accepted: number;
  outbox: number;
  cpu: number;
  serverCpu: number;
  at: number;
  decisions: Map<string, number>;
}

async function sample(site: GatewayUnderTest): Promise<GatewaySample> {
  const text = await scrape(`${site.healthUrl}/metrics`);
  const decisions = new Map<string, number>();
  for (const m of text.matchAll(/^nattevakt_gateway_decision_seconds_bucket\{le="([^"]+)"\} (\d+)/gm))
    decisions.set(m[1] ?? '', Number(m[2]));
  return {
    accepted: metricValue(text, 'nattevakt_gateway_messages_total'),
    outbox: metricValue(text, 'nattevakt_gateway_outbox_depth'),
    cpu: cpuSeconds(site.gateway.pid ?? 0),
    serverCpu: site.server && site.server.exitCode === null ? cpuSeconds(site.server.pid ?? 0) : Number.NaN,
    at: performance.now(),
    decisions,
  };
}

/** The gateway's own decision histogram between two samples: the smallest bucket holding the quantile. */
function decisionQuantile(before: GatewaySample, after: GatewaySample, q: number): string {
  const buckets = [...after.decisions.entries()].map(([le, n]) => ({ le, n: n - (before.decisions.get(le) ?? 0) }));
  const total = buckets.find((b) => b.le === '+Inf')?.n ?? 0;
  if (total === 0) return '–';
  const hit = buckets.find((b) => b.n >= q * total);
  return hit === undefined || hit.le === '+Inf' ? '> 100 ms' : `≤ ${Number(hit.le) * 1000} ms`;
}

/** Waits until the gateway has counted every message sent (or `ms` passed); returns what it counted. */
async function settle(site: GatewayUnderTest, base: number, sent: number, waitMs: number): Promise<GatewaySample> {
  const until = performance.now() + waitMs;
  for (;;) {
    const s = await sample(site);
    if (s.accepted - base >= sent || performance.now() > until) return s;
    await sleep(100);
  }
}

async function drainOutbox(site: GatewayUnderTest, waitMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < waitMs) {
    if ((await sample(site)).outbox === 0) return (performance.now() - start) / 1000;
    await sleep(200);
  }
  return Number.POSITIVE_INFINITY;
}

// ── one step at one rate ─────────────────────────────────────────────────────────────────────

interface StepResult {
  rate: number;
  offered: number;
  sent: number;
  accepted: number;
  lagAtEnd: number;
  outboxAtEnd: number;
  drainSeconds: number;
  gatewayCpu: number;
  serverCpu: number;
  latency: ReturnType<Openings['take']>;
  decisionP99: string;
  sustained: boolean;
  why: string;
  /** The gateway crashed or is still behind: restart it before the next step. */
  broken: boolean;
  /** Gateway resident memory at the end of the step, MB. */
  rss: number;
}

const crashed = (site: GatewayUnderTest) => site.gateway.exitCode !== null || site.gateway.signalCode !== null;

function crashReport(site: GatewayUnderTest): string {
  const lines = site.gatewayErrors().split('\n');
  const error =
    lines.find((l) => /Error|error/.test(l) && !l.startsWith('{')) ?? `exit ${site.gateway.exitCode ?? site.gateway.signalCode}`;
  return `gateway crashed: ${error.trim().slice(0, 160)}`;
}

async function step(
  label: string,
  site: GatewayUnderTest,
  pubs: Publishers,
  traffic: Traffic,
  openings: Openings,
  rate: number,
  seconds: number,
): Promise<StepResult> {
  const before = await sample(site);
  const sentBefore = pubs.sent;
  const ackedBefore = pubs.acked;
  const offered = await offer(
    pubs,
    traffic,
    rate,
    seconds,
    (sensor) => openings.opened(sensor.id),
    (elapsed) => {
      sample(site).then(
        (s) =>
          say(
            `${label} · ${rate}/s · ${elapsed.toFixed(0)}/${seconds} s · sent ${pubs.sent - sentBefore} · gateway ${s.accepted - before.accepted}` +
              ` · outbox ${s.outbox} · alarms ${openings.latencies.length} · gateway CPU ${(((s.cpu - before.cpu) / (s.at - before.at)) * 1e5).toFixed(0)}%` +
              ` · RSS ${memoryMb(site.gateway.pid ?? 0).rss.toFixed(0)} MB`,
          ),
        () => undefined,
      );
    },
    () => !crashed(site),
  );
  const failed = (why: string): StepResult => ({
    rate,
    offered: offered.sent / offered.seconds,
    sent: offered.sent,
    accepted: Number.NaN,
    lagAtEnd: Number.NaN,
    outboxAtEnd: Number.NaN,
    drainSeconds: Number.NaN,
    gatewayCpu: Number.NaN,
    serverCpu: Number.NaN,
    latency: openings.take(),
    decisionP99: '–',
    sustained: false,
    why,
    broken: true,
    rss: Number.NaN,
  });
  // The gateway acknowledges a QoS 1 message only after it has written it to the outbox and run the
  // rules on it, so the PUBACKs count what it has taken, at once (its /metrics answer late when it is saturated).
  const lagAtEnd = offered.sent - (pubs.acked - ackedBefore);
  if (crashed(site)) return failed(crashReport(site));
  const atEnd = await sample(site).catch(() => null);
  if (atEnd === null) return failed(crashed(site) ? crashReport(site) : 'gateway metrics unreadable');
  const rss = memoryMb(site.gateway.pid ?? 0).rss;
  const settled = await settle(site, before.accepted, offered.sent, 10_000).catch(() => null);
  if (settled === null) return failed(crashed(site) ? crashReport(site) : 'gateway metrics unreadable');
  // Alarms for the last openings are still on their way: give them a moment.
  for (let i = 0; i < 40 && openings.waiting > 0; i++) await sleep(50);
  const latency = openings.take();
  const accepted = settled.accepted - before.accepted;
  const outboxAtEnd = atEnd.outbox;
  const caughtUp = accepted >= offered.sent;
  // A gateway still far behind is restarted for the next step rather than waited for. Without a
  // server nothing drains the outbox: nothing to wait for.
  const drainSeconds = values['no-server'] ? Number.NaN : caughtUp ? await drainOutbox(site, 30_000) : Number.POSITIVE_INFINITY;
  const gatewayCpu = ((atEnd.cpu - before.cpu) / ((atEnd.at - before.at) / 1000)) * 100;
  const serverCpu = ((atEnd.serverCpu - before.serverCpu) / ((atEnd.at - before.at) / 1000)) * 100;
  const reasons: string[] = [];
  if (!caughtUp) reasons.push(`${offered.sent - accepted} messages not accepted 10 s after the step`);
  if (lagAtEnd > rate * 0.5) reasons.push(`gateway ${(lagAtEnd / rate).toFixed(1)} s behind at the end`);
  if (!values['no-server'] && outboxAtEnd > rate) reasons.push(`outbox ${(outboxAtEnd / rate).toFixed(1)} s behind at the end`);
  if (latency.missing > 0) reasons.push(`${latency.missing} alarms missing`);
  if (offered.sent / offered.seconds < rate * 0.95)
    reasons.push(`publishers offered only ${(offered.sent / offered.seconds).toFixed(0)}/s`);
  return {
    rate,
    offered: offered.sent / offered.seconds,
    sent: offered.sent,
    accepted,
    lagAtEnd,
    outboxAtEnd,
    drainSeconds,
    gatewayCpu,
    serverCpu,
    latency,
    decisionP99: decisionQuantile(before, settled, 0.99),
    sustained: reasons.length === 0,
    why: reasons.join('; ') || 'ok',
    broken: !caughtUp || drainSeconds === Number.POSITIVE_INFINITY,
    rss,
  };
}

// ── the floor: the same hop through Mosquitto, no rules ──────────────────────────────────────

async function floor(ward: SiteConfig, rate: number, seconds: number): Promise<ReturnType<Openings['take']> & { offered: number }> {
  const prefix = `nattevakt-bench/${randomBytes(4).toString('hex')}`;
  const traffic = new Traffic(ward);
  const pubs = await connectPublishers(values.mosquitto, (s) => `${prefix}/sensors/${s.id}/state`, 'floor-pub');
  const openings = new Openings();
  const sub = await mqtt.connectAsync(values.mosquitto, { clientId: `floor-sub-${randomBytes(3).toString('hex')}` });
  sub.on('message', (topic, payload) => {
    if (payload.includes('"open":true')) openings.arrived(topic.split('/')[3] ?? '');
  });
  await sub.subscribeAsync(`${prefix}/#`, { qos: 1 });
  try {
    await offer(
      pubs,
      traffic,
      rate,
      2,
      () => undefined,
      () => undefined,
    ); // warm-up, as for the gateway
    await sleep(500);
    openings.take();
    const offered = await offer(
      pubs,
      traffic,
      rate,
      seconds,
      (s) => openings.opened(s.id),
      (elapsed) => say(`floor (Mosquitto) · ${rate}/s · ${elapsed.toFixed(0)}/${seconds} s · sent ${pubs.sent} · acked ${pubs.acked}`),
    );
    for (let i = 0; i < 40 && openings.waiting > 0; i++) await sleep(50);
    return { ...openings.take(), offered: offered.sent / offered.seconds };
  } finally {
    await Promise.all([sub.endAsync(), ...pubs.clients.map((c) => c.endAsync())]);
  }
}

// ── CPU profile summary ──────────────────────────────────────────────────────────────────────

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function and by part of the stack, over every .cpuprofile in `dir` (one per gateway process the run started). */
function summarizeProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return `no .cpuprofile in ${dir}`;
  const nodes = files.flatMap((file) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] }).nodes);
  const profile = { nodes };
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byPart = new Map<string, number>();
  const part = (url: string, name: string) => {
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
    if (url.includes('/protocol/dist/src/rules/')) return 'rule engine (protocol/rules)';
    if (url.includes('luxon')) return 'luxon (night window, time zones)';
    if (url.includes('better-sqlite3') || name.includes('Statement') || name === 'run') return 'SQLite (outbox)';
    if (url.includes('/aedes') || url.includes('mqtt-packet') || url.includes('mqemitter') || url.includes('qlobber'))
      return 'MQTT broker (aedes)';
    if (url.includes('pino') || url.includes('sonic-boom')) return 'logging (pino)';
    if (url.includes('socket.io') || url.includes('engine.io') || url.includes('/ws/')) return 'uplink (socket.io)';
    if (url.includes('typebox') || url.includes('/validation')) return 'validation (typebox)';
    if (url.includes('/gateway/dist/')) return 'gateway code';
    if (url.includes('/protocol/dist/')) return 'protocol code';
    if (url.startsWith('node:') || url === '') return 'node internals / native';
    return 'other';
  };
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const p = part(url, functionName);
    byPart.set(p, (byPart.get(p) ?? 0) + hits);
  }
  const pct = (n: number) => `${((n / total) * 100).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${k}`)
      .join('\n');
  return `CPU profile: ${files.length} file(s) in ${dir} (${total} samples)\nby part:\n${top(byPart, 12)}\ntop functions (self time):\n${top(byFunction, 15)}`;
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

interface SizeResult {
  sensors: number;
  fixed: StepResult;
  ramp: StepResult[];
  highest: StepResult | undefined;
  floor: (ReturnType<Openings['take']> & { offered: number }) | null;
  rss: { rss: number; peak: number };
  rssAfterFixed: number;
  /** Open alarms on the server after the fixed-rate step. */
  openAfterFixed: number;
  alarmsByRule: Map<string, number>;
  profile: string | null;
}

const children = new Set<ChildProcess>();
async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c)));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void stopAll().then(() => process.exit(130));
  });
}

/** The gateway (and server) under test with the bench's clients: publishers, the alarm watcher, the nurse. */
class Rig {
  site!: GatewayUnderTest;
  pubs!: Publishers;
  #watcher: MqttClient | null = null;
  #nurse: Socket<StaffServerToClient, StaffClientToServer> | null = null;
  resolved = 0;
  readonly alarmsByRule = new Map<string, number>();
  readonly openings = new Openings();
  traffic: Traffic;

  constructor(
    private readonly ward: SiteConfig,
    private readonly profileDir: string | undefined,
  ) {
    this.traffic = new Traffic(ward);
  }

  async start(): Promise<void> {
    this.site = await startSite(this.ward, this.profileDir);
    children.add(this.site.gateway);
    if (this.site.server) children.add(this.site.server);
    const watcher = await mqtt.connectAsync(this.site.mqttUrl, { clientId: 'bench-alarm-watcher', reconnectPeriod: 0 });
    watcher.on('error', () => undefined);
    watcher.on('message', (_topic, payload) => {
      const alarm = JSON.parse(payload.toString()) as AlarmDecision;
      this.alarmsByRule.set(alarm.rule, (this.alarmsByRule.get(alarm.rule) ?? 0) + 1);
      if (alarm.rule === 'door-open-at-night') this.openings.arrived(alarm.sensorId);
    });
    await watcher.subscribeAsync(topics.alarms(SITE), { qos: 1 });
    this.#watcher = watcher;
    if (RESOLVE && this.site.server) {
      const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`${this.site.serverUrl}/staff`, {
        transports: ['websocket'],
        extraHeaders: { cookie: this.site.cookie },
      });
      staff.on('connect_error', (error) => say(`the nurse cannot connect: ${error.message}`));
      const seen = new Set<string>();
      staff.on('alarm', (alarm) => {
        if (alarm.status === 'resolved' || seen.has(alarm.id)) return;
        seen.add(alarm.id);
        staff.emit('resolve', { alarmId: alarm.id, by: 'Benchmark', outcome: 'false-alarm' }, (result) => {
          if (result.ok) this.resolved++;
        });
      });
      this.#nurse = staff;
    }
    this.pubs = await connectPublishers(this.site.mqttUrl, (s) => topics.sensorState(SITE, s.id), 'bench-pub');
    // A fresh gateway knows no state: the traffic starts over with every door closed.
    this.traffic = new Traffic(this.ward);
  }

  async openAlarms(): Promise<number> {
    if (!this.site.server) return Number.NaN;
    const response = await fetch(`${this.site.serverUrl}/api/alarms/open`, { headers: { cookie: this.site.cookie } });
    return ((await response.json()) as { alarms: unknown[] }).alarms.length;
  }

  async stop(): Promise<void> {
    this.#nurse?.disconnect();
    await Promise.all(
      [this.#watcher?.endAsync(true), ...this.pubs.clients.map((c) => c.endAsync(true))].map((p) => p?.catch(() => undefined)),
    );
    await stop(this.site.gateway);
    children.delete(this.site.gateway);
    if (this.site.server) {
      await stop(this.site.server);
      children.delete(this.site.server);
    }
    rmSync(this.site.dir, { recursive: true, force: true });
  }

  async restart(reason: string): Promise<void> {
    say(`restarting the gateway and server: ${reason}`);
    await this.stop();
    await this.start();
  }

  async run(label: string, rate: number, seconds: number): Promise<StepResult> {
    const result = await step(label, this.site, this.pubs, this.traffic, this.openings, rate, seconds);
    say(`${label} ${rate}/s: ${result.sustained ? 'sustained' : `NOT sustained (${result.why})`}`);
    if (result.broken) await this.restart(result.why);
    return result;
  }
}

async function measure(sensors: number): Promise<SizeResult> {
  const ward = benchWard(sensors);
  say(
    `${sensors} sensors: ${ward.residents.length} residents, night window ${ward.residents[0]?.plan.nightWindow.start}–${ward.residents[0]?.plan.nightWindow.end} (Oslo)`,
  );
  const profileDir = values.profile ? join(values.profile, String(sensors)) : undefined;
  const rig = new Rig(ward, profileDir);
  await rig.start();
  try {
    // Warm-up at a tenth of the rate: the JIT warm, every sensor heard, before anything is measured.
    await rig.run(`${sensors} sensors warm-up`, Math.max(50, RATE / 10), 3);

    const fixed = await rig.run(`${sensors} sensors fixed`, RATE, SECONDS);
    const rssAfterFixed = crashed(rig.site) ? Number.NaN : memoryMb(rig.site.gateway.pid ?? 0).rss;
    const openAfterFixed = await rig.openAlarms().catch(() => Number.NaN);
    say(
      `${sensors} sensors at ${RATE}/s: decision latency p50 ${ms(fixed.latency.p50)} ms, p99 ${ms(fixed.latency.p99)} ms, max ${ms(fixed.latency.max)} ms ` +
        `(${fixed.latency.n} alarms, ${openAfterFixed} open, ${rig.resolved} resolved by the nurse); ${fixed.why}`,
    );

    // Up the ramp until a rate is not sustained; if the first is not, halve down to one that is; then bisect twice.
    const ramp: StepResult[] = [];
    let lastGood: number | undefined;
    let firstBad: number | undefined;
    for (const rate of RAMP) {
      const r = await rig.run(`${sensors} sensors ramp`, rate, RAMP_SECONDS);
      ramp.push(r);
      if (!r.sustained) {
        firstBad = rate;
        break;
      }
      lastGood = rate;
    }
    while (lastGood === undefined && firstBad !== undefined && firstBad > 25) {
      const rate = Math.floor(firstBad / 2);
      const r = await rig.run(`${sensors} sensors ramp down`, rate, RAMP_SECONDS);
      ramp.push(r);
      if (r.sustained) lastGood = rate;
      else firstBad = rate;
    }
    for (let i = 0; i < 2 && firstBad !== undefined && lastGood !== undefined && firstBad - lastGood > Math.max(50, lastGood / 10); i++) {
      const rate = Math.round((lastGood + firstBad) / 2 / 10) * 10;
      const r = await rig.run(`${sensors} sensors bisect`, rate, RAMP_SECONDS);
      ramp.push(r);
      if (r.sustained) lastGood = rate;
      else firstBad = rate;
    }
    const highest = ramp.filter((r) => r.sustained).sort((a, b) => b.rate - a.rate)[0];
    const rss = memoryMb(rig.site.gateway.pid ?? 0);
    await rig.stop();
    const profile = profileDir ? summarizeProfile(profileDir) : null;
    const floorResult = values['no-floor'] ? null : await floor(ward, RATE, SECONDS);
    return {
      sensors,
      fixed,
      ramp,
      highest,
      floor: floorResult,
      rss,
      rssAfterFixed,
      openAfterFixed,
      alarmsByRule: rig.alarmsByRule,
      profile,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function report(results: SizeResult[]): string {
  const lines: string[] = [];
  lines.push(`machine: ${machine()}`);
  // Other work on the machine shows in every number here: say how busy it was.
  lines.push(
    `load average at the start: ${LOAD_AT_START}; at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  lines.push(
    `gateway ${values['no-server'] ? 'alone (no server)' : 'with the server as a separate process'}; ${PUBLISHERS} publisher connections, QoS 1; ` +
      `1 message in ${OPEN_EVERY} a door opening at night; ${RESOLVE ? 'a nurse client resolves every alarm' : 'nobody resolves alarms'}`,
  );
  lines.push('');
  lines.push(
    `| sensors | offered msg/s | decision p50 | p99 | max | alarms | gateway histogram p99 | floor (Mosquitto) p50 / p99 / max | gateway CPU | gateway RSS | highest sustained msg/s |`,
  );
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const f = r.floor;
    lines.push(
      `| ${r.sensors} | ${r.fixed.offered.toFixed(0)} | ${ms(r.fixed.latency.p50)} ms | ${ms(r.fixed.latency.p99)} ms | ${ms(r.fixed.latency.max)} ms | ${r.fixed.latency.n} | ${r.fixed.decisionP99} | ` +
        `${f ? `${ms(f.p50)} / ${ms(f.p99)} / ${ms(f.max)} ms` : '–'} | ${num(r.fixed.gatewayCpu)}% | ${num(r.rssAfterFixed)} MB (peak ${num(r.rss.peak)} MB) | ` +
        `${r.highest ? r.highest.rate : `< ${r.ramp[0]?.rate ?? '?'}`} |`,
    );
  }
  for (const r of results) {
    lines.push('');
    lines.push(`ramp, ${r.sensors} sensors (${RAMP_SECONDS} s per step):`);
    lines.push(
      '| offered msg/s | accepted | unacknowledged at end | outbox at end | outbox drained in | gateway CPU | server CPU | gateway RSS | alarm p50 / p99 | verdict |',
    );
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const s of [r.fixed, ...r.ramp]) {
      lines.push(
        `| ${s.rate}${s === r.fixed ? ' (fixed)' : ''} | ${num(s.accepted)}/${s.sent} | ${num(s.lagAtEnd)} | ${num(s.outboxAtEnd)} | ` +
          `${Number.isNaN(s.drainSeconds) ? '–' : Number.isFinite(s.drainSeconds) ? `${s.drainSeconds.toFixed(1)} s` : 'not waited'} | ` +
          `${num(s.gatewayCpu)}% | ${num(s.serverCpu)}% | ${num(s.rss)} MB | ${ms(s.latency.p50)} / ${ms(s.latency.p99)} ms | ${s.sustained ? 'sustained' : s.why} |`,
      );
    }
    lines.push(
      `alarms by rule: ${[...r.alarmsByRule.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}; open on the server after the fixed step: ${r.openAfterFixed}`,
    );
    if (r.profile) lines.push('', r.profile);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const results: SizeResult[] = [];
  for (const sensors of SIZES) results.push(await measure(sensors));
  process.stdout.write(`${report(results)}\n`);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`[bench] failed: ${(error as Error).stack}\n`);
  await stopAll();
  process.exit(1);
});
