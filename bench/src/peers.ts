#!/usr/bin/env node
/**
 * End to end against real peers, side by side in one run, at 100, 1,000 and 10,000 sensors:
 *
 *   nattevakt  a sensor message published (QoS 1) to the gateway's embedded broker → rules →
 *              uplink → server → the alarm at a logged-in nurse's Socket.IO `/staff` client: the
 *              first she hears of it, the provisional alarm the gateway announces as it decides.
 *              The same alarm stored (outbox → acknowledged batch → stored and audited → `/staff`)
 *              is timed too, and a ramp step counts as sustained only if every alarm was also
 *              stored within the same limits.
 *   nattevakt-alone  the same gateway without a server (`server: null`), the nurse on its local
 *              feed: the part Node-RED's flow replaces, so the cost of the server sharing the cores shows
 *   floor      the same message through the machine's Mosquitto (127.0.0.1:1883) to a subscriber:
 *              one publish → subscribe hop, no rules
 *   node-red   what a technician would build instead: Node-RED 4 (started here on loopback) with a
 *              flow MQTT in (from that Mosquitto) → door-at-night function → WebSocket out, and
 *              the bench as the WebSocket client
 *
 *   npx tsc -b bench && node bench/dist/src/peers.js            # --help for the options
 *
 * The same deterministic traffic for all of them (heartbeats round-robin over every sensor, every
 * 10th message a door opening at night, closed again 5 messages later), four publisher connections,
 * each sensor always on the same one. Per system and size: a latency phase at a fixed rate, then a
 * ramp that multiplies the rate (--ramp-factor, 2 by default) until a step is not sustained. Writes a Markdown table, a JSON file
 * and one latency-distribution SVG per size to --out.
 *
 * --chromium: Nattevakt's nurse board (the built web app) is ALSO open in a real Chromium tab,
 * logged in as the same demo nurse, and each door alarm is timed from just before the publish to
 * its card entering the tab's DOM, next to the same alarm at the bench's Socket.IO client. The
 * bench nurse then resolves an alarm once its card has been in the tab and it is 1 s old, so the
 * board shows alarms coming and going instead of filling up. No ramp for Nattevakt with the tab:
 * the latency phase at --rate only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { type BoardTab, checkBoardTabCanOpen, openBoardTab } from './board-tab.js';
import {
  cpuSeconds,
  freePort,
  gatewayConfig,
  machine,
  memoryMb,
  metricValue,
  percentile,
  root,
  scrape,
  startNode,
  startServerAsNurse,
  stop,
  waitHealthy,
} from './processes.js';
import { lineChart, PERCENTILE_TICKS, percentilePoints } from './svg-chart.js';

const { values } = parseArgs({
  options: {
    sensors: { type: 'string', default: '100,1000,10000' },
    systems: { type: 'string', default: 'floor,nattevakt,nattevakt-alone,node-red' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    'ramp-from': { type: 'string', default: '100' },
    'ramp-to': { type: 'string', default: '12800' },
    'ramp-seconds': { type: 'string', default: '5' },
    'ramp-factor': { type: 'string', default: '2' },
    mosquitto: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    out: { type: 'string', default: join(root, 'bench/results') },
    chromium: { type: 'boolean', default: false },
    'no-gateway-feed': { type: 'boolean', default: false },
    'site-broker': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'node bench/dist/src/peers.js [--sensors 100,1000,10000] [--systems floor,nattevakt,nattevakt-alone,node-red] [--rate 100] [--seconds 30]\n' +
      '  [--ramp-from 100] [--ramp-to 12800 (below --ramp-from: no ramp, the latency phase only)] [--ramp-seconds 5] [--ramp-factor 2 (each step this times the last, to the nearest 100)] [--mosquitto mqtt://127.0.0.1:1883] [--out bench/results]\n' +
      '  [--chromium]  Nattevakt also shown on the nurse board in a real Chromium tab (needs /usr/bin/chromium or CHROMIUM_PATH,\n' +
      '                and the built web app: npm run build -w web); alarm cards timed to the DOM, no ramp for Nattevakt\n' +
      "  [--no-gateway-feed]  the nurse's client reads the server only, not also the gateway's local alarm feed\n" +
      "  [--site-broker]  Nattevakt's gateway in external-broker mode, a client of that Mosquitto (the site's own broker),\n" +
      "                   as Node-RED is; the sensors publish to Mosquitto instead of the gateway's embedded broker\n" +
      '  nattevakt-alone: the gateway without a server (server: null, as a site whose uplink is down), the nurse on its local feed:\n' +
      "                   the part Node-RED's flow replaces, its outbox still written; the cost of the server sharing the cores\n",
  );
  process.exit(0);
}
const SIZES = values.sensors.split(',').map(Number);
const SYSTEM_NAMES = ['floor', 'nattevakt', 'nattevakt-alone', 'node-red'] as const;
type SystemName = (typeof SYSTEM_NAMES)[number];
const SYSTEMS = values.systems.split(',') as SystemName[];
for (const system of SYSTEMS)
  if (!SYSTEM_NAMES.includes(system)) throw new Error(`--systems: unknown system "${system}" (one or more of ${SYSTEM_NAMES.join(', ')})`);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RAMP_FROM = Number(values['ramp-from']);
const RAMP_TO = Number(values['ramp-to']);
const RAMP_SECONDS = Number(values['ramp-seconds']);
const RAMP_FACTOR = Number(values['ramp-factor']);
if (!(RAMP_FACTOR > 1)) throw new Error(`--ramp-factor must be above 1, not ${values['ramp-factor']}`);
/** The ramp's next step: RAMP_FACTOR times this one, to the nearest 100 msg/s (and always higher). */
const nextRate = (rate: number) => Math.max(rate + 100, Math.round((rate * RAMP_FACTOR) / 100) * 100);
const OUT = resolve(values.out);
const CHROMIUM_TAB = values.chromium;
const GATEWAY_FEED = !values['no-gateway-feed'];
const SITE_BROKER = values['site-broker'];
const PUBLISHERS = 4;
const OPEN_EVERY = 10;
/** After a step, how long an alarm may still come and count (late ones then fail the p99 rule, not the loss rule). */
const GRACE_MS = 5_000;
/** A step whose alarms come later than this at p99 is not sustained: a night alarm a second late is late. */
const SUSTAINED_P99_MS = 1_000;
/** With --chromium: how long the bench nurse leaves an alarm open (at least), so the tab shows alarms coming and going. */
const HOLD_MS = 1_000;
const LABEL: Record<SystemName, string> = {
  floor: 'floor: Mosquitto pub→sub',
  nattevakt: values['site-broker'] ? 'Nattevakt end to end (gateway on the site broker)' : 'Nattevakt end to end',
  'nattevakt-alone': values['site-broker'] ? 'Nattevakt gateway alone (on the site broker)' : 'Nattevakt gateway alone (no server)',
  'node-red': 'Node-RED flow',
};

