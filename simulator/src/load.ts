import { setTimeout as sleep } from 'node:timers/promises';
import { type AlarmDecision, alarmDecision } from '@nattevakt/protocol/alarm';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { DateTime } from 'luxon';
import { connectAsync, type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';

export interface LoadOptions {
  /** The ward to load: every sensor of it publishes (`demoWard({ residents: sensors / 2 })` fits). */
  site: SiteConfig;
  url: string;
  username?: string;
  password?: string;
  /** Messages per second, all sensors together. */
  rate: number;
  /** How long to publish, in seconds. */
  seconds: number;
  /** Every n-th message opens a door (a door-open-at-night alarm) and closes it again a second later; 0 for none. */
  alarmEvery: number;
  /**
   * Publish a simulated site clock at 03:00 tonight, running at real speed (a gateway with
   * clock "simulated"); false for a gateway on the system clock, whose night window then decides.
   */
  clock: boolean;
  /** A /staff client of the server, to measure end-to-end latency: logged in as a nurse of the site. */
  staff?: { server: string; username: string; password: string };
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedMs: number;
  fraction: number;
  sent: number;
  accepted: number;
  alarms: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadSummary {
  sensors: number;
  rate: number;
  seconds: number;
  /** Handed to the MQTT connection. */
  sent: number;
  /** Acknowledged by the gateway (PUBACK, QoS 1): taken and decided on. */
  accepted: number;
  /** Door openings meant to raise an alarm. */
  alarmsTriggered: number;
  /** Alarms the gateway decided (its alarm topic). */
  alarmsDecided: number;
  /** Alarms that reached the /staff client. */
  alarmsDelivered: number;
  /** Door opened → decision on the gateway's alarm topic. */
  decisionLatency: LatencySummary | null;
  /** Door opened → `alarm` event on the /staff Socket.IO client. */
  staffLatency: LatencySummary | null;
  achievedRate: number;
  durationMs: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);

const summarize = (values: readonly number[]): LatencySummary | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
};

/** Logs in to the server and connects a /staff Socket.IO client with the session cookie. */
export async function staffClient(options: {
  server: string;
  username: string;
  password: string;
}): Promise<Socket<StaffServerToClient, StaffClientToServer>> {
  const base = options.server.replace(/\/$/, '');
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username: options.username, password: options.password }),
  });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('nattevakt_session='))
    ?.split(';', 1)[0];
  if (!login.ok || cookie === undefined)
    throw new Error(`cannot log in to ${base} as ${options.username}: ${login.status} ${await login.text()}`);
  const socket: Socket<StaffServerToClient, StaffClientToServer> = io(`${base}/staff`, {
    transports: ['websocket'],
    extraHeaders: { cookie },
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`/staff refused the connection: ${error.message}`)));
  });
  return socket;
}

