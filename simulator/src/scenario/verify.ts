import { setTimeout as sleep } from 'node:timers/promises';
import { type AlarmDecision, alarmDecision } from '@nattevakt/protocol/alarm';
import type { SimulatedClockPayload } from '@nattevakt/protocol/sensor-payloads';
import { TOPIC_ROOT, topics } from '@nattevakt/protocol/topics';
import { connectAsync, type MqttClient } from 'mqtt';
import { type ScheduledMessage, wireBytes } from '../scheduled-message.js';
import { compareAlarms, type Difference } from './compare.js';
import type { CompiledScenario } from './load-scenario.js';

export interface VerifyProgress {
  /** Site time reached, epoch ms. */
  simTime: number;
  /** How far through the scenario, 0–1. */
  fraction: number;
  sent: number;
  alarms: number;
}

export interface VerifyOptions {
  /** The gateway's broker, e.g. mqtt://127.0.0.1:1884. */
  url: string;
  /** A broker device with role `simulator` (plays every native sensor and the clock, reads the alarms). */
  username?: string;
  password?: string;
  /** A broker device with role `bridge` for the scenario's Zigbee2MQTT sensors; without it they share the first connection. */
  bridge?: { username?: string; password?: string };
  /**
   * Simulated seconds between clock messages (default 5): the gateway decides timed rules when
   * its clock passes their deadline, so an alarm's raisedAt is at most this late.
   */
  stepSeconds?: number;
  /** Simulated seconds per real second; 0 (the default) runs as fast as the gateway acknowledges. */
  speed?: number;
  /** Real ms to wait for alarms still on their way after the last message (default 300). */
  settleMs?: number;
  /**
   * The gateway's health endpoint (http://host:port/health): checked first, so a gateway whose
   * simulated clock is already past the scenario's start is refused with a clear message.
   */
  healthUrl?: string;
  onProgress?: (progress: VerifyProgress) => void;
  /** Real ms between progress reports (default 1000). */
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface VerifyResult {
  scenario: string;
  passed: boolean;
  aborted: boolean;
  /** Every alarm the gateway raised while the scenario ran. */
  alarms: AlarmDecision[];
  differences: Difference[];
  sent: number;
  clockMessages: number;
  durationMs: number;
  /** Said when the alarms' times suggest the gateway was not on the scenario's clock. */
  hint?: string;
}

/** How many QoS 1 publishes may wait for their PUBACK at once on one connection. */
const IN_FLIGHT = 200;

/**
 * Runs a scenario against a running gateway and compares the alarms it raises with the
 * scenario's expectations. The gateway must run the scenario's site configuration with
 * `clock: "simulated"`: this drives its clock, in steps of `stepSeconds` and to the instant of
 * every message, and listens on the gateway's alarm topic (nattevakt/v1/{site}/alarms).
 *
 * Order is what makes the result exact: a clock message and the sensor messages of its instant go
 * out on one connection (MQTT keeps their order), and before a Zigbee2MQTT message goes out on
 * the bridge's connection every earlier message has been acknowledged, which the gateway does only
 * after deciding on it (it takes messages before the PUBACK).
 */
export async function verifyScenario(scenario: CompiledScenario, options: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const stepMs = Math.round((options.stepSeconds ?? 5) * 1000);
  if (!(stepMs >= 100 && stepMs <= 3_600_000)) throw new RangeError(`stepSeconds must be from 0.1 to 3600, got ${options.stepSeconds}`);
  const speed = options.speed ?? 0;
  if (!(speed >= 0 && speed <= 100_000)) throw new RangeError(`speed must be from 0 (as fast as possible) to 100000, got ${speed}`);
  const siteId = scenario.site.site.id;
  const isNative = (m: ScheduledMessage) => m.topic.startsWith(`${TOPIC_ROOT}/`);
  const needsBridge = options.bridge !== undefined && scenario.messages.some((m) => !isNative(m));

  const connect = async (who: string, credentials: { username?: string; password?: string }) => {
    try {
      return await connectAsync(
        options.url,
        {
          ...credentials,
          clientId: `nattevakt-verify-${who}-${siteId}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
          reconnectPeriod: 0,
        },
        false,
      );
    } catch (error) {
      throw new Error(
        `cannot connect to the MQTT broker at ${options.url} as ${who}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  };
  if (options.healthUrl !== undefined) await checkGatewayClock(options.healthUrl, scenario);
  const main = await connect('simulator', { username: options.username, password: options.password });
  let bridge: MqttClient | null = null;
  const clients: MqttClient[] = [main];
  let closedBy: string | null = null;
  const watch = (client: MqttClient, who: string) =>
    client.on('close', () => {
      closedBy ??= `the broker closed the ${who} connection (a publish it does not allow, e.g. Zigbee2MQTT topics without --bridge-username, or the clock to a gateway without clock "simulated")`;
    });

  const alarms: AlarmDecision[] = [];
  const rejectedAlarms: string[] = [];
  let lastAlarmAt = performance.now();
  try {
    main.on('message', (topic, payload) => {
      if (topic !== topics.alarms(siteId)) return;
      const checked = alarmDecision.check(JSON.parse(payload.toString('utf8')));
      if (checked.ok) alarms.push(checked.value);
      else rejectedAlarms.push(checked.errors.join('; '));
      lastAlarmAt = performance.now();
    });
    const granted = await main.subscribeAsync(topics.alarms(siteId), { qos: 1 });
    if (granted.some((g) => g.qos === 128)) {
      throw new Error(`the broker refused the subscription to ${topics.alarms(siteId)}: use a device with role simulator or consumer`);
    }
    watch(main, 'simulator');
    if (needsBridge) {
      bridge = await connect('zigbee2mqtt bridge', options.bridge ?? {});
      clients.push(bridge);
      watch(bridge, 'Zigbee2MQTT bridge');
    }

    // Every instant the clock stops at: each step, and each message's time.
    const instants = new Set<number>();
    for (let t = scenario.from; t < scenario.to; t += stepMs) instants.add(t);
    instants.add(scenario.to);
    for (const message of scenario.messages) instants.add(message.at);
    const timeline = [...instants].sort((a, b) => a - b);

    const pending: Promise<unknown>[] = [];
    const drain = async () => {
      await Promise.all(pending.splice(0));
    };
    const clockSpeed = speed === 0 ? 100_000 : speed;
    const realStart = performance.now();
    let lastProgress = Number.NEGATIVE_INFINITY;
    const progressEvery = options.progressEveryMs ?? 1000;
    let sent = 0;
    let clockMessages = 0;
    let reached = scenario.from;
    let index = 0;
    let aborted = false;
    const span = scenario.to - scenario.from;
    for (const instant of timeline) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      if (closedBy !== null) throw new Error(closedBy);
      if (speed > 0) {
        const due = (instant - scenario.from) / speed - (performance.now() - realStart);
        if (due > 0) await sleep(due);
      }
      const clock: SimulatedClockPayload = { time: new Date(instant).toISOString(), speed: clockSpeed };
      reached = instant;
      pending.push(main.publishAsync(topics.clock(siteId), JSON.stringify(clock), { qos: 1 }));
      clockMessages++;
      while (index < scenario.messages.length && (scenario.messages[index]?.at ?? Number.POSITIVE_INFINITY) <= instant) {
        const message = scenario.messages[index] as ScheduledMessage;
        index++;
        const options = { qos: 1 as const, retain: message.retain ?? false };
        if (bridge !== null && !isNative(message)) {
          // Another connection: the gateway must have decided on everything before it first.
          await drain();
          await bridge.publishAsync(message.topic, wireBytes(message), options);
        } else pending.push(main.publishAsync(message.topic, wireBytes(message), options));
        sent++;
      }
      if (pending.length >= IN_FLIGHT) await drain();
      if (options.onProgress !== undefined && performance.now() - lastProgress >= progressEvery) {
        lastProgress = performance.now();
        options.onProgress({ simTime: instant, fraction: span > 0 ? (instant - scenario.from) / span : 1, sent, alarms: alarms.length });
      }
    }
    await drain();
    if (closedBy !== null) throw new Error(closedBy);
    // The night is over: the clock stands where it is (speed 0). Left at the run's speed, every
    // tablet and page that shows the site clock would run it on at up to 100 000 times real time.
    const stand: SimulatedClockPayload = { time: new Date(reached).toISOString(), speed: 0 };
    await main.publishAsync(topics.clock(siteId), JSON.stringify(stand), { qos: 1 }).catch(() => undefined);
    // Alarms are published by the gateway after it acknowledges: wait until they stop coming.
    const settle = options.settleMs ?? 300;
    const settleStart = performance.now();
    lastAlarmAt = Math.max(lastAlarmAt, settleStart);
    while (performance.now() - lastAlarmAt < settle && performance.now() - settleStart < 10 * settle) await sleep(20);
    options.onProgress?.({ simTime: scenario.to, fraction: 1, sent, alarms: alarms.length });

    const ran = alarms.filter((a) => !Number.isNaN(Date.parse(a.raisedAt)));
    const differences = aborted ? [] : compareAlarms(scenario, ran);
    const outside = ran.filter((a) => Date.parse(a.raisedAt) < scenario.from || Date.parse(a.raisedAt) > scenario.to);
    let hint: string | undefined;
    if (outside.length > 0) {
      hint =
        `${outside.length} alarm(s) were raised outside the scenario's night (e.g. at ${outside[0]?.raisedAt}): is the gateway on clock "simulated"? ` +
        'A simulated clock never runs back, so a gateway that already played a later night keeps its own time: restart it, or run with --night set to a later date.';
    } else if (rejectedAlarms.length > 0)
      hint = `${rejectedAlarms.length} message(s) on the alarm topic were not alarm decisions: ${rejectedAlarms[0]}`;
    return {
      scenario: scenario.name,
      passed: !aborted && differences.length === 0,
      aborted,
      alarms: ran,
      differences,
      sent,
      clockMessages,
      durationMs: Math.round(performance.now() - started),
      ...(hint !== undefined ? { hint } : {}),
    };
  } finally {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
  }
}

/** Refuses to run when the gateway's site clock is already past the scenario's start: it would ignore ours. */
async function checkGatewayClock(healthUrl: string, scenario: CompiledScenario): Promise<void> {
  let health: { clock?: string; siteId?: string };
  try {
    const response = await fetch(healthUrl);
    health = (await response.json()) as typeof health;
  } catch (error) {
    throw new Error(`cannot read the gateway's health at ${healthUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (health.siteId !== undefined && health.siteId !== scenario.site.site.id) {
    throw new Error(`the gateway serves site "${health.siteId}", the scenario's site is "${scenario.site.site.id}"`);
  }
  const clock = health.clock === undefined ? Number.NaN : Date.parse(health.clock);
  if (clock > scenario.from) {
    throw new Error(
      `the gateway's clock is at ${health.clock}, after the scenario's start ${new Date(scenario.from).toISOString()}: a simulated clock never runs back. ` +
        'Restart the gateway, or run the scenario on a later night with --night.',
    );
  }
}