const say = (line: string) => process.stderr.write(`[peers ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

// ── the site and its traffic ────────────────────────────────────────────────────────────────

/** Minutes since midnight in Oslo, `offsetMinutes` from now, as HH:MM. */
function osloClock(offsetMinutes: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Oslo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    Date.now() + offsetMinutes * 60_000,
  );
}

/**
 * A site of `sensors` sensors with its night window around now (the system clock: the production
 * path). Up to 1,000: the demo ward (a bed mat and a door contact per room). Above: a site holds at
 * most 2,000 residents, so 2,000 rooms with a bed mat and the rest door contacts (four per room at 10,000).
 */
function benchWard(siteId: string, sensors: number): SiteConfig {
  const nightWindow = { start: osloClock(-60), end: osloClock(300) };
  let ward: SiteConfig;
  if (sensors <= 1000) {
    ward = demoWard({ residents: sensors / 2, siteId });
  } else {
    const rooms = 2000;
    const doorsPerRoom = sensors / rooms - 1;
    const base = demoWard({ residents: 1, siteId });
    const plan = base.residents[0]?.plan;
    if (plan === undefined || !Number.isInteger(doorsPerRoom)) throw new Error(`cannot build a ward of ${sensors} sensors`);
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
  return checked.value;
}

interface Sensor {
  id: string;
  kind: 'bed' | 'door';
  connection: number;
  /** open (door) / occupied (bed). */
  state: boolean;
}

/**
 * Deterministic traffic: heartbeats (current state and battery) round-robin over every sensor;
 * every 10th message a door opening, closed again 5 messages later. Doors are taken in turn, one
 * room after the other, so each opening is a closed → open transition of its room: one alarm each.
 */
class Traffic {
  readonly sensors: Sensor[];
  readonly #doors: Sensor[];
  #position = 0;
  #heartbeat = 0;
  #nextDoor = 0;
  readonly #closing: { sensor: Sensor; at: number }[] = [];

  constructor(ward: SiteConfig) {
    this.sensors = ward.sensors.map((s, i) => ({ id: s.id, kind: s.kind, connection: i % PUBLISHERS, state: s.kind === 'bed' }));
    // Doors in turn, one room after the other: every room's first door, then every room's second, …
    // Two doors of one room open in a row would share the resident's door state (a second opening
    // while the first is still open is no new opening), and their messages travel on different
    // publisher connections, so a close and the next opening could overtake each other.
    const slot = new Map<string, number>();
    const perRoom = new Map<string, number>();
    for (const s of ward.sensors) {
      if (s.kind !== 'door') continue;
      const n = perRoom.get(s.roomId) ?? 0;
      perRoom.set(s.roomId, n + 1);
      slot.set(s.id, n);
    }
    this.#doors = this.sensors.filter((s) => s.kind === 'door').sort((a, b) => (slot.get(a.id) ?? 0) - (slot.get(b.id) ?? 0));
  }

  next(): { sensor: Sensor; payload: string; opening: boolean } {
    const position = this.#position++;
    const due = this.#closing[0];
    if (due !== undefined && due.at <= position) {
      this.#closing.shift();
      due.sensor.state = false;
      return { sensor: due.sensor, payload: payloadOf(due.sensor), opening: false };
    }
    if (position % OPEN_EVERY === 0) {
      const door = this.#doors[this.#nextDoor++ % this.#doors.length];
      if (door !== undefined && !door.state) {
        door.state = true;
        this.#closing.push({ sensor: door, at: position + OPEN_EVERY / 2 });
        return { sensor: door, payload: payloadOf(door), opening: true };
      }
    }
    const sensor = this.sensors[this.#heartbeat++ % this.sensors.length] as Sensor;
    return { sensor, payload: payloadOf(sensor), opening: false };
  }
}

const payloadOf = (s: Sensor) =>
  s.kind === 'door' ? `{"kind":"door","open":${s.state},"battery":90}` : `{"kind":"bed","occupied":${s.state},"battery":90}`;

/** Door openings in flight: from just before the publish to the alarm (FIFO per sensor). */
class Openings {
  readonly #pending = new Map<string, number[]>();
  latencies: number[] = [];
  unmatched = 0;
  #waiting = 0;

  /** Door openings sent so far, all phases. */
  opened_ = 0;

  opened(sensorId: string): void {
    this.opened_++;
    const list = this.#pending.get(sensorId);
    if (list) list.push(performance.now());
    else this.#pending.set(sensorId, [performance.now()]);
    this.#waiting++;
  }

  /** The alarm of the sensor's oldest opening in flight: when it was published (`performance.now()`) and its latency. */
  arrived(sensorId: string): Arrival | undefined {
    const at = this.#pending.get(sensorId)?.shift();
    if (at === undefined) {
      this.unmatched++;
      return undefined;
    }
    this.#waiting--;
    const latency = performance.now() - at;
    this.latencies.push(latency);
    return { publishedAt: at, latency };
  }

  get waiting(): number {
    return this.#waiting;
  }

  /** What arrived since the last take, and how many are still missing; starts over. */
  take(): { latencies: number[]; missing: number } {
    const result = { latencies: this.latencies.sort((a, b) => a - b), missing: this.#waiting };
    this.latencies = [];
    this.#pending.clear();
    this.#waiting = 0;
    return result;
  }
}

interface Arrival {
  publishedAt: number;
  latency: number;
}

/**
 * Nattevakt: the nurse is told twice. First the provisional alarm (announced by the gateway the
 * moment it decides, before anything is stored), then the stored alarm with its lifecycle. The
 * path's latency is the first; this keeps the second, from the same publish, for every door alarm.
 */
class StoredTimes {
  /** Door alarms told but not yet stored: the publish (`performance.now()`). */
  readonly #expected = new Map<string, number>();
  #latencies: number[] = [];
  /** Door alarms the nurse heard of first as provisional from the server (the rest first as stored: the announcement is best effort). */
  firstProvisional = 0;
  /** Door alarms the nurse heard of first from the gateway's local feed. */
  firstFromGateway = 0;

  told(alarmId: string, arrival: Arrival): void {
    this.#expected.set(alarmId, arrival.publishedAt);
  }

  stored(alarmId: string): void {
    const publishedAt = this.#expected.get(alarmId);
    if (publishedAt === undefined) return;
    this.#expected.delete(alarmId);
    this.#latencies.push(performance.now() - publishedAt);
  }

  get waiting(): number {
    return this.#expected.size;
  }

  /** Stored-alarm latencies since the last take (sorted), and the door alarms told but never stored; starts over. */
  take(): { latencies: number[]; missing: number; firstProvisional: number; firstFromGateway: number } {
    const result = {
      latencies: this.#latencies.sort((a, b) => a - b),
      missing: this.#expected.size,
      firstProvisional: this.firstProvisional,
      firstFromGateway: this.firstFromGateway,
    };
    this.#latencies = [];
    this.#expected.clear();
    this.firstProvisional = 0;
    this.firstFromGateway = 0;
    return result;
  }
}

/**
 * With --chromium: the same door alarms at the bench nurse's Socket.IO client and as cards in the
 * Chromium tab, joined by alarm id (the tab may show a card before the bench client has it).
 */
class TabTimes {
  /** Door alarms at the client this phase: the publish on the wall clock (ms) and the latency at the client. */
  readonly #atClient = new Map<string, { publishedWall: number; client: number }>();
  /** Cards (of any alarm) that entered the tab's DOM this phase: the page's wall clock, ms. */
  readonly #shown = new Map<string, number>();
  readonly #waiters = new Map<string, () => void>();
  #waiting = 0;

  atClient(alarmId: string, arrival: Arrival): void {
    this.#atClient.set(alarmId, { publishedWall: performance.timeOrigin + arrival.publishedAt, client: arrival.latency });
    if (!this.#shown.has(alarmId)) this.#waiting++;
  }

  shown(alarmId: string, wallMs: number): void {
    if (this.#shown.has(alarmId)) return;
    this.#shown.set(alarmId, wallMs);
    if (this.#atClient.has(alarmId)) this.#waiting--;
    this.#waiters.get(alarmId)?.();
  }

  /** Settles once the alarm's card has been in the tab, or after `ms` if it never comes. */
  shownOrAfter(alarmId: string, ms: number): Promise<void> {
    if (this.#shown.has(alarmId)) return Promise.resolve();
    return new Promise((settle) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(alarmId);
        settle();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.set(alarmId, done);
    });
  }

  /** Door alarms at the client whose card the tab has not shown yet. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Both latencies of every door alarm of the phase the tab showed, and how many it did not; starts over. */
  take(): { client: number[]; tab: number[]; missing: number } {
    const client: number[] = [];
    const tab: number[] = [];
    for (const [alarmId, at] of this.#atClient) {
      const shown = this.#shown.get(alarmId);
      if (shown === undefined) continue;
      client.push(at.client);
      tab.push(shown - at.publishedWall);
    }
    const result = { client: client.sort((a, b) => a - b), tab: tab.sort((a, b) => a - b), missing: this.#waiting };
    this.#atClient.clear();
    this.#shown.clear();
    this.#waiting = 0;
    return result;
  }
}

// ── the three systems under test ────────────────────────────────────────────────────────────

interface UnderTest {
  /** Where the sensors publish. */
  mqttUrl: string;
  topicOf(sensor: Sensor): string;
  /** Processes whose CPU and memory are reported. */
  processes: Record<string, ChildProcess>;
  /** Door alarms the system itself says it decided (Nattevakt: the gateway's counter), to tell "not decided" from "not delivered". */
  decided?(): Promise<number>;
  /** With --chromium (Nattevakt): the nurse board in a Chromium tab and the times of its cards. */
  tab?: { board: BoardTab; times: TabTimes };
  /** Nattevakt: when each door alarm, first told provisionally, arrived stored. */
  stored?: StoredTimes;
  stop(): Promise<void>;
}

type Arrive = (sensorId: string) => Arrival | undefined;

async function startFloor(siteId: string, arrive: Arrive): Promise<UnderTest> {
  const subscriber = await mqtt.connectAsync(values.mosquitto, { clientId: `peers-floor-${randomBytes(3).toString('hex')}` });
  subscriber.on('message', (topic, payload) => {
    // Only door openings are "alarms" here: the floor has no rule, it measures the hop.
    if (payload.includes('"open":true')) arrive(topic.split('/')[4] ?? '');
  });
  await subscriber.subscribeAsync(topics.sensorsOfSite(siteId), { qos: 1 });
  return {
    mqttUrl: values.mosquitto,
    topicOf: (s) => topics.sensorState(siteId, s.id),
    processes: {},
    stop: () => subscriber.endAsync(true),
  };
}

/**
 * Nattevakt's gateway, and (unless `alone`) its server on the same machine. Alone, the gateway runs
 * the site without a server (`server: null`), as a site does while its uplink is down, and the
 * nurse is the tablet's link to the gateway's local alarm feed: what Node-RED's flow replaces, with
 * the gateway's outbox still written, so the cost of the server sharing the machine's cores shows.
 */
async function startNattevakt(ward: SiteConfig, arrive: Arrive, withTab: boolean, alone = false): Promise<UnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-peers-'));
  const wardFile = join(dir, 'ward.json');
  writeFileSync(wardFile, JSON.stringify(ward));
  const token = randomBytes(24).toString('hex');
  const feedToken = randomBytes(24).toString('hex');
  const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const siteBrokerClientId = `nattevakt-gateway-bench-${randomBytes(4).toString('hex')}`;
  const configFile = join(dir, 'gateway.json');
  const serverUrl = `http://127.0.0.1:${httpPort}`;
  writeFileSync(
    configFile,
    JSON.stringify(
      gatewayConfig({
        siteId: ward.site.id,
        mqttPort,
        healthPort,
        stateDir: join(dir, 'gateway'),
        wardFile,
        clock: 'system',
        server: alone ? null : { url: serverUrl, token },
        ...(GATEWAY_FEED || alone ? { localFeedToken: feedToken } : {}),
        // --site-broker: the gateway is a client of the machine's Mosquitto, as on a site with its own broker.
        ...(SITE_BROKER ? { siteBroker: { url: values.mosquitto, clientId: siteBrokerClientId } } : {}),
      }),
    ),
  );
  if (alone) return startGatewayAlone(ward, arrive, { dir, configFile, healthPort, mqttPort, feedToken, siteBrokerClientId });
  const { server, cookie } = await startServerAsNurse({ port: httpPort, dataDir: join(dir, 'server'), wardFile, token });
  const gateway = startNode(['gateway/dist/src/main.js', '--config', configFile]);
  await waitHealthy(`http://127.0.0.1:${healthPort}/health`, gateway);
  for (let i = 0; i < 100; i++) {
    const health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as { uplinkConnected: boolean };
    if (health.uplinkConnected) break;
    await sleep(100);
  }
  // The nurse: a door-open-at-night alarm arriving is the end of the path; she resolves every
  // alarm, so open alarms stay few as on a real night. With the tab she waits until its card has
  // been shown there and it is HOLD_MS old (GRACE_MS at most): a resolve that overtook the card
  // would take it off the board before it was ever drawn.
  const times = withTab ? new TabTimes() : null;
  const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`${serverUrl}/staff`, {
    transports: ['websocket'],
    extraHeaders: { cookie },
  });
  const stored = new StoredTimes();
  /** Alarms told (provisional or stored), and the arrival of those that are door alarms. */
  const told = new Map<string, Arrival | undefined>();
  const tell = (id: string, rule: string, sensorId: string) => {
    if (told.has(id)) return told.get(id);
    const arrival = rule === 'door-open-at-night' ? arrive(sensorId) : undefined;
    told.set(id, arrival);
    if (arrival !== undefined) {
      stored.told(id, arrival);
      times?.atClient(id, arrival);
    }
    return arrival;
  };
  // The end of the path: the first the nurse hears of the alarm, normally the provisional one.
  staff.on('provisionalAlarm', (decision: AlarmDecision) => {
    if (!told.has(decision.id) && tell(decision.id, decision.rule, decision.sensorId) !== undefined) stored.firstProvisional++;
  });
  const seen = new Set<string>();
  staff.on('alarm', (alarm: Alarm) => {
    if (alarm.status === 'resolved' || seen.has(alarm.id)) return;
    seen.add(alarm.id);
    // Told now if the provisional alarm never came (it is volatile).
    // (`told` keeps the id: a late copy from the other link must not be taken for the next opening.)
    tell(alarm.id, alarm.rule, alarm.sensorId);
    stored.stored(alarm.id);
    const resolve = () => staff.emit('resolve', { alarmId: alarm.id, by: 'Benchmark', outcome: 'false-alarm' }, () => undefined);
    if (times === null) {
      resolve();
      return;
    }
    const heldUntil = performance.now() + HOLD_MS;
    void times
      .shownOrAfter(alarm.id, GRACE_MS)
      .then(() => sleep(Math.max(0, heldUntil - performance.now())))
      .then(resolve);
  });
  await new Promise<void>((r) => staff.once('connect', () => r()));
  // The tablet's second link, to the gateway's local alarm feed on the ward's network (as the web
  // app keeps it when the tablet was given the feed): a new alarm from there is the earliest of all.
  const feed = GATEWAY_FEED
    ? await readLocalFeed(healthPort, feedToken, (id, rule, sensorId) => {
        if (!told.has(id) && tell(id, rule, sensorId) !== undefined) stored.firstFromGateway++;
      })
    : null;
  let board: BoardTab | undefined;
  if (times !== null) {
    try {
      board = await openBoardTab({ url: serverUrl, cookie, onShown: (alarmId, wallMs) => times.shown(alarmId, wallMs) });
    } catch (error) {
      staff.disconnect();
      await Promise.all([stop(gateway), stop(server)]);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const { offset, uncertainty, crossOriginIsolated } = board.clock;
    say(
      `  board open in Chromium; page clock − bench clock ${num(offset, 3)} ± ${num(uncertainty, 3)} ms (best of 20 round trips), ` +
        `page timers ${crossOriginIsolated ? '5 µs' : '100 µs (not cross-origin isolated)'}`,
    );
  }
  return {
    mqttUrl: SITE_BROKER ? values.mosquitto : `mqtt://127.0.0.1:${mqttPort}`,
    topicOf: (s) => topics.sensorState(ward.site.id, s.id),
    processes: { gateway, server },
    decided: async () =>
      metricValue(await scrape(`http://127.0.0.1:${healthPort}/metrics`), 'nattevakt_gateway_alarms_total{rule="door-open-at-night"}'),
    ...(board && times ? { tab: { board, times } } : {}),
    stored,
    async stop() {
      await board?.close().catch(() => undefined);
      staff.disconnect();
      feed?.disconnect();
      await Promise.all([stop(gateway), stop(server)]);
      rmSync(dir, { recursive: true, force: true });
      if (SITE_BROKER) await endSiteBrokerSession(siteBrokerClientId);
    },
  };
}

