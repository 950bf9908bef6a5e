import type { SensorConfig } from '@nattevakt/protocol/site-config';
import type { NightClock } from '../behaviour/night-clock.js';
import type { SensorChange } from '../behaviour/resident-night.js';
import { SeededRandom, stableInt } from '../behaviour/seeded-random.js';
import type { ScheduledMessage } from '../scheduled-message.js';
import {
  encodeAvailability,
  encodeMalformed,
  encodeState,
  type MalformedVariant,
  NATIVE,
  type Reading,
  type SensorWire,
  ZIGBEE2MQTT_MODELS,
} from './wire-format.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Something wrong with a sensor, as a technician would see it on a ward. Times are epoch ms. */
export type SensorFault =
  /** Sends nothing (battery out, radio lost) from `from` until `until`, then reports again. */
  | { type: 'silent'; from: number; until?: number }
  /** Reported offline (its last will, or Zigbee2MQTT's availability) and silent, until back online. */
  | { type: 'offline'; from: number; until?: number }
  /** The battery reads `percent` from `at` (and drains on from there): a weak cell, or a new one. */
  | { type: 'battery'; at: number; percent: number }
  /** The case is opened (tamper switch) from `from` until `until`. */
  | { type: 'tamper'; from: number; until?: number }
  /** The state chatters `changesPerMinute` times a minute: a loose magnet, a mat that misreads. */
  | { type: 'flapping'; from: number; until: number; changesPerMinute: number }
  /** One message the gateway must refuse. */
  | { type: 'malformed'; at: number; variant: MalformedVariant };

export interface SensorStreamOptions {
  siteId: string;
  sensor: SensorConfig;
  wire?: SensorWire;
  /** The sensor's state changes (occupied / open), sorted; the state before the first is `false`. */
  changes: readonly SensorChange[];
  faults?: readonly SensorFault[];
  seed: number;
  clock: NightClock;
  /** The played span [from, to). */
  from: number;
  to: number;
}

const within = (at: number, from: number, until: number | undefined) => at >= from && (until === undefined || at < until);

/**
 * One sensor's messages in [from, to): it announces itself online (retained) with its current
 * state at `from`, reports every change, and repeats its state every 8–10 minutes (the heartbeat
 * the native format requires, at least every 10 minutes), so the gateway's silence rule can tell a
 * dead sensor from a quiet night. Faults take messages away (silent, offline), add some (flapping,
 * tamper, a battery reading, a malformed message) or change what is reported (battery, tamper).
 */
