#!/usr/bin/env node
/**
 * The fault suite at full scale, by hand (e2e/test/faults.test.ts runs the same faults small in CI):
 * 1,000 sensors, a stream of sensor messages at a steady rate through the real gateway and server
 * processes, and one fault per scenario a third of the way in. For each: messages sent,
 * acknowledged and stored; alarms decided on the gateway, stored on the server and on a nurse's
 * tablet (a /staff client that reconnects and resyncs as the web app does); lost, duplicated, and
 * the longest delay from decision to tablet.
 *
 *   npx tsc -b bench && node bench/dist/src/faults-full.js                      # every scenario, ~15 min
 *   node bench/dist/src/faults-full.js --scenarios uplink-cut --cut-seconds 300 --messages 20000
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket as NetSocket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { freePort, gatewayConfig, machine, startNode, startServerAsNurse, stop, waitHealthy } from './processes.js';

const SCENARIOS = ['server-kill9', 'gateway-term', 'gateway-kill9', 'uplink-cut', 'nurse-drop'] as const;
type Scenario = (typeof SCENARIOS)[number];
const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    residents: { type: 'string', default: '500' },
    messages: { type: 'string', default: '12000' },
    rate: { type: 'string', default: '150' },
    'cut-seconds': { type: 'string', default: '300' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    `node bench/dist/src/faults-full.js [--scenarios ${SCENARIOS.join(',')}] [--residents 500] [--messages 12000] [--rate 150] [--cut-seconds 300]\n`,
  );
  process.exit(0);
}
const RESIDENTS = Number(values.residents);
const MESSAGES = Number(values.messages);
const RATE = Number(values.rate);
const CUT_MS = Number(values['cut-seconds']) * 1000;
const SITE = 'faults';
const say = (line: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** A TCP proxy that can cut the gateway's uplink (every connection dropped, new ones refused). */
class UplinkProxy {
  #server: Server | null = null;
  readonly #sockets = new Set<NetSocket>();
  port = 0;
  constructor(readonly target: number) {}
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new NetSocket();
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.connect(this.target, '127.0.0.1');
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** The nurse's tablet: reconnects, resyncs from /api/alarms/changes on connect and on a seq gap. */
class Nurse {
  readonly socket: Socket<StaffServerToClient, StaffClientToServer>;
  readonly firstSeen = new Map<string, number>();
  readonly latest = new Map<string, Alarm>();
  #lastSeq = 0;
  constructor(
    private readonly url: string,
    /** Replaced when the server is restarted with new demo passwords (a new session). */
    public cookie: string,
  ) {
    this.socket = io(`${url}/staff`, {
      transports: ['websocket'],
      extraHeaders: { cookie },
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
    });
    this.socket.on('connect', () => void this.resync());
    this.socket.on('alarm', (alarm) => {
      const from = this.#lastSeq;
      this.#take(alarm);
      if (alarm.seq > from + 1) void this.resync();
    });
  }
  async resync(): Promise<void> {
    for (let page = 0; page < 1000; page++) {
      const since = this.#lastSeq;
      try {
        const response = await fetch(`${this.url}/api/alarms/changes?since=${since}`, { headers: { cookie: this.cookie } });
        const list = (await response.json()) as { alarms: Alarm[]; more?: boolean };
        for (const alarm of list.alarms) this.#take(alarm);
        if (!list.more || this.#lastSeq === since) return;
      } catch {
        return; // the server is away: the next connect resyncs
      }
    }
  }
  #take(alarm: Alarm): void {
    if (!this.firstSeen.has(alarm.id)) this.firstSeen.set(alarm.id, performance.now());
    if ((this.latest.get(alarm.id)?.seq ?? 0) < alarm.seq) this.latest.set(alarm.id, alarm);
    this.#lastSeq = Math.max(this.#lastSeq, alarm.seq);
  }
}

interface Outcome {
  scenario: Scenario;
  sent: number;
  acked: number;
  storedEvents: number;
  lostEvents: number;
  duplicateEvents: number;
  decided: number;
  storedAlarms: number;
  duplicateAlarms: number;
  duplicatesByRule: Record<string, number>;
  duplicateExamples: object[];
  atNurse: number;
  lostAtNurse: number;
  longestDelayMs: number;
  drainedSeconds: number;
}

async function runScenario(scenario: Scenario): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-faults-full-'));
  const children: { server?: ChildProcess; gateway?: ChildProcess } = {};
  const closers: (() => Promise<unknown> | unknown)[] = [];
  try {
    const ward = demoWard({ residents: RESIDENTS, siteId: SITE });
    const wardFile = join(dir, 'ward.json');
    writeFileSync(wardFile, JSON.stringify(ward));
    const token = randomBytes(24).toString('hex');
    const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const serverOptions = { port: httpPort, dataDir: join(dir, 'server'), wardFile, token };
    const first = await startServerAsNurse(serverOptions);
    const server = first.server;
    let cookie = first.cookie;
    children.server = server;
    const proxy = new UplinkProxy(httpPort);
    await proxy.start();
    closers.push(() => proxy.cut());
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
          clock: 'simulated',
          server: { url: `http://127.0.0.1:${proxy.port}`, token },
        }),
      ),
    );
    const startGateway = async () => {
      children.gateway = startNode(['gateway/dist/src/main.js', '--config', configFile]);
      await waitHealthy(`http://127.0.0.1:${healthPort}/health`, children.gateway);
    };
    await startGateway();
    const httpUrl = `http://127.0.0.1:${httpPort}`;

    // What the gateway decides, from its local alarm topic (reconnecting across gateway restarts).
    const decided = new Map<string, number>();
    const local = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'faults-full-local', reconnectPeriod: 100 });
    local.on('error', () => undefined);
    local.on('connect', () => void local.subscribeAsync(topics.alarms(SITE), { qos: 1 }).catch(() => undefined));
    local.on('message', (_t, payload) => {
      const alarm = JSON.parse(payload.toString()) as AlarmDecision;
      if (!decided.has(alarm.id)) decided.set(alarm.id, performance.now());
    });
    closers.push(() => local.endAsync(true));
    const nurse = new Nurse(httpUrl, cookie);
    closers.push(() => nurse.socket.disconnect());

    // The stream: a deterministic night, a state change of one sensor per message, one site second apart.
    const start = Date.parse(`${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)}T01:00:00.000Z`);
    let seed = 20261125;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed >>> 16;
    };
    const state = new Map<string, boolean>();
    const payloads: string[] = [];
    const sentTopics: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const room = (next() % RESIDENTS) + 1;
      const kind = next() % 2 === 0 ? 'door' : 'bed';
      const id = `${kind}-${room}`;
      const value = !(state.get(id) ?? kind === 'bed');
      state.set(id, value);
      const time = new Date(start + i * 1000).toISOString();
      payloads.push(JSON.stringify(kind === 'door' ? { kind, open: value, time } : { kind, occupied: value, time }));
      sentTopics.push(topics.sensorState(SITE, id));
    }
    const acked = new Set<number>();
    let sent = 0;
    let client: MqttClient | null = null;
    let connections = 0;
    const connected = async (index: number): Promise<MqttClient> => {
      if (client?.connected) return client;
      for (;;) {
        try {
          client = await mqtt.connectAsync(
            `mqtt://127.0.0.1:${mqttPort}`,
            { clientId: `faults-full-player-${++connections}`, reconnectPeriod: 0 },
            false,
          );
          client.on('error', () => undefined);
          await client.publishAsync(topics.clock(SITE), JSON.stringify({ time: new Date(start + index * 1000).toISOString(), speed: 1 }), {
            qos: 1,
          });
          return client;
        } catch {
          await sleep(100);
        }
      }
    };
    const faultAt = Math.floor(MESSAGES / 3);
    let fault: Promise<unknown> = Promise.resolve();
    const began = performance.now();
    for (let i = 0; i < MESSAGES; ) {
      const c = await connected(i);
      const due = Math.min(MESSAGES, Math.floor(((performance.now() - began) / 1000) * RATE) + 1);
      for (; i < due && c.connected; i++) {
        if (i % 10 === 0)
          c.publish(topics.clock(SITE), JSON.stringify({ time: new Date(start + i * 1000).toISOString(), speed: 1 }), { qos: 1 });
        const index = i;
        sent++;
        c.publish(sentTopics[i] ?? '', payloads[i] ?? '', { qos: 1 }, (error) => {
          if (!error) acked.add(index);
        });
        if (i === faultAt) fault = inject(scenario);
      }
      if (i % 2000 < 10)
        say(
          `${scenario}: ${i}/${MESSAGES} sent, ${acked.size} acknowledged, ${decided.size} alarms decided, ${nurse.firstSeen.size} at the nurse`,
        );
      await sleep(5);
    }
    await fault;

    async function inject(which: Scenario): Promise<void> {
      say(`${which}: fault at message ${faultAt}`);
      if (which === 'server-kill9' && children.server) {
        children.server.kill('SIGKILL');
        await sleep(500);
        const restarted = await startServerAsNurse(serverOptions);
        children.server = restarted.server;
        // The demo users are seeded again with new passwords: the nurse logs in again.
        cookie = restarted.cookie;
        nurse.cookie = cookie;
        nurse.socket.io.opts.extraHeaders = { cookie };
      } else if ((which === 'gateway-term' || which === 'gateway-kill9') && children.gateway) {
        const gone = new Promise((r) => children.gateway?.once('exit', r));
        children.gateway.kill(which === 'gateway-term' ? 'SIGTERM' : 'SIGKILL');
        await gone;
        await startGateway();
      } else if (which === 'uplink-cut') {
        await proxy.cut();
        say(`uplink cut for ${CUT_MS / 1000} s`);
        await sleep(CUT_MS);
        await proxy.start();
        say('uplink restored');
      } else if (which === 'nurse-drop') {
        nurse.socket.disconnect();
        await sleep(5_000);
        nurse.socket.connect();
      }
    }

    // Drain: the outbox empty and the store settled, then read everything back.
    const drainStart = performance.now();
    let events: { id: string; raw: string }[] = [];
    let changes: Alarm[] = [];
    let lastSize = -1;
    for (let i = 0; i < 600; i++) {
      const health = (await fetch(`http://127.0.0.1:${healthPort}/health`)
        .then((r) => r.json())
        .catch(() => ({ outboxDepth: -1 }))) as { outboxDepth: number };
      if (health.outboxDepth === 0) {
        const read = async <T>(url: string): Promise<T> => {
          const response = await fetch(url, { headers: { cookie } });
          if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
          return (await response.json()) as T;
        };
        // At most 10,000 events per request: read in windows of two site hours (7,200 messages at most).
        const windows = [Date.parse('2000-01-01T00:00:00Z'), start - 3_600_000];
        for (let t = start - 3_600_000; t < start + MESSAGES * 1000 + 3_600_000; t += 7_200_000) windows.push(t + 7_200_000);
        windows.push(Date.parse('2100-01-01T00:00:00Z'));
        events = [];
        for (let w = 0; w + 1 < windows.length; w++) {
          const query = `from=${new Date(windows[w] ?? 0).toISOString()}&to=${new Date(windows[w + 1] ?? 0).toISOString()}&limit=10000`;
          events.push(...(await read<{ events: typeof events }>(`${httpUrl}/api/sites/${SITE}/events?${query}`)).events);
        }
        // The changes come in pages (`more`): every alarm in its latest version.
        const latest = new Map<string, Alarm>();
        for (let since = 0, page = 0; page < 1000; page++) {
          const list = await read<{ seq: number; alarms: Alarm[]; more?: boolean }>(`${httpUrl}/api/alarms/changes?since=${since}`);
          for (const alarm of list.alarms) if ((latest.get(alarm.id)?.seq ?? 0) < alarm.seq) latest.set(alarm.id, alarm);
          const top = Math.max(since, ...list.alarms.map((a) => a.seq));
          if (!list.more || top === since) break;
          since = top;
        }
        changes = [...latest.values()];
        const size = events.length + changes.length;
        if (size === lastSize && changes.every((a) => nurse.latest.has(a.id))) break;
        lastSize = size;
      }
      await sleep(500);
    }
    const drainedSeconds = (performance.now() - drainStart) / 1000;
    const indexOf = new Map(payloads.map((p, i) => [p, i]));
    const storedIdx = events.map((e) => indexOf.get(e.raw) ?? -1);
    const storedSet = new Set(storedIdx);
    const alarmIds = changes.map((a) => a.id);
    // Two alarms for the same evidence (rule, sensor, events; only where there are events) are one condition alarmed twice.
    const byEvidence = new Map<string, Alarm[]>();
    for (const alarm of changes) {
      if (alarm.evidence.eventIds.length === 0) continue;
      const key = `${alarm.rule} ${alarm.sensorId ?? ''} ${alarm.residentId ?? ''} ${alarm.evidence.eventIds.join(',')}`;
      byEvidence.set(key, [...(byEvidence.get(key) ?? []), alarm]);
    }
    const duplicates = [...byEvidence.values()].filter((group) => group.length > 1).flatMap((group) => group.slice(1));
    const delays = [...nurse.firstSeen].map(([id, at]) => at - (decided.get(id) ?? Number.NaN)).filter(Number.isFinite);
    return {
      scenario,
      sent,
      acked: acked.size,
      storedEvents: events.length,
      lostEvents: [...acked].filter((i) => !storedSet.has(i)).length,
      duplicateEvents: storedIdx.length - storedSet.size,
      decided: decided.size,
      storedAlarms: changes.length,
      duplicateAlarms: duplicates.length,
      duplicatesByRule: Object.fromEntries(
        [...new Set(duplicates.map((d) => d.rule))].map((rule) => [rule, duplicates.filter((d) => d.rule === rule).length]),
      ),
      duplicateExamples: duplicates.slice(0, 3).map((d) => ({
        rule: d.rule,
        sensorId: d.sensorId,
        residentId: d.residentId,
        raisedAt: d.raisedAt,
        eventIds: d.evidence.eventIds,
      })),
      atNurse: nurse.latest.size,
      lostAtNurse: alarmIds.filter((id) => !nurse.latest.has(id)).length,
      longestDelayMs: Math.round(Math.max(0, ...delays)),
      drainedSeconds: Number(drainedSeconds.toFixed(1)),
    };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    await Promise.all([children.gateway, children.server].filter((c): c is ChildProcess => c !== undefined).map((c) => stop(c)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const scenarios = values.scenarios.split(',') as Scenario[];
  say(`${machine()}; ${RESIDENTS * 2} sensors, ${MESSAGES} messages at ${RATE}/s, scenarios ${scenarios.join(', ')}`);
  const outcomes: Outcome[] = [];
  for (const scenario of scenarios) {
    const outcome = await runScenario(scenario);
    say(JSON.stringify(outcome));
    outcomes.push(outcome);
  }
  const lines = [
    `Machine: ${machine()}. Command: \`node bench/dist/src/faults-full.js ${process.argv.slice(2).join(' ')}\``,
    '',
    '| fault | sent | acknowledged | stored | lost | stored twice | alarms decided | stored | twice | at the nurse | missing at the nurse | longest decision → tablet | drained after |',
    '| ----- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...outcomes.map(
      (o) =>
        `| ${o.scenario} | ${o.sent} | ${o.acked} | ${o.storedEvents} | ${o.lostEvents} | ${o.duplicateEvents} | ${o.decided} | ${o.storedAlarms} | ${o.duplicateAlarms} | ${o.atNurse} | ${o.lostAtNurse} | ${(o.longestDelayMs / 1000).toFixed(1)} s | ${o.drainedSeconds} s |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const bad = outcomes.filter((o) => o.lostEvents + o.duplicateEvents + o.duplicateAlarms + o.lostAtNurse > 0);
  if (bad.length > 0) {
    say(`FAILED: ${bad.map((o) => o.scenario).join(', ')} lost or duplicated something`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
