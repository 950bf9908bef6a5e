import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulatedClockPayload } from '@nattevakt/protocol/sensor-payloads';
import { TOPIC_ROOT, topics } from '@nattevakt/protocol/topics';
import { connectAsync, type MqttClient } from 'mqtt';
import { type ScheduledMessage, wireBytes } from './scheduled-message.js';

export interface PlayProgress {
  /** Simulated site time, epoch ms. */
  simTime: number;
  /** How far through the night, 0–1. */
  fraction: number;
  sent: number;
}

export interface PlayOptions {
  url: string;
  username?: string;
  password?: string;
  /**
   * Credentials of a Zigbee2MQTT bridge (a broker device with role `bridge`): messages outside the
   * native `nattevakt/` topics go over this second connection, as a real Zigbee2MQTT would send them.
   * Without it, everything goes over the one connection (a broker in demo mode allows that).
   */
  bridge?: { username?: string; password?: string };
  /** Simulated seconds per real second, as the clock payload allows (0 < speed ≤ 100000). */
  speed: number;
  siteId: string;
  /** Keep the clock running until this site time after the last message (the end of the played span). */
  endAt?: number;
  /** How often the clock is published, in real ms. */
  clockIntervalMs?: number;
  onProgress?: (progress: PlayProgress) => void;
  /** Called after each sensor message is handed to the connection, e.g. to log its note. */
  onMessage?: (message: ScheduledMessage) => void;
  signal?: AbortSignal;
}

export interface PlaySummary {
  sent: number;
  durationMs: number;
  aborted: boolean;
}

/**
 * Replays a planned night over MQTT in accelerated time: site time runs `speed` times real time
 * from the first message. The simulated clock goes out every `clockIntervalMs` and immediately
 * before each batch of messages of the same instant, on the same connection with QoS 1, so a
 * gateway always has the clock at or past an event's time before it sees the event (MQTT keeps
 * the order of one connection).
 */
