import { type SensorEvent, sensorEvent } from '@nattevakt/protocol/sensor-event';
import type { BedStatePayload, DoorStatePayload } from '@nattevakt/protocol/sensor-payloads';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';
import { DateTime } from 'luxon';
import { NightClock } from './behaviour/night-clock.js';
import type { CompiledScenario } from './scenario/load-scenario.js';
import type { ScheduledMessage } from './scheduled-message.js';

/** A Zigbee2MQTT device of the gateway's configuration (`zigbee2mqtt.devices`). */
export interface ReplayDevice {
  friendlyName: string;
  sensorId: string;
}

export interface ReplayOptions {
  /** Zigbee2MQTT's base topic and devices, so Zigbee events go back out as the bridge sent them. */
  zigbee2mqtt?: { baseTopic?: string; devices: readonly ReplayDevice[] };
  /** The site's time zone, for the report (default Europe/Oslo). */
  timezone?: string;
}

export interface ReplayPlan {
  siteId: string;
  messages: ScheduledMessage[];
  from: number;
  to: number;
  /** Zigbee2MQTT events of devices without a mapping, sent as native messages instead. */
  converted: number;
}

/** A recording that cannot be replayed, with which event is wrong. */
export class ReplayError extends Error {}

/**
 * Reads a night exported from the server (GET /api/sites/{siteId}/events: `{"events": [...]}`),
 * as one JSON document, or several pages as JSON lines, or a bare array of events.
 */
export function parseRecording(text: string): SensorEvent[] {
  const documents: unknown[] = [];
  const trimmed = text.trim();
  if (trimmed === '') throw new ReplayError('the recording is empty');
  try {
    documents.push(JSON.parse(trimmed));
  } catch {
    trimmed.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        documents.push(JSON.parse(line));
      } catch (error) {
        throw new ReplayError(`line ${index + 1}: not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
    });
  }
  const events: SensorEvent[] = [];
  documents.forEach((document, page) => {
    const list = Array.isArray(document) ? document : (document as { events?: unknown })?.events;
    if (!Array.isArray(list))
      throw new ReplayError(`document ${page + 1}: expected {"events": [...]} as the server's events route exports it`);
    list.forEach((item, index) => {
      const checked = sensorEvent.check(item);
      if (!checked.ok) throw new ReplayError(`document ${page + 1}, /events/${index}: ${checked.errors.join('; ')}`);
      events.push(checked.value);
    });
  });
  return events;
}

/**
 * The messages that reproduce a recorded night: each event published again at the site-clock time
 * the gateway received it, with the bytes the sensor sent (`raw`), on the topic of its format.
 * Events stored twice (pages that overlap) are sent once.
 */
export function planReplay(events: readonly SensorEvent[], options: ReplayOptions = {}): ReplayPlan {
  if (events.length === 0) throw new ReplayError('the recording holds no events');
  const siteIds = new Set(events.map((e) => e.siteId));
  if (siteIds.size > 1) throw new ReplayError(`the recording mixes sites: ${[...siteIds].join(', ')}`);
  const siteId = events[0]?.siteId as string;
  const baseTopic = options.zigbee2mqtt?.baseTopic ?? 'zigbee2mqtt';
  const devices = new Map((options.zigbee2mqtt?.devices ?? []).map((d) => [d.sensorId, d.friendlyName]));
  const seen = new Set<string>();
  const ordered = events
    .map((event, index) => ({ event, index, at: Date.parse(event.time) }))
    .filter(({ event }) => !seen.has(event.id) && seen.add(event.id) !== undefined)
    .sort((a, b) => a.at - b.at || a.index - b.index);
  let converted = 0;
  const messages: ScheduledMessage[] = [];
  for (const { event, at } of ordered) {
    const isAvailability =
      event.occupied === undefined && event.open === undefined && event.online !== undefined && isAvailabilityRaw(event.raw);
    if (event.format === 'native') {
      const topic = isAvailability ? topics.sensorAvailability(siteId, event.sensorId) : topics.sensorState(siteId, event.sensorId);
      messages.push({ at, topic, payload: {}, raw: event.raw, ...(isAvailability ? { retain: true } : {}) });
      continue;
    }
    const friendlyName = devices.get(event.sensorId);
    if (friendlyName !== undefined) {
      const topic = isAvailability ? `${baseTopic}/${friendlyName}/availability` : `${baseTopic}/${friendlyName}`;
      messages.push({ at, topic, payload: {}, raw: event.raw, ...(isAvailability ? { retain: true } : {}) });
      continue;
    }
    // No mapping for the device: the same reading in the native format.
    converted++;
    messages.push(nativeOf(event, at));
  }
  const first = messages[0]?.at ?? 0;
  const last = messages.at(-1)?.at ?? first;
  return { siteId, messages, from: first, to: last + 60_000, converted };
}