/**
 * Load mode: every sensor of the site publishes its state, round robin, at `rate` messages a
 * second for `seconds`; every `alarmEvery`-th message opens a door instead, which the gateway
 * must turn into an alarm. Measures what the gateway accepted (PUBACK), the alarms it decided and
 * delivered to a /staff client, and the latency of each from the door opening.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const { site, rate, seconds } = options;
  if (!(rate > 0 && rate <= 100_000)) throw new RangeError(`rate must be above 0 and at most 100000 messages a second, got ${rate}`);
  if (!(seconds > 0 && seconds <= 86_400)) throw new RangeError(`seconds must be above 0 and at most 86400, got ${seconds}`);
  const sensors = site.sensors;
  if (sensors.length === 0) throw new RangeError('the site has no sensors');
  const siteId = site.site.id;
  const doors = sensors.filter((s) => s.kind === 'door');

  const client: MqttClient = await connectAsync(
    options.url,
    { username: options.username, password: options.password, clientId: `nattevakt-load-${siteId}-${process.pid}`, reconnectPeriod: 0 },
    false,
  ).catch((error: unknown) => {
    throw new Error(`cannot connect to the MQTT broker at ${options.url}: ${error instanceof Error ? error.message : String(error)}`);
  });
  let staff: Socket<StaffServerToClient, StaffClientToServer> | null = null;
  const opened = new Map<string, number>(); // roomId → when its door was opened (performance.now)
  const decisionLatencies: number[] = [];
  const staffLatencies: number[] = [];
  const decided = new Set<string>();
  const delivered = new Set<string>();
  try {
    if (options.staff !== undefined) {
      staff = await staffClient(options.staff);
      staff.on('alarm', (alarm) => {
        if (alarm.siteId !== siteId || alarm.rule !== 'door-open-at-night' || delivered.has(alarm.id)) return;
        delivered.add(alarm.id);
        const at = opened.get(`staff:${alarm.roomId}`);
        if (at !== undefined) {
          staffLatencies.push(performance.now() - at);
          opened.delete(`staff:${alarm.roomId}`);
        }
      });
    }
    client.on('message', (_topic, payload) => {
      let alarm: AlarmDecision;
      try {
        const checked = alarmDecision.check(JSON.parse(payload.toString('utf8')));
        if (!checked.ok) return;
        alarm = checked.value;
      } catch {
        return;
      }
      if (alarm.rule !== 'door-open-at-night' || decided.has(alarm.id)) return;
      decided.add(alarm.id);
      const at = opened.get(`gateway:${alarm.roomId}`);
      if (at !== undefined) {
        decisionLatencies.push(performance.now() - at);
        opened.delete(`gateway:${alarm.roomId}`);
      }
    });
    const granted = await client.subscribeAsync(topics.alarms(siteId), { qos: 1 });
    if (granted.some((g) => g.qos === 128))
      throw new Error(`the broker refused the subscription to ${topics.alarms(siteId)}: use a device with role simulator`);

    // 03:00 tonight in the site's zone, then real time.
    const siteStart = nightInstant(site.site.timezone);
    const clockStart = performance.now();
    const publishClock = () =>
      client.publishAsync(
        topics.clock(siteId),
        JSON.stringify({ time: new Date(siteStart + (performance.now() - clockStart)).toISOString(), speed: 1 }),
        {
          qos: 1,
        },
      );
    if (options.clock) await publishClock();
    const clockTimer = options.clock ? setInterval(() => void publishClock().catch(() => undefined), 250) : null;

    const total = Math.round(rate * seconds);
    const started = performance.now();
    let sent = 0;
    let accepted = 0;
    let alarmsTriggered = 0;
    let lastProgress = 0;
    let doorIndex = 0;
    const inFlight = new Set<Promise<unknown>>();
    const publish = (topic: string, payload: string) => {
      sent++;
      const ack = client.publishAsync(topic, payload, { qos: 1 }).then(
        () => {
          accepted++;
        },
        () => undefined,
      );
      inFlight.add(ack);
      void ack.finally(() => inFlight.delete(ack));
    };
    try {
      let scheduled = 0;
      for (let i = 0; i < total; i++) {
        if (options.signal?.aborted) break;
        scheduled++;
        const due = started + (i / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        // Never more than a second of messages unacknowledged: a gateway that cannot keep up slows us down.
        while (inFlight.size > Math.max(100, rate)) await Promise.race(inFlight);
        const door = doors[doorIndex % Math.max(1, doors.length)];
        if (options.alarmEvery > 0 && door !== undefined && i % options.alarmEvery === options.alarmEvery - 1) {
          doorIndex++;
          opened.set(`gateway:${door.roomId}`, performance.now());
          opened.set(`staff:${door.roomId}`, performance.now());
          alarmsTriggered++;
          publish(topics.sensorState(siteId, door.id), JSON.stringify({ kind: 'door', open: true }));
          setTimeout(() => publish(topics.sensorState(siteId, door.id), JSON.stringify({ kind: 'door', open: false })), 1000).unref();
        } else {
          const sensor = sensors[i % sensors.length];
          if (sensor === undefined) continue;
          const payload = sensor.kind === 'bed' ? { kind: 'bed', occupied: true } : { kind: 'door', open: false };
          publish(topics.sensorState(siteId, sensor.id), JSON.stringify({ ...payload, battery: 80, linkquality: 120 }));
        }
        if (options.onProgress !== undefined && performance.now() - lastProgress > 250) {
          lastProgress = performance.now();
          options.onProgress({ elapsedMs: performance.now() - started, fraction: i / total, sent, accepted, alarms: decided.size });
        }
      }
      const publishedFor = performance.now() - started;
      // Let the last alarms arrive: until every door opened has been answered, or two seconds.
      const settleFrom = performance.now();
      while (performance.now() - settleFrom < 2000 && (inFlight.size > 0 || [...opened.keys()].length > 0)) await sleep(20);
      await sleep(1100); // the doors still open close after a second
      options.onProgress?.({ elapsedMs: performance.now() - started, fraction: 1, sent, accepted, alarms: decided.size });
      return {
        sensors: sensors.length,
        rate,
        seconds,
        sent,
        accepted,
        alarmsTriggered,
        alarmsDecided: decided.size,
        alarmsDelivered: delivered.size,
        decisionLatency: summarize(decisionLatencies),
        staffLatency: summarize(staffLatencies),
        // The rate asked for, as achieved: the doors closing again come on top.
        achievedRate: Math.round((scheduled / publishedFor) * 1000 * 10) / 10,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      if (clockTimer !== null) clearInterval(clockTimer);
    }
  } finally {
    staff?.disconnect();
    await client.endAsync(true).catch(() => undefined);
  }
}

/** 03:00 in the zone, tonight: inside every demo plan's night window. */
function nightInstant(zone: string): number {
  return DateTime.now().setZone(zone).plus({ hours: 12 }).set({ hour: 3, minute: 0, second: 0, millisecond: 0 }).toMillis();
}
