import { setTimeout as sleep } from 'node:timers/promises';
import { type AlarmDecision, alarmDecision } from '@nattevakt/protocol/alarm';
import type { SelfTestReport } from '@nattevakt/protocol/commissioning';
import type { SensorKind } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';
import { DateTime } from 'luxon';
import { connectAsync, type MqttClient } from 'mqtt';
import { staffClient } from './load.js';

/**
 * The chain self-test: a test alarm from a dedicated self-test sensor through the whole chain —
 * the sensor's wire format → the gateway's decision → the server → a tablet's delivery
 * confirmation — timed stage by stage. A passed test is resolved on the server with its timings
 * in the note, so the alarm's history is the maintenance record; a failed or late one is left
 * open on the ward board as the technical alarm it is.
 *
 * The self-test sensor is an ordinary sensor of the site configuration in a room without a
 * resident (e.g. a door contact "selvtest" in a room "Selvtest"); the test alarm is its tamper
 * switch, a technical alarm every tablet shows.
 */
export interface SelfTestOptions {
  /** The gateway's broker, and a device with role simulator. */
  url: string;
  username?: string;
  password?: string;
  siteId: string;
  sensorId: string;
  sensorKind?: SensorKind;
  /** The server, and a member of staff of the site who may resolve alarms. */
  server: string;
  login: string;
  loginPassword: string;
  /** How long the gateway and the server each have (default 10 s). */
  stageTimeoutMs?: number;
  /** How long a tablet has to confirm delivery (default 2 minutes). */
  confirmWithinMs?: number;
  onStage?: (stage: string, ms: number) => void;
  /**
   * Report the result to the server's maintenance log (`POST /api/sites/{site}/self-tests`, as the
   * logged-in user), a failure too; default true. The server raises `self-test-missed` when no
   * report comes by the site's daily deadline.
   */
  report?: boolean;
}

export interface SelfTestResult {
  ok: boolean;
  at: string;
  alarmId?: string;
  /** Milliseconds from publishing the test message. */
  gatewayMs?: number;
  serverMs?: number;
  tabletMs?: number;
  /** The tablet that confirmed first. */
  device?: string;
  /** Which stage failed, in words. */
  failure?: string;
  /** Resolved on the server with the timings in its note. */
  resolved: boolean;
  /** Recorded in the server's maintenance log; `reportError` says why not. */
  reported?: boolean;
  reportError?: string;
}

interface DeliveryTimeline {
  devices: { device: string; deliveredAt: string | null }[];
}

/** Runs the self-test once and reports its result to the server's maintenance log (unless `report: false`). */
export async function runSelfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const at = new Date().toISOString();
  // One session for the test and its report (logins are rate-limited per address).
  const cookie = await sessionCookie(options.server.replace(/\/$/, ''), options.login, options.loginPassword);
  let result: SelfTestResult;
  try {
    result = await chainTest(options, cookie);
  } catch (error) {
    // A test that could not even start (e.g. the broker unreachable) is a failed test too: say so.
    if (options.report !== false) {
      const failure = error instanceof Error ? error.message : String(error);
      await reportSelfTest(options, { ok: false, at, failure, resolved: false }, cookie).catch(() => undefined);
    }
    throw error;
  }
  if (options.report === false) return result;
  try {
    await reportSelfTest(options, result, cookie);
    return { ...result, reported: true };
  } catch (error) {
    return { ...result, reported: false, reportError: error instanceof Error ? error.message : String(error) };
  }
}