const isAvailabilityRaw = (raw: string): boolean => {
  const text = raw.trim();
  if (text === 'online' || text === 'offline') return true;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    return typeof json === 'object' && json !== null && 'state' in json && !('kind' in json);
  } catch {
    return false;
  }
};

function nativeOf(event: SensorEvent, at: number): ScheduledMessage {
  if (event.occupied === undefined && event.open === undefined) {
    if (event.online !== undefined) {
      return {
        at,
        topic: topics.sensorAvailability(event.siteId, event.sensorId),
        payload: { state: event.online ? 'online' : 'offline' },
        retain: true,
      };
    }
  }
  const extra = {
    ...(event.battery !== undefined ? { battery: event.battery } : {}),
    ...(event.linkquality !== undefined ? { linkquality: event.linkquality } : {}),
    ...(event.tamper !== undefined ? { tamper: event.tamper } : {}),
    ...(event.sensorTime !== undefined ? { time: event.sensorTime } : {}),
  };
  const payload: BedStatePayload | DoorStatePayload =
    event.sensorKind === 'bed'
      ? { kind: 'bed', occupied: event.occupied ?? false, ...extra }
      : { kind: 'door', open: event.open ?? false, ...extra };
  return { at, topic: topics.sensorState(event.siteId, event.sensorId), payload };
}

/**
 * A replay as a scenario without expectations, so `verifyScenario` can drive the gateway's clock
 * through it and collect every alarm it raises.
 */
export function replayScenario(plan: ReplayPlan, options: { timezone?: string; name?: string } = {}): CompiledScenario {
  const zone = options.timezone ?? 'Europe/Oslo';
  const night = DateTime.fromMillis(plan.from, { zone }).minus({ hours: 12 }).toFormat('yyyy-MM-dd');
  const site: SiteConfig = {
    version: 1,
    site: { id: plan.siteId, name: plan.siteId, timezone: zone },
    rooms: [],
    residents: [],
    sensors: [],
  };
  return {
    name: options.name ?? 'replay',
    file: options.name ?? 'replay',
    site,
    zigbee2mqtt: { baseTopic: 'zigbee2mqtt', devices: [] },
    clock: new NightClock(night, zone),
    from: plan.from,
    to: plan.to,
    messages: plan.messages,
    expectations: [],
    forbidden: [],
    otherAlarms: 'ignore',
  };
}

/**
 * Fetches a recorded span from the server's events route, page by page (the route returns at most
 * 10,000 events per request), logged in as a member of staff of the site.
 */
export async function fetchRecording(options: {
  server: string;
  siteId: string;
  from: string;
  to: string;
  username: string;
  password: string;
}): Promise<SensorEvent[]> {
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
    throw new ReplayError(`cannot log in to ${base} as ${options.username}: ${login.status} ${await login.text()}`);
  const events: SensorEvent[] = [];
  const seen = new Set<string>();
  let from = options.from;
  for (;;) {
    const query = new URLSearchParams({ from, to: options.to, limit: '10000' });
    const response = await fetch(`${base}/api/sites/${encodeURIComponent(options.siteId)}/events?${query}`, { headers: { cookie } });
    if (!response.ok) throw new ReplayError(`GET events: ${response.status} ${await response.text()}`);
    const page = parseRecording(await response.text());
    const fresh = page.filter((e) => !seen.has(e.id));
    for (const event of fresh) {
      seen.add(event.id);
      events.push(event);
    }
    // A full page goes on from its last instant (inclusive, so events of that instant are not lost).
    if (page.length < 10_000 || fresh.length === 0) return events;
    from = page.at(-1)?.time ?? options.to;
  }
}