export async function playNight(messages: readonly ScheduledMessage[], options: PlayOptions): Promise<PlaySummary> {
  const { speed, siteId, signal } = options;
  if (!(speed > 0 && speed <= 100_000)) throw new RangeError(`speed must be above 0 and at most 100000, got ${speed}`);
  for (let i = 1; i < messages.length; i++) {
    if ((messages[i]?.at ?? 0) < (messages[i - 1]?.at ?? 0))
      throw new RangeError(`messages must be sorted by time (index ${i} is earlier)`);
  }
  const realStart = performance.now();
  const summary = (sent: number, aborted: boolean): PlaySummary => ({
    sent,
    durationMs: Math.round(performance.now() - realStart),
    aborted,
  });
  if (signal?.aborted) return summary(0, true);
  const first = messages[0];
  if (first === undefined) return summary(0, false);

  let client: MqttClient;
  try {
    // No retries while connecting: a wrong URL should fail now, not hang. Once connected, mqtt.js
    // reconnects by itself and resends unacknowledged QoS 1 messages.
    client = await connectAsync(
      options.url,
      { username: options.username, password: options.password, clientId: `nattevakt-simulator-${siteId}-${process.pid}` },
      false,
    );
  } catch (error) {
    throw new Error(`cannot connect to the MQTT broker at ${options.url}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }

  let bridge: MqttClient | null = null;
  if (options.bridge !== undefined && messages.some((m) => !m.topic.startsWith(`${TOPIC_ROOT}/`))) {
    try {
      bridge = await connectAsync(
        options.url,
        { ...options.bridge, clientId: `nattevakt-simulator-zigbee2mqtt-${siteId}-${process.pid}` },
        false,
      );
    } catch (error) {
      await endQuietly(client, true);
      throw new Error(`cannot connect as the Zigbee2MQTT bridge: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  const simStart = first.at;
  const simEnd = Math.max(options.endAt ?? 0, messages[messages.length - 1]?.at ?? simStart);
  const playStart = performance.now();
  const simNow = () => simStart + (performance.now() - playStart) * speed;
  let lastClock = Number.NEGATIVE_INFINITY;
  let sent = 0;
  let failure: unknown = null;

  // The clock never runs backwards, even when a tick and a batch fall in the same millisecond.
  const publishClock = (at: number): Promise<unknown> => {
    lastClock = Math.max(lastClock, Math.min(at, simEnd));
    const payload: SimulatedClockPayload = { time: new Date(Math.floor(lastClock)).toISOString(), speed };
    return client.publishAsync(topics.clock(siteId), JSON.stringify(payload), { qos: 1 });
  };
  const progress = () => {
    const now = Math.min(simNow(), simEnd);
    options.onProgress?.({ simTime: now, fraction: simEnd > simStart ? (now - simStart) / (simEnd - simStart) : 1, sent });
  };
  const ticker = setInterval(() => {
    publishClock(simNow()).catch((error: unknown) => {
      failure ??= error;
    });
    progress();
  }, options.clockIntervalMs ?? 250);

  let aborted = false;
  try {
    let index = 0;
    while (index < messages.length) {
      const batchAt = messages[index]?.at ?? simStart;
      if (!(await waitUntil(batchAt, simNow, speed, signal))) {
        aborted = true;
        break;
      }
      if (failure !== null) throw failure;
      // One synchronous run of publishes: no tick can slip between the clock and its batch.
      const acks: Promise<unknown>[] = [publishClock(simNow())];
      // The bridge's messages travel on another connection: the gateway must have the clock first.
      const viaBridge = (m: ScheduledMessage | undefined) => bridge !== null && m !== undefined && !m.topic.startsWith(`${TOPIC_ROOT}/`);
      let batchEnd = index;
      while (batchEnd < messages.length && messages[batchEnd]?.at === batchAt) batchEnd++;
      if (messages.slice(index, batchEnd).some(viaBridge)) await Promise.all(acks);
      for (; index < batchEnd; index++) {
        const message = messages[index] as ScheduledMessage;
        const connection = viaBridge(message) && bridge !== null ? bridge : client;
        acks.push(connection.publishAsync(message.topic, wireBytes(message), { qos: 1, retain: message.retain ?? false }));
        sent++;
        options.onMessage?.(message);
      }
      // While the broker is away, acknowledgements wait for the reconnect: an abort must not.
      if (!(await settledUnlessAborted(Promise.all(acks), signal))) {
        aborted = true;
        break;
      }
    }
    if (!aborted && simEnd > simNow()) aborted = !(await waitUntil(simEnd, simNow, speed, signal));
    if (!aborted) await publishClock(simEnd);
    progress();
  } finally {
    clearInterval(ticker);
    await endQuietly(client, aborted);
    if (bridge !== null) await endQuietly(bridge, aborted);
  }
  return summary(sent, aborted);
}

/** Sleeps until the simulated clock reaches `at`; false when aborted first. */
async function waitUntil(at: number, simNow: () => number, speed: number, signal: AbortSignal | undefined): Promise<boolean> {
  for (;;) {
    if (signal?.aborted) return false;
    const realMs = (at - simNow()) / speed;
    if (realMs <= 0) return true;
    try {
      // Short naps keep the abort prompt without a listener per wait.
      await sleep(Math.min(realMs, 1000), undefined, { signal });
    } catch {
      return false;
    }
  }
}

/** Waits for `work`; false when the signal aborts first. A rejection of `work` is rethrown. */
async function settledUnlessAborted(work: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal === undefined) {
    await work;
    return true;
  }
  if (signal.aborted) return false;
  let onAbort = () => {};
  const abortion = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), abortion]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Disconnects; after an abort without waiting for messages still in flight. */
async function endQuietly(client: MqttClient, force: boolean): Promise<void> {
  try {
    await client.endAsync(force);
  } catch {
    // Already closed: nothing left to clean up.
  }
}