/** Records one result in the server's maintenance log, as the self-test's login. */
export async function reportSelfTest(
  options: Pick<SelfTestOptions, 'server' | 'login' | 'loginPassword' | 'siteId' | 'sensorId'>,
  result: SelfTestResult,
  /** A session cookie of the login; logs in when omitted. */
  session?: string,
): Promise<void> {
  const base = options.server.replace(/\/$/, '');
  const cookie = session ?? (await sessionCookie(base, options.login, options.loginPassword));
  const body: SelfTestReport = {
    ok: result.ok,
    at: result.at,
    sensorId: options.sensorId,
    resolved: result.resolved,
    ...(result.alarmId !== undefined ? { alarmId: result.alarmId } : {}),
    ...(result.gatewayMs !== undefined ? { gatewayMs: result.gatewayMs } : {}),
    ...(result.serverMs !== undefined ? { serverMs: result.serverMs } : {}),
    ...(result.tabletMs !== undefined ? { tabletMs: result.tabletMs } : {}),
    ...(result.device !== undefined ? { device: result.device } : {}),
    ...(result.failure !== undefined ? { failure: result.failure.slice(0, 500) } : {}),
  };
  const response = await fetch(`${base}/api/sites/${encodeURIComponent(options.siteId)}/self-tests`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`the server refused the self-test report: ${response.status} ${await response.text()}`);
}

async function chainTest(options: SelfTestOptions, cookie: string): Promise<SelfTestResult> {
  const stageTimeout = options.stageTimeoutMs ?? 10_000;
  const confirmWithin = options.confirmWithinMs ?? 120_000;
  const at = new Date().toISOString();
  const base = options.server.replace(/\/$/, '');
  const client: MqttClient = await connectAsync(
    options.url,
    {
      username: options.username,
      password: options.password,
      clientId: `nattevakt-selftest-${options.siteId}-${process.pid}`,
      reconnectPeriod: 0,
    },
    false,
  );
  const staff = await staffClient({ server: options.server, username: options.login, password: options.loginPassword }).catch(
    async (error: unknown) => {
      await client.endAsync(true);
      throw error;
    },
  );
  const result: SelfTestResult = { ok: false, at, resolved: false };
  const stateTopic = topics.sensorState(options.siteId, options.sensorId);
  const state = (tamper: boolean) =>
    JSON.stringify(
      (options.sensorKind ?? 'door') === 'door' ? { kind: 'door', open: false, tamper } : { kind: 'bed', occupied: false, tamper },
    );
  try {
    const decisions: AlarmDecision[] = [];
    client.on('message', (_topic, payload) => {
      try {
        const checked = alarmDecision.check(JSON.parse(payload.toString('utf8')));
        if (checked.ok && checked.value.rule === 'tamper' && checked.value.sensorId === options.sensorId) decisions.push(checked.value);
      } catch {
        // Not an alarm decision: not ours to judge.
      }
    });
    const granted = await client.subscribeAsync(topics.alarms(options.siteId), { qos: 1 });
    if (granted.some((g) => g.qos === 128))
      throw new Error(`the broker refused the subscription to ${topics.alarms(options.siteId)}: use a device with role simulator`);
    const onServer = new Set<string>();
    staff.on('alarm', (alarm) => {
      if (alarm.sensorId === options.sensorId && alarm.rule === 'tamper') onServer.add(alarm.id);
    });
    // A tamper alarm left open by an earlier run would swallow this one (one alarm per condition): close the condition first.
    await client.publishAsync(stateTopic, state(false), { qos: 1 });

    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    await client.publishAsync(stateTopic, state(true), { qos: 1 });

    const decision = await waitFor(() => decisions[0], stageTimeout);
    if (decision === undefined)
      return { ...result, failure: `the gateway raised no tamper alarm for ${options.sensorId} within ${stageTimeout / 1000} s` };
    result.alarmId = decision.id;
    result.gatewayMs = elapsed();
    options.onStage?.('gateway', result.gatewayMs);

    const stored = await waitFor(() => (onServer.has(decision.id) ? true : undefined), stageTimeout);
    if (stored === undefined) return { ...result, failure: `the server did not show alarm ${decision.id} within ${stageTimeout / 1000} s` };
    result.serverMs = elapsed();
    options.onStage?.('server', result.serverMs);

    const confirmed = await waitFor(async () => {
      const response = await fetch(`${base}/api/alarms/${encodeURIComponent(decision.id)}/delivery`, { headers: { cookie } });
      if (!response.ok) return undefined;
      const timeline = (await response.json()) as DeliveryTimeline;
      return timeline.devices.find((d) => d.deliveredAt !== null);
    }, confirmWithin);
    if (confirmed === undefined) return { ...result, failure: `no tablet confirmed alarm ${decision.id} within ${confirmWithin / 1000} s` };
    result.tabletMs = elapsed();
    result.device = confirmed.device;
    options.onStage?.('tablet', result.tabletMs);

    await client.publishAsync(stateTopic, state(false), { qos: 1 });
    const note = `Selvtest OK: gateway ${result.gatewayMs} ms, server ${result.serverMs} ms, nettbrett ${result.tabletMs} ms (${confirmed.device})`;
    const resolved = await staff
      .timeout(stageTimeout)
      .emitWithAck('resolve', { alarmId: decision.id, by: 'Selvtest', outcome: 'other', note })
      .catch((error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }));
    if (!resolved.ok) return { ...result, failure: `the test alarm could not be resolved: ${resolved.error}` };
    return { ...result, ok: true, resolved: true };
  } finally {
    // The condition ends either way; a failed test's alarm stays open on the board for the nurse in charge and the technician.
    await client.publishAsync(stateTopic, state(false), { qos: 1 }).catch(() => undefined);
    staff.disconnect();
    await client.endAsync(true).catch(() => undefined);
  }
}