export function sensorStream(options: SensorStreamOptions): ScheduledMessage[] {
  const { siteId, sensor, clock, from, to } = options;
  const wire = options.wire ?? NATIVE;
  const faults = options.faults ?? [];
  const random = new SeededRandom(options.seed, clock.night, 'sensor', sensor.id);
  const batteryAtStart = stableInt(`${siteId}/${sensor.id}/battery`, 35, 100);
  const drainPerHour = stableInt(`${siteId}/${sensor.id}/drain`, 3, 10) / 100;
  const linkBase = stableInt(`${siteId}/${sensor.id}/link`, 70, 210);
  const canTamper = wire.format === 'native' || ZIGBEE2MQTT_MODELS[wire.model].tamper;

  const battery = (at: number): number => {
    let level = batteryAtStart - ((at - clock.start) / HOUR) * drainPerHour;
    for (const fault of faults) {
      if (fault.type === 'battery' && fault.at <= at) level = fault.percent - ((at - fault.at) / HOUR) * drainPerHour;
    }
    return Math.min(100, Math.max(0, Math.round(level)));
  };
  const tampered = (at: number) => faults.some((f) => f.type === 'tamper' && within(at, f.from, f.until));
  const mute = (at: number) => faults.some((f) => (f.type === 'silent' || f.type === 'offline') && within(at, f.from, f.until));

  const changes = withFlapping(options.changes, faults);
  // The state at an instant: the last change at or before it (binary search; at noon the resident is up and the door closed).
  const stateAt = (at: number): boolean => {
    let low = 0;
    let high = changes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((changes[middle]?.at ?? 0) <= at) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? false : (changes[low - 1]?.value ?? false);
  };

  const messages: ScheduledMessage[] = [];
  const report = (at: number, note?: string) => {
    const reading: Reading = {
      at,
      value: stateAt(at),
      battery: battery(at),
      linkquality: Math.min(255, Math.max(0, linkBase + random.int(-12, 12))),
      ...(canTamper && (tampered(at) || faults.some((f) => f.type === 'tamper')) ? { tamper: tampered(at) } : {}),
    };
    const message: ScheduledMessage = { at, ...encodeState(siteId, sensor, wire, reading) };
    if (note !== undefined) message.note = note;
    messages.push(message);
  };

  // The instants at which the sensor would speak, before faults take some away.
  type Moment = { at: number; what: 'report' | 'online' | 'offline' | 'malformed'; note?: string; variant?: MalformedVariant };
  const moments: Moment[] = [];
  let nextReport = from + random.between(8, 10) * MINUTE;
  const pending = changes.filter((c) => c.at > from);
  for (const change of pending) {
    if (change.at >= to) break;
    while (nextReport < change.at) {
      moments.push({ at: Math.round(nextReport), what: 'report' });
      nextReport += random.between(8, 10) * MINUTE;
    }
    moments.push(change.note === undefined ? { at: change.at, what: 'report' } : { at: change.at, what: 'report', note: change.note });
  }
  while (nextReport < to) {
    moments.push({ at: Math.round(nextReport), what: 'report' });
    nextReport += random.between(8, 10) * MINUTE;
  }
  for (const fault of faults) {
    switch (fault.type) {
      case 'silent':
        if (fault.until !== undefined) moments.push({ at: fault.until, what: 'report' });
        break;
      case 'offline':
        moments.push({ at: fault.from, what: 'offline' });
        if (fault.until !== undefined) moments.push({ at: fault.until, what: 'online' });
        break;
      case 'battery':
        moments.push({ at: fault.at, what: 'report' });
        break;
      case 'tamper':
        moments.push({ at: fault.from, what: 'report' });
        if (fault.until !== undefined) moments.push({ at: fault.until, what: 'report' });
        break;
      case 'flapping':
        break; // its changes are in `changes`
      case 'malformed':
        moments.push({ at: fault.at, what: 'malformed', variant: fault.variant });
        break;
      default: {
        const exhaustive: never = fault;
        throw new Error(`unknown fault ${JSON.stringify(exhaustive)}`);
      }
    }
  }
  // Stable: at one instant, availability before state, and the order above otherwise.
  const order = { offline: 0, online: 1, report: 2, malformed: 3 } as const;
  moments.sort((a, b) => a.at - b.at || order[a.what] - order[b.what]);

  // Announced at `from`: online (unless it starts offline) and its current state.
  const startsOffline = faults.some((f) => f.type === 'offline' && within(from, f.from, f.until));
  messages.push({ at: from, ...encodeAvailability(siteId, sensor, wire, !startsOffline) });
  if (!mute(from)) report(from);

  let lastAt = Number.NEGATIVE_INFINITY;
  for (const moment of moments) {
    if (moment.at < from || moment.at >= to) continue;
    switch (moment.what) {
      case 'offline':
        if (moment.at > from) messages.push({ at: moment.at, ...encodeAvailability(siteId, sensor, wire, false) });
        break;
      case 'online':
        messages.push({ at: moment.at, ...encodeAvailability(siteId, sensor, wire, true) });
        if (!mute(moment.at)) report(moment.at);
        lastAt = moment.at;
        break;
      case 'report':
        // One report per instant; a muted sensor says nothing.
        if (mute(moment.at) || (moment.at === lastAt && moment.note === undefined)) break;
        report(moment.at, moment.note);
        lastAt = moment.at;
        break;
      case 'malformed':
        messages.push({ at: moment.at, ...encodeMalformed(siteId, sensor, wire, moment.variant ?? 'not-json') });
        break;
      default: {
        const exhaustive: never = moment.what;
        throw new Error(`unknown moment ${String(exhaustive)}`);
      }
    }
  }
  return messages;
}

/** The changes with each flapping spell laid over them: the state toggles, then returns to what it really is. */
function withFlapping(changes: readonly SensorChange[], faults: readonly SensorFault[]): SensorChange[] {
  const spells = faults.filter((f): f is Extract<SensorFault, { type: 'flapping' }> => f.type === 'flapping');
  if (spells.length === 0) return [...changes];
  let result = [...changes];
  for (const spell of spells) {
    const before = result.filter((c) => c.at < spell.from);
    const after = result.filter((c) => c.at >= spell.until);
    const during = result.filter((c) => c.at >= spell.from && c.at < spell.until);
    let state = before.at(-1)?.value ?? false;
    const real = during.at(-1)?.value ?? state;
    const period = MINUTE / spell.changesPerMinute;
    const chatter: SensorChange[] = [];
    for (let at = spell.from; at < spell.until; at += period) {
      state = !state;
      chatter.push({ at: Math.round(at), value: state });
    }
    if (state !== real) chatter.push({ at: spell.until, value: real });
    result = [...before, ...chatter, ...after];
  }
  return result;
}