/** The gateway's persistent session would stay on Mosquitto, queueing messages for nobody. */
async function endSiteBrokerSession(clientId: string): Promise<void> {
  const cleanup = await mqtt.connectAsync(values.mosquitto, { clientId, clean: true, reconnectPeriod: 0 });
  await cleanup.endAsync();
}

/** The tablet's link to the gateway's local alarm feed: `onNew` for each new alarm (active, with its rule). */
async function readLocalFeed(
  healthPort: number,
  token: string,
  onNew: (id: string, rule: string, sensorId: string) => void,
): Promise<Socket> {
  const local: Socket = io(`http://127.0.0.1:${healthPort}/local`, { transports: ['websocket'], auth: { token } });
  local.on('alarm', (change: { id: string; status: string; rule?: string; sensorId?: string }) => {
    if (change.status !== 'active' || change.rule === undefined || change.sensorId === undefined) return;
    onNew(change.id, change.rule, change.sensorId);
  });
  await new Promise<void>((r, reject) => {
    local.once('connect', () => r());
    local.once('connect_error', reject);
  });
  return local;
}

/** Nattevakt's gateway running the site without a server (see `startNattevakt`); the nurse reads its local feed. */
async function startGatewayAlone(
  ward: SiteConfig,
  arrive: Arrive,
  at: { dir: string; configFile: string; healthPort: number; mqttPort: number; feedToken: string; siteBrokerClientId: string },
): Promise<UnderTest> {
  const gateway = startNode(['gateway/dist/src/main.js', '--config', at.configFile]);
  await waitHealthy(`http://127.0.0.1:${at.healthPort}/health`, gateway);
  // Without a server no one resolves an alarm: the gateway's open list grows through the run, as a
  // site's does while cut off. Each opening is a new alarm, told once.
  const told = new Set<string>();
  const feed = await readLocalFeed(at.healthPort, at.feedToken, (id, rule, sensorId) => {
    if (told.has(id)) return;
    told.add(id);
    if (rule === 'door-open-at-night') arrive(sensorId);
  });
  return {
    mqttUrl: SITE_BROKER ? values.mosquitto : `mqtt://127.0.0.1:${at.mqttPort}`,
    topicOf: (s) => topics.sensorState(ward.site.id, s.id),
    processes: { gateway },
    decided: async () =>
      metricValue(await scrape(`http://127.0.0.1:${at.healthPort}/metrics`), 'nattevakt_gateway_alarms_total{rule="door-open-at-night"}'),
    async stop() {
      feed.disconnect();
      await stop(gateway);
      rmSync(at.dir, { recursive: true, force: true });
      if (SITE_BROKER) await endSiteBrokerSession(at.siteBrokerClientId);
    },
  };
}