/** Polls until `probe` yields a value, or gives up after `ms`. */
async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const until = performance.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > until) return undefined;
    await sleep(50);
  }
}

async function sessionCookie(base: string, username: string, password: string): Promise<string> {
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('nattevakt_session='))
    ?.split(';', 1)[0];
  if (!login.ok || cookie === undefined) throw new Error(`cannot log in to ${base} as ${username}: ${login.status}`);
  return cookie;
}

/** The next time the wall clock shows `hhmm` in the zone, after `now`. */
export function nextDailyRun(hhmm: string, zone: string, now: number): number {
  const [hour, minute] = hhmm.split(':').map(Number) as [number, number];
  let next = DateTime.fromMillis(now, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
  if (next.toMillis() <= now) next = next.plus({ days: 1 }).set({ hour, minute });
  return next.toMillis();
}

/**
 * The self-test every day at `at` (local time in `zone`) until aborted. Between runs the self-test
 * sensor sends its heartbeat every 8 minutes, as a real sensor does, so it is not reported silent.
 */
export async function runDailySelfTest(
  options: SelfTestOptions & { at: string; zone: string; signal: AbortSignal; onResult: (result: SelfTestResult) => void },
): Promise<void> {
  const heartbeat = await connectAsync(options.url, {
    username: options.username,
    password: options.password,
    clientId: `nattevakt-selftest-heartbeat-${options.siteId}-${process.pid}`,
  });
  const stateTopic = topics.sensorState(options.siteId, options.sensorId);
  const beat = () =>
    heartbeat
      .publishAsync(
        stateTopic,
        JSON.stringify(
          (options.sensorKind ?? 'door') === 'door'
            ? { kind: 'door', open: false, tamper: false }
            : { kind: 'bed', occupied: false, tamper: false },
        ),
        { qos: 1 },
      )
      .catch(() => undefined);
  await heartbeat.publishAsync(topics.sensorAvailability(options.siteId, options.sensorId), JSON.stringify({ state: 'online' }), {
    qos: 1,
    retain: true,
  });
  await beat();
  const timer = setInterval(() => void beat(), 8 * 60_000);
  try {
    while (!options.signal.aborted) {
      const wait = nextDailyRun(options.at, options.zone, Date.now()) - Date.now();
      try {
        await sleep(wait, undefined, { signal: options.signal });
      } catch {
        break;
      }
      options.onResult(
        await runSelfTest(options).catch((error: unknown) => ({
          ok: false,
          at: new Date().toISOString(),
          failure: error instanceof Error ? error.message : String(error),
          resolved: false,
        })),
      );
    }
  } finally {
    clearInterval(timer);
    await heartbeat.endAsync(true).catch(() => undefined);
  }
}
