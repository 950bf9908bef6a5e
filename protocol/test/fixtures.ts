/**
 * Shared test fixtures: a small site in Europe/Oslo, local-time instants built with luxon, and
 * sensor events as the gateway's native adapter would produce them.
 */
import { DateTime } from 'luxon';
import type { RuleId } from '../src/alarm.js';
import type { SensorEvent } from '../src/sensor-event.js';
import type { SiteConfig, SupervisionPlan } from '../src/site-config.js';

export const ZONE = 'Europe/Oslo';

/** Epoch ms of a local wall-clock time in Oslo, e.g. `at('2026-11-25T03:10')`. An explicit offset wins. */
export function at(iso: string): number {
  const local = DateTime.fromISO(iso, { zone: ZONE, setZone: true });
  if (!local.isValid) throw new Error(`bad test time ${iso}: ${local.invalidExplanation}`);
  return local.toMillis();
}

/** The local wall-clock time of an instant in Oslo with its offset, for readable assertions. */
export function local(instant: number | null): string | null {
  return instant === null ? null : DateTime.fromMillis(instant, { zone: ZONE }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}

/**
 * A supervision plan: by default armed, night 22:00–07:00, with the two rules of the first plan
 * version on (door open at night, high; out of bed 20 minutes, medium) and nothing else, exactly
 * as plans stored before the new rules existed. Overrides may add any of the newer fields.
 */
export function plan(
  overrides: Partial<Omit<SupervisionPlan, 'rules'>> & { rules?: Partial<SupervisionPlan['rules']> } = {},
): SupervisionPlan {
  const { rules, armed, nightWindow, ...newer } = overrides;
  return {
    armed: armed ?? true,
    nightWindow: nightWindow ?? { start: '22:00', end: '07:00' },
    ...newer,
    rules: {
      doorOpenAtNight: { enabled: true, priority: 'high' },
      outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
      ...rules,
    },
  };
}

/**
 * Room 101: Anna alone, with her own door and bed sensor.
 * Room 102: a double room (Bjørn and Cecilie) with one shared door sensor and Bjørn's bed.
 */
export function site(plans: { anna?: SupervisionPlan; bjorn?: SupervisionPlan; cecilie?: SupervisionPlan } = {}): SiteConfig {
  return {
    version: 1,
    site: { id: 'demo', name: 'Solbakken sykehjem', timezone: ZONE },
    rooms: [
      { id: 'r101', name: 'Rom 101' },
      { id: 'r102', name: 'Rom 102' },
    ],
    residents: [
      { id: 'anna', name: 'Anna', roomId: 'r101', plan: plans.anna ?? plan() },
      { id: 'bjorn', name: 'Bjørn', roomId: 'r102', plan: plans.bjorn ?? plan() },
      {
        id: 'cecilie',
        name: 'Cecilie',
        roomId: 'r102',
        plan: plans.cecilie ?? plan({ rules: { doorOpenAtNight: { enabled: true, priority: 'low' } } }),
      },
    ],
    sensors: [
      { id: 'door-1', kind: 'door', roomId: 'r101', residentId: 'anna' },
      { id: 'bed-1', kind: 'bed', roomId: 'r101', residentId: 'anna' },
      { id: 'door-2', kind: 'door', roomId: 'r102' },
      { id: 'bed-2', kind: 'bed', roomId: 'r102', residentId: 'bjorn' },
    ],
  };
}

const kindOf = (sensorId: string): 'bed' | 'door' => (sensorId.startsWith('bed') ? 'bed' : 'door');
const roomOf = (sensorId: string): string => (sensorId.endsWith('-2') ? 'r102' : sensorId.endsWith('-3') ? 'r103' : 'r101');

/** The two rules of the first plan version: tests written for them run the engine with these rules only. */
export const LEGACY_RULES: readonly RuleId[] = ['door-open-at-night', 'out-of-bed-too-long'];

/** Adds room 103 with a door sensor `door-3` and nobody living there (a technical alarm names no resident). */
export function withEmptyRoom(config: SiteConfig): SiteConfig {
  return {
    ...config,
    rooms: [...config.rooms, { id: 'r103', name: 'Rom 103' }],
    sensors: [...config.sensors, { id: 'door-3', kind: 'door', roomId: 'r103' }],
  };
}

/** Builds normalized sensor events with ids e1, e2, … */
export function events() {
  let n = 0;
  const make = (sensorId: string, time: number, fields: Partial<SensorEvent>): SensorEvent => ({
    id: `e${++n}`,
    siteId: 'demo',
    sensorId,
    sensorKind: kindOf(sensorId),
    roomId: roomOf(sensorId),
    time: new Date(time).toISOString(),
    online: true,
    format: 'native',
    raw: JSON.stringify(fields),
    ...fields,
  });
  return {
    door: (sensorId: string, open: boolean, time: number) => make(sensorId, time, { open }),
    bed: (sensorId: string, occupied: boolean, time: number) => make(sensorId, time, { occupied }),
    availability: (sensorId: string, online: boolean, time: number) => make(sensorId, time, { online }),
    /** Any other message, e.g. a heartbeat with a battery level: `ev.with('door-1', t, { open: false, battery: 14 })`. */
    with: (sensorId: string, time: number, fields: Partial<SensorEvent>) => make(sensorId, time, fields),
  };
}

/** A deterministic alarm-id source: a1, a2, … */
export function ids(prefix = 'a'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}