/**
 * The door-at-night rule as a Node-RED function node would have it: the door's last state per
 * sensor in the node's context, an alarm on a closed → open transition inside the night window
 * (minutes after midnight UTC, handed in by the bench so no time-zone library is needed).
 */
function nodeRedRule(nightStartUtcMin: number, nightEndUtcMin: number): string {
  return `
const p = msg.payload;
if (p === null || typeof p !== 'object' || p.kind !== 'door') return null;
const sensorId = msg.topic.split('/')[4];
let doors = context.get('doors');
if (!doors) { doors = new Map(); context.set('doors', doors); }
const was = doors.get(sensorId) === true;
doors.set(sensorId, p.open === true);
if (p.open !== true || was) return null;
const now = new Date();
const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
const start = ${nightStartUtcMin}, end = ${nightEndUtcMin};
const night = start <= end ? minute >= start && minute < end : minute >= start || minute < end;
if (!night) return null;
return { payload: JSON.stringify({ rule: 'door-open-at-night', sensorId, at: now.toISOString() }) };
`;
}

async function startNodeRed(siteId: string, arrive: Arrive): Promise<UnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-peers-nodered-'));
  const port = await freePort();
  const broker = new URL(values.mosquitto);
  const utcMinutes = (offset: number) => {
    const at = new Date(Date.now() + offset * 60_000);
    return at.getUTCHours() * 60 + at.getUTCMinutes();
  };
  const flows = [
    { id: 'tab', type: 'tab', label: 'door at night' },
    {
      id: 'broker',
      type: 'mqtt-broker',
      name: 'mosquitto',
      broker: broker.hostname,
      port: broker.port || '1883',
      clientid: `peers-nodered-${randomBytes(3).toString('hex')}`,
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
    },
    {
      id: 'in',
      type: 'mqtt in',
      z: 'tab',
      topic: `nattevakt/v1/${siteId}/sensors/+/state`,
      qos: '1',
      datatype: 'json',
      broker: 'broker',
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [['rule']],
    },
    {
      id: 'rule',
      type: 'function',
      z: 'tab',
      name: 'door at night',
      func: nodeRedRule(utcMinutes(-60), utcMinutes(300)),
      outputs: 1,
      wires: [['out']],
    },
    { id: 'listener', type: 'websocket-listener', path: '/ws/alarms', wholemsg: 'false' },
    { id: 'out', type: 'websocket out', z: 'tab', server: 'listener', client: '', wires: [] },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(
    join(dir, 'settings.cjs'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', userDir: ${JSON.stringify(dir)},
  httpAdminRoot: false, logging: { console: { level: 'warn', metrics: false, audit: false } }, credentialSecret: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false } }, telemetry: { enabled: false }, diagnostics: { enabled: false } };\n`,
  );
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules/node-red/red.js'), '--settings', join(dir, 'settings.cjs'), '--userDir', dir],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const until = Date.now() + 30_000;
  let socket: WebSocket | null = null;
  while (socket === null) {
    if (child.exitCode !== null) throw new Error(`node-red exited (${child.exitCode})`);
    if (Date.now() > until) throw new Error('node-red did not open its WebSocket within 30 s');
    socket = await new Promise<WebSocket | null>((done) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/alarms`);
      ws.once('open', () => done(ws));
      ws.once('error', () => done(null));
    });
    if (socket === null) await sleep(200);
  }
  socket.on('message', (data) => {
    const alarm = JSON.parse(data.toString()) as { sensorId: string };
    arrive(alarm.sensorId);
  });
  return {
    mqttUrl: values.mosquitto,
    topicOf: (s) => topics.sensorState(siteId, s.id),
    processes: { 'node-red': child },
    async stop() {
      socket?.close();
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ── offering load ────────────────────────────────────────────────────────────────────────────

interface Publishers {
  clients: MqttClient[];
  sent: number;
  acked: number;
  failed: number;
}

async function connectPublishers(url: string): Promise<Publishers> {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) =>
      mqtt.connectAsync(url, { clientId: `peers-pub-${i}-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0 }),
    ),
  );
  for (const client of clients) client.on('error', () => undefined);
  return { clients, sent: 0, acked: 0, failed: 0 };
}

/** Offers `rate` msg/s for `seconds`, QoS 1, token-paced every millisecond. Returns the rate offered. */
async function offer(
  pubs: Publishers,
  target: UnderTest,
  traffic: Traffic,
  openings: Openings,
  rate: number,
  seconds: number,
): Promise<number> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const message = traffic.next();
      const client = pubs.clients[message.sensor.connection] as MqttClient;
      if (message.opening) openings.opened(message.sensor.id);
      pubs.sent++;
      client.publish(target.topicOf(message.sensor), message.payload, { qos: 1 }, (error) => {
        if (error) pubs.failed++;
        else pubs.acked++;
      });
    }
    await sleep(1);
  }
  return sent / ((performance.now() - start) / 1000);
}

interface Phase {
  rate: number;
  offered: number;
  n: number;
  missing: number;
  unacked: number;
  p50: number;
  p99: number;
  max: number;
  sustained: boolean;
  /** Door openings offered, and door alarms the system says it decided (when it can tell). */
  openings: number;
  decided: number | null;
  cpu: Record<string, number>;
  rssMb: Record<string, number>;
  latencies: number[];
  /** Nattevakt: the same door alarms until the stored alarm reached the nurse (the path ends at the provisional one), and those never stored. */
  stored: (Stats & { n: number; missing: number; firstProvisional: number; firstFromGateway: number; latencies: number[] }) | null;
  /** With --chromium: the door alarms the tab showed, at the client and in the tab (ms, sorted), and those it did not. */
  tab: {
    n: number;
    missing: number;
    client: Stats;
    shown: Stats;
    shownLatencies: number[];
    /** Share of the phase the page's main thread spent in long tasks (> 50 ms), %; CPU of the page's renderer process, %; times the board lost the server. */
    longTasksPercent: number;
    rendererCpuPercent: number;
    linkLost: number;
  } | null;
}

interface Stats {
  p50: number;
  p99: number;
  max: number;
}

const stats = (sorted: number[]): Stats => ({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN });

/** The machine's Mosquitto (the one on 1883), if it runs. */
function mosquittoPid(): number | null {
  try {
    const pid = Number(execFileSync('pgrep', ['-x', 'mosquitto'], { encoding: 'utf8' }).trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** One phase at a fixed rate: offers it, waits the grace for late alarms and PUBACKs, judges it. */
async function phase(
  pubs: Publishers,
  target: UnderTest,
  traffic: Traffic,
  openings: Openings,
  rate: number,
  seconds: number,
): Promise<Phase> {
  openings.take();
  target.tab?.times.take();
  target.stored?.take();
  const chromiumBefore = target.tab?.board.cpuSeconds() ?? { all: 0, renderer: 0 };
  const healthBefore = await target.tab?.board.health();
  const decidedBefore = (await target.decided?.().catch(() => Number.NaN)) ?? null;
  const openedBefore = openings.opened_;
  const cpuBefore = Object.fromEntries(Object.entries(target.processes).map(([k, p]) => [k, cpuSeconds(p.pid ?? 0)]));
  // The whole machine's share: the bench itself (publishers and nurse) and the machine's Mosquitto
  // (the broker of the floor and of Node-RED; idle for Nattevakt's embedded broker).
  const benchBefore = process.cpuUsage();
  const mosquitto = mosquittoPid();
  const mosquittoBefore = mosquitto === null ? 0 : cpuSeconds(mosquitto);
  const started = performance.now();
  const offered = await offer(pubs, target, traffic, openings, rate, seconds);
  const until = performance.now() + GRACE_MS;
  const waiting = () =>
    openings.waiting > 0 ||
    (target.tab?.times.waiting ?? 0) > 0 ||
    (target.stored?.waiting ?? 0) > 0 ||
    pubs.acked + pubs.failed < pubs.sent;
  while (performance.now() < until && waiting()) await sleep(20);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = Object.fromEntries(
    Object.entries(target.processes).map(([k, p]) => [k, Math.round(((cpuSeconds(p.pid ?? 0) - (cpuBefore[k] ?? 0)) / elapsed) * 100)]),
  );
  const benchUsed = process.cpuUsage(benchBefore);
  cpu.bench = Math.round(((benchUsed.user + benchUsed.system) / 1e6 / elapsed) * 100);
  if (mosquitto !== null) cpu.mosquitto = Math.round(((cpuSeconds(mosquitto) - mosquittoBefore) / elapsed) * 100);
  const rssMb = Object.fromEntries(Object.entries(target.processes).map(([k, p]) => [k, Math.round(memoryMb(p.pid ?? 0).rss)]));
  let tab: Phase['tab'] = null;
  if (target.tab) {
    const chromiumAfter = target.tab.board.cpuSeconds();
    cpu.chromium = Math.round(((chromiumAfter.all - chromiumBefore.all) / elapsed) * 100);
    cpu['chromium renderer'] = Math.round(((chromiumAfter.renderer - chromiumBefore.renderer) / elapsed) * 100);
    rssMb['chromium PSS'] = Math.round(target.tab.board.pssMb());
    const shown = target.tab.times.take();
    const health = await target.tab.board.health();
    tab = {
      n: shown.tab.length,
      missing: shown.missing,
      client: stats(shown.client),
      shown: stats(shown.tab),
      shownLatencies: shown.tab,
      longTasksPercent: Math.round(((health.longTaskMs - (healthBefore?.longTaskMs ?? 0)) / (elapsed * 1000)) * 100),
      rendererCpuPercent: cpu['chromium renderer'],
      linkLost: health.linkLost - (healthBefore?.linkLost ?? 0),
    };
  }
  const decidedAfter = (await target.decided?.().catch(() => Number.NaN)) ?? null;
  const opened = openings.opened_ - openedBefore;
  const { latencies, missing } = openings.take();
  const unacked = pubs.sent - pubs.acked - pubs.failed;
  const p99 = percentile(latencies, 99);
  const storedTimes = target.stored?.take();
  const stored = storedTimes ? { n: storedTimes.latencies.length, ...storedTimes, ...stats(storedTimes.latencies) } : null;
  // Sustained also means stored: every alarm told provisionally must be stored in time, as the others.
  const storedKeptUp = stored === null || (stored.missing === 0 && (stored.n === 0 || stored.p99 <= SUSTAINED_P99_MS));
  const sustained =
    missing === 0 &&
    unacked === 0 &&
    pubs.failed === 0 &&
    offered >= 0.95 * rate &&
    latencies.length > 0 &&
    p99 <= SUSTAINED_P99_MS &&
    storedKeptUp;
  const decided = decidedAfter === null || decidedBefore === null ? null : decidedAfter - decidedBefore;
  return {
    rate,
    offered,
    n: latencies.length,
    missing,
    unacked,
    openings: opened,
    decided,
    p50: percentile(latencies, 50),
    p99,
    max: latencies.at(-1) ?? Number.NaN,
    sustained,
    cpu,
    rssMb,
    latencies,
    stored,
    tab,
  };
}

interface Result {
  system: SystemName;
  sensors: number;
  latency: Phase | null;
  ramp: Phase[];
  highestSustained: number;
  firstNotSustained: number | null;
  /** Why there was no ramp (--chromium: none for Nattevakt). */
  rampSkipped?: string;
  /** With --chromium: the page's clock minus the bench's, ± half the best round trip, ms. */
  tabClock?: BoardTab['clock'];
  error?: string;
}

async function run(system: SystemName, sensors: number): Promise<Result> {
  const siteId = `peers-${system.replace('-', '')}-${sensors}-${randomBytes(2).toString('hex')}`;
  const ward = benchWard(siteId, sensors);
  const openings = new Openings();
  const arrive = (id: string) => openings.arrived(id);
  const withTab = CHROMIUM_TAB && system === 'nattevakt';
  const result: Result = { system, sensors, latency: null, ramp: [], highestSustained: 0, firstNotSustained: null };
  say(`${LABEL[system]}, ${sensors} sensors: starting`);
  const target =
    system === 'floor'
      ? await startFloor(siteId, arrive)
      : system === 'nattevakt'
        ? await startNattevakt(ward, arrive, withTab)
        : system === 'nattevakt-alone'
          ? await startNattevakt(ward, arrive, false, true)
          : await startNodeRed(siteId, arrive);
  let pubs: Publishers | null = null;
  try {
    pubs = await connectPublishers(target.mqttUrl);
    const traffic = new Traffic(ward);
    // Warm-up: every sensor once at a modest rate (the gateway learns each sensor's state, JITs warm up).
    const warmRate = Math.min(RATE, 200);
    await phase(pubs, target, traffic, openings, warmRate, Math.max(3, Math.min(20, sensors / warmRate)));
    const tab = target.tab;
    if (tab) result.tabClock = tab.board.clock;
    // The tab halfway through too: what a nurse would see while the alarms come and go.
    const midway = tab
      ? setTimeout(() => {
          tab.board.page.screenshot({ path: join(OUT, `peers-${sensors}-chromium-tab-midway.png`) }).catch(() => undefined);
        }, SECONDS * 500)
      : undefined;
    const latency = await phase(pubs, target, traffic, openings, RATE, SECONDS);
    clearTimeout(midway);
    result.latency = latency;
    say(
      `  latency at ${RATE} msg/s: ${latency.n} alarms, p50 ${num(latency.p50, 2)} p99 ${num(latency.p99, 2)} max ${num(latency.max, 2)} ms, ` +
        `${latency.missing} missing${latency.decided === null ? '' : ` (${latency.decided} of ${latency.openings} openings decided on the gateway)`}; CPU ${JSON.stringify(latency.cpu)} %, RSS ${JSON.stringify(latency.rssMb)} MB`,
    );
    if (latency.stored)
      say(
        `  the same alarms stored (the alarm with its lifecycle at the nurse): p50 ${num(latency.stored.p50, 2)} p99 ${num(latency.stored.p99, 2)} max ${num(latency.stored.max, 2)} ms, ${latency.stored.missing} never stored; heard of first: ${latency.stored.firstFromGateway} from the gateway's feed, ${latency.stored.firstProvisional} as provisional from the server, of ${latency.n}`,
      );
    if (latency.tab) {
      const { n, missing, client, shown, longTasksPercent, rendererCpuPercent, linkLost } = latency.tab;
      say(
        `  the same ${n} alarms at the Socket.IO client p50 ${num(client.p50, 2)} p99 ${num(client.p99, 2)} max ${num(client.max, 2)} ms, ` +
          `shown in the Chromium tab p50 ${num(shown.p50, 2)} p99 ${num(shown.p99, 2)} max ${num(shown.max, 2)} ms; ${missing} never shown; ` +
          `${await tab?.board.cards().catch(() => Number.NaN)} cards on the board now; page's renderer ${rendererCpuPercent} % CPU, main thread ${longTasksPercent} % in long tasks, ` +
          `server lost ${linkLost} times`,
      );
      await tab?.board.page.screenshot({ path: join(OUT, `peers-${sensors}-chromium-tab.png`) }).catch((error: unknown) => {
        say(`  no screenshot of the tab: ${(error as Error).message}`);
      });
      result.rampSkipped = 'no ramp with --chromium';
      return result;
    }
    if (RAMP_FROM > RAMP_TO) {
      result.rampSkipped = 'no ramp: --ramp-to below --ramp-from';
      return result;
    }
    // The ramp is its own measurement: it runs whatever the latency phase showed.
    for (let rate = RAMP_FROM; rate <= RAMP_TO; rate = nextRate(rate)) {
      const step = await phase(pubs, target, traffic, openings, rate, RAMP_SECONDS);
      step.latencies = [];
      if (step.stored) step.stored.latencies = [];
      result.ramp.push(step);
      const storedStep = step.stored ? ` (stored: p99 ${num(step.stored.p99, 2)} ms, ${step.stored.missing} never stored)` : '';
      say(
        `  ramp ${rate} msg/s (offered ${num(step.offered, 0)}): p50 ${num(step.p50, 2)} p99 ${num(step.p99, 2)} ms${storedStep}, ${step.missing} missing, ` +
          `${step.unacked} unacknowledged, ${step.decided === null ? '' : `${step.decided} of ${step.openings} openings decided on the gateway, `}CPU ${JSON.stringify(step.cpu)} % → ${step.sustained ? 'sustained' : 'NOT sustained'}`,
      );
      if (!step.sustained) {
        result.firstNotSustained = rate;
        break;
      }
      result.highestSustained = Math.max(result.highestSustained, rate);
      // Let what is left drain before the next step (an idle second).
      await sleep(1000);
    }
  } catch (error) {
    result.error = (error as Error).message;
    say(`  failed: ${result.error}`);
  } finally {
    await Promise.all(pubs?.clients.map((c) => c.endAsync(true).catch(() => undefined)) ?? []);
    await target.stop();
  }
  return result;
}

// ── report ───────────────────────────────────────────────────────────────────────────────────

const startLoad = loadavg();

/**
 * CPU time of every process on the path, the bench's own publishers and nurse included, per
 * message offered, at the ramp's highest sustained step: "system (bench, Mosquitto)" µs. On two
 * cores, 2,000,000 µs a second over this is the most the machine could carry.
 */
function cpuPerMessage(r: Result): string {
  const step = r.ramp.find((s) => s.rate === r.highestSustained);
  if (step === undefined) return '–';
  const per = (percent: number) => Math.round((percent / 100 / step.offered) * 1e6);
  const { bench = 0, mosquitto = 0, 'chromium renderer': _renderer, ...system } = step.cpu;
  const own = Object.values(system).reduce((a, b) => a + b, 0);
  return `${per(own + bench + mosquitto)}: ${per(own)} (bench ${per(bench)}, Mosquitto ${per(mosquitto)})`;
}

function report(results: Result[], started: Date, command: string): string {
  const lines = [
    `Machine: ${machine()}, Mosquitto at ${values.mosquitto}, Node-RED ${nodeRedVersion()}; ${started.toISOString()}; load average at the start ${startLoad.map((l) => l.toFixed(1)).join(' / ')}, at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min).`,
    `Command: \`${command}\``,
    '',
    `| sensors | system | p50 ms | p99 ms | max ms | alarms (missing) at ${RATE} msg/s | CPU % at ${RATE} msg/s | highest sustained msg/s (first not) | CPU µs a message there |`,
    '| ------: | ------ | -----: | -----: | -----: | ---------------: | -------: | ------: | ------: |',
  ];
  for (const r of results) {
    const l = r.latency;
    const cpu = l
      ? Object.entries(l.cpu)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'n/a'
      : '–';
    const highest = r.error
      ? `failed: ${r.error}`
      : r.rampSkipped
        ? `– (${r.rampSkipped})`
        : `${r.highestSustained.toLocaleString('en-US')}${r.firstNotSustained ? ` (${r.firstNotSustained.toLocaleString('en-US')})` : ` (≥ ramp end ${RAMP_TO})`}`;
    lines.push(
      `| ${r.sensors.toLocaleString('en-US')} | ${LABEL[r.system]} | ${num(l?.p50 ?? Number.NaN, 2)} | ${num(l?.p99 ?? Number.NaN, 2)} | ${num(l?.max ?? Number.NaN, 2)} | ${l ? `${l.n} (${l.missing})` : '–'} | ${cpu} | ${highest} | ${cpuPerMessage(r)} |`,
    );
  }
  const withStored = results.filter((r) => r.latency?.stored);
  if (withStored.length > 0) {
    lines.push(
      '',
      `Nattevakt tells the nurse twice: the provisional alarm (above: the path's end, announced by the gateway as it decides) and then the stored alarm, with its lifecycle and commands (durable in the gateway's outbox, stored and audited by the server). The same door alarms until the stored one reached the nurse, at ${RATE} msg/s, and the ramp's highest step at which every one was also stored within the limits:`,
      '',
      '| sensors | stored p50 ms | stored p99 ms | stored max ms | never stored | heard of first: from the gateway feed / as the server’s provisional alarm |',
      '| ------: | -----: | -----: | -----: | -----: | -----: |',
    );
    for (const r of withStored) {
      const st = r.latency?.stored;
      if (!st) continue;
      lines.push(
        `| ${r.sensors.toLocaleString('en-US')} | ${num(st.p50, 2)} | ${num(st.p99, 2)} | ${num(st.max, 2)} | ${st.missing} | ${st.firstFromGateway} / ${st.firstProvisional} of ${r.latency?.n ?? 0} |`,
      );
    }
  }
  const tabbed = results.filter((r) => r.latency?.tab);
  if (tabbed.length > 0) {
    lines.push(
      '',
      `Shown in a real Chromium tab: each door alarm from just before its publish to its card in the nurse board's DOM, next to the same alarm at the bench's Socket.IO client, at ${RATE} msg/s:`,
      '',
      '| sensors | door alarms shown (never shown) | at the Socket.IO client p50 / p99 / max ms | shown in the tab p50 / p99 / max ms | page renderer CPU | page in long tasks | board lost the server | page clock − bench clock ms |',
      '| ------: | ------: | ------: | ------: | ------: | ------: | ------: | ------: |',
    );
    for (const r of tabbed) {
      const t = r.latency?.tab;
      if (!t) continue;
      const three = (x: Stats) => `${num(x.p50, 2)} / ${num(x.p99, 2)} / ${num(x.max, 2)}`;
      const clock = r.tabClock ? `${num(r.tabClock.offset, 2)} ± ${num(r.tabClock.uncertainty, 2)}` : '–';
      lines.push(
        `| ${r.sensors.toLocaleString('en-US')} | ${t.n} (${t.missing}) | ${three(t.client)} | ${three(t.shown)} | ${t.rendererCpuPercent} % | ${t.longTasksPercent} % | ${t.linkLost}× | ${clock} |`,
      );
    }
  }
  lines.push('', 'Against the targets (p99 at the fixed rate):', '');
  for (const sensors of SIZES) {
    const of = (s: SystemName) => results.find((r) => r.sensors === sensors && r.system === s);
    const ours = of('nattevakt');
    const floor = of('floor');
    const red = of('node-red');
    if (!ours?.latency) continue;
    const parts: string[] = [];
    if (floor?.latency) {
      const ratio = ours.latency.p99 / floor.latency.p99;
      parts.push(`p99 ${num(ratio, 1)}× the floor's (target ≤ 3×: ${ratio <= 3 ? 'met' : 'missed'})`);
    }
    if (red?.latency) {
      parts.push(
        `p99 ${ours.latency.p99 < red.latency.p99 ? 'better' : 'not better'} than Node-RED's (${num(ours.latency.p99, 2)} vs ${num(red.latency.p99, 2)} ms)`,
      );
      if (!ours.rampSkipped && !red.rampSkipped) {
        parts.push(
          `throughput ${ours.highestSustained > red.highestSustained ? 'better' : 'not better'} (${ours.highestSustained} vs ${red.highestSustained} msg/s)`,
        );
      }
    }
    lines.push(`- ${sensors.toLocaleString('en-US')} sensors: ${parts.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function nodeRedVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules/node-red/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const command = `node bench/dist/src/peers.js ${process.argv.slice(2).join(' ')}`.trim();
  const results: Result[] = [];
  // Before anything starts: a missing Chromium or an unbuilt web app is said at once.
  if (CHROMIUM_TAB) checkBoardTabCanOpen();
  mkdirSync(OUT, { recursive: true });
  say(
    `${machine()}; sizes ${SIZES.join(', ')}; systems ${SYSTEMS.join(', ')}; ${RATE} msg/s for ${SECONDS} s, ramp ${RAMP_FROM}…${RAMP_TO} msg/s (×${RAMP_FACTOR} a step), ${RAMP_SECONDS} s a step`,
  );
  for (const sensors of SIZES) {
    for (const system of SYSTEMS) results.push(await run(system, sensors));
  }
  const stamp = started.toISOString().slice(0, 16).replace(/[:T]/g, '');
  for (const sensors of SIZES) {
    const svg = lineChart({
      title: `End-to-end latency at ${RATE} msg/s, ${sensors.toLocaleString('en-US')} sensors (door opening → alarm at the client)`,
      x: { label: 'percentile', ticks: PERCENTILE_TICKS, min: 0 },
      y: { label: 'latency, ms (log scale)', log: true },
      series: results
        .filter((r) => r.sensors === sensors && r.latency)
        .flatMap((r) => [
          { name: LABEL[r.system], points: percentilePoints(r.latency?.latencies ?? []) },
          ...(r.latency?.stored
            ? [{ name: `${LABEL[r.system]}, the stored alarm`, points: percentilePoints(r.latency.stored.latencies) }]
            : []),
          ...(r.latency?.tab
            ? [{ name: `${LABEL[r.system]}, shown in a Chromium tab`, points: percentilePoints(r.latency.tab.shownLatencies) }]
            : []),
        ]),
      caption: [`${machine()}; ${started.toISOString()}`, `command: ${command}`],
    });
    writeFileSync(join(OUT, `peers-${sensors}.svg`), svg);
  }
  const markdown = report(results, started, command);
  writeFileSync(join(OUT, `peers-${stamp}.md`), markdown);
  writeFileSync(
    join(OUT, `peers-${stamp}.json`),
    `${JSON.stringify(
      results.map((r) => ({
        ...r,
        latency: r.latency
          ? { ...r.latency, latencies: undefined, tab: r.latency.tab ? { ...r.latency.tab, shownLatencies: undefined } : null }
          : null,
      })),
      null,
      2,
    )}\n`,
  );
  process.stdout.write(markdown);
  say(`wrote ${OUT}/peers-${stamp}.md, .json and peers-{${SIZES.join(',')}}.svg`);
}

main().catch((error: unknown) => {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
