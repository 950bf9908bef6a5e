/**
 * The deadline index changes how much the engine looks at, never what it decides: random sites and
 * random nights (seeded, so a failure replays) fed to the indexed engine and to a full pass over
 * every resident and sensor give the same outputs, alarm ids and deadlines, call by call.
 */
import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site } from '../../test/fixtures.js';
import type { SensorEvent } from '../sensor-event.js';
import type { SensorConfig, SiteConfig, SupervisionPlan } from '../site-config.js';
import { RuleEngine, type RuleOutput } from './engine.js';

/** mulberry32: a small seeded generator, so every failing case can be replayed from its seed. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof seeded>;

const WINDOWS = [
  { start: '22:00', end: '07:00' },
  { start: '21:30', end: '06:15' },
  { start: '02:30', end: '05:00' }, // starts inside the spring-forward gap
  { start: '00:00', end: '00:00' }, // all day and night
  { start: '08:00', end: '20:00' },
];
const PRIORITIES = ['high', 'medium', 'low'] as const;

function randomPlan(r: Random): SupervisionPlan {
  const priority = () => r.pick(PRIORITIES);
  return {
    armed: r.chance(0.85),
    nightWindow: r.pick(WINDOWS),
    rules: {
      doorOpenAtNight: { enabled: r.chance(0.7), priority: priority() },
      outOfBedTooLong: { enabled: r.chance(0.7), minutes: r.int(1, 40), priority: priority() },
      ...(r.chance(0.7) ? { bedExit: { enabled: r.chance(0.8), delaySeconds: r.int(0, 90), priority: priority() } } : {}),
      ...(r.chance(0.7) ? { doorLeftOpen: { enabled: r.chance(0.8), minutes: r.int(1, 20), priority: priority() } } : {}),
      ...(r.chance(0.7)
        ? { notInBedBy: { enabled: r.chance(0.8), time: r.pick(['23:00', '01:30', '02:30', '02:59', '06:00']), priority: priority() } }
        : {}),
    },
    ...(r.chance(0.6) ? { bedGraceSeconds: r.int(0, 120) } : {}),
    ...(r.chance(0.6)
      ? {
          technical: {
            silentMinutes: r.int(5, 90),
            flappingChangesPerMinute: r.int(2, 8),
            lowBatteryPercent: r.int(5, 30),
            batteryClearPercent: r.int(35, 60),
          },
        }
      : {}),
  };
}

/** Rooms with zero to two residents, a bed mat each, a room door (shared) and sometimes a resident's own door. */
function randomSite(r: Random): SiteConfig {
  const rooms = Array.from({ length: r.int(2, 6) }, (_, i) => ({ id: `r${i + 1}`, name: `Rom ${i + 1}` }));
  const residents: SiteConfig['residents'] = [];
  const sensors: SensorConfig[] = [];
  for (const room of rooms) {
    const count = r.int(0, 2);
    for (let k = 0; k < count; k++) {
      const id = `${room.id}-p${k + 1}`;
      residents.push({ id, name: id, roomId: room.id, plan: randomPlan(r) });
      sensors.push({ id: `bed-${id}`, kind: 'bed', roomId: room.id, residentId: id });
      if (r.chance(0.3)) sensors.push({ id: `door-${id}`, kind: 'door', roomId: room.id, residentId: id });
    }
    sensors.push({ id: `door-${room.id}`, kind: 'door', roomId: room.id });
    if (r.chance(0.3)) sensors.push({ id: `bed-${room.id}-shared`, kind: 'bed', roomId: room.id });
  }
  return { version: 1, site: { id: 'demo', name: 'Prop', timezone: 'Europe/Oslo' }, rooms, residents, sensors };
}

/** A changed configuration: some plans redrawn, sometimes a sensor or resident gone (and back later). */
function changedSite(r: Random, base: SiteConfig): SiteConfig {
  const next: SiteConfig = structuredClone(base);
  for (const resident of next.residents) if (r.chance(0.3)) resident.plan = randomPlan(r);
  if (r.chance(0.3) && next.sensors.length > 1) next.sensors.splice(r.int(0, next.sensors.length - 1), 1);
  if (r.chance(0.2) && next.residents.length > 1) next.residents.splice(r.int(0, next.residents.length - 1), 1);
  return next;
}

function randomEvent(r: Random, ev: ReturnType<typeof events>, sensor: SensorConfig, now: number): SensorEvent {
  const roll = r.next();
  const event =
    roll < 0.05
      ? ev.availability(sensor.id, r.chance(0.5), now)
      : roll < 0.1
        ? ev.with(sensor.id, now, {
            battery: r.int(0, 100),
            ...(r.chance(0.3) ? { tamper: r.chance(0.5) } : {}),
            ...(r.chance(0.2) ? { batteryLow: r.chance(0.5) } : {}),
          })
        : sensor.kind === 'bed'
          ? ev.bed(sensor.id, r.chance(0.5), now)
          : ev.door(sensor.id, r.chance(0.5), now);
  // events() derives kind and room from the id for its fixed site; these sites name them differently.
  return { ...event, sensorKind: sensor.kind, roomId: sensor.roomId };
}

/** 30 by default (a few seconds); ENGINE_INDEX_SEEDS=1000 for a long hunt. */
const SEEDS = Number(process.env.ENGINE_INDEX_SEEDS ?? 30);
const STARTS = ['2026-03-28T19:00', '2026-10-24T19:00', '2026-11-25T20:30', '2026-06-20T12:00'];

/**
 * Plays one random stretch of nights on both engines and compares every call. Ticks come at the
 * next deadline (the gateway's timer), at random instants (early, late or none at all), and event
 * times sometimes step backwards a little (sensor clocks).
 */
function compare(seed: number): { calls: number; raised: number; cleared: number } {
  const r = seeded(seed);
  let config = randomSite(r);
  const original = config;
  const indexed = new RuleEngine(config, {
    newId: (() => {
      let n = 0;
      return () => `a${++n}`;
    })(),
  });
  const full = new RuleEngine(config, {
    newId: (() => {
      let n = 0;
      return () => `a${++n}`;
    })(),
    fullScan: true,
  });
  const ev = events();
  let now = at(r.pick(STARTS));
  const end = now + 40 * 3_600_000;
  let calls = 0;
  let raised = 0;
  let cleared = 0;
  const same = (a: RuleOutput, b: RuleOutput, what: string) => {
    calls++;
    raised += b.raised.length;
    cleared += b.cleared.length;
    expect(a, `seed ${seed}, call ${calls} (${what})`).toEqual(b);
    expect(indexed.nextDeadline(), `seed ${seed}, nextDeadline after call ${calls}`).toBe(full.nextDeadline());
  };
  if (r.chance(0.5)) same(indexed.onTick(now), full.onTick(now), 'first tick');
  while (now < end) {
    const roll = r.next();
    if (roll < 0.15) {
      const deadline = full.nextDeadline();
      if (deadline !== null && deadline < end) {
        now = Math.max(now, deadline);
        same(indexed.onTick(now), full.onTick(now), 'tick at the deadline');
        continue;
      }
    }
    now += r.chance(0.4) ? r.int(0, 10_000) : r.int(0, 1_800_000);
    if (roll < 0.25) {
      same(indexed.onTick(now), full.onTick(now), 'tick at a random instant');
    } else if (roll < 0.27) {
      config = r.chance(0.3) ? original : changedSite(r, config);
      indexed.setConfig(config);
      full.setConfig(config);
      expect(indexed.nextDeadline(), `seed ${seed}, nextDeadline after setConfig`).toBe(full.nextDeadline());
    } else if (roll < 0.28) {
      indexed.forgiveSilence(now);
      full.forgiveSilence(now);
      expect(indexed.nextDeadline(), `seed ${seed}, nextDeadline after forgiveSilence`).toBe(full.nextDeadline());
    } else if (roll < 0.3) {
      // A chattering contact: changes seconds apart.
      const sensor = r.pick(config.sensors);
      for (let i = 0; i < r.int(3, 12); i++) {
        now += r.int(500, 4000);
        const event = { ...randomEvent(r, ev, sensor, now), online: true };
        const value = i % 2 === 0;
        const flip = sensor.kind === 'bed' ? { occupied: value } : { open: value };
        same(indexed.onEvent({ ...event, ...flip }, now), full.onEvent({ ...event, ...flip }, now), 'chatter');
      }
    } else {
      const unknown = r.chance(0.02);
      const sensor = unknown ? { id: 'door-nowhere', kind: 'door' as const, roomId: 'r1' } : r.pick(config.sensors);
      const when = r.chance(0.05) ? now - r.int(1, 20_000) : now; // a sensor clock a little behind
      const event = randomEvent(r, ev, sensor, when);
      same(indexed.onEvent(event, when), full.onEvent(event, when), `event ${event.id} from ${sensor.id}`);
    }
    if (calls % 50 === 0) {
      const key = (d: { at: number; rule: string; residentId?: string; sensorId?: string }) =>
        `${d.at} ${d.rule} ${d.residentId ?? ''} ${d.sensorId ?? ''}`;
      expect(indexed.deadlines().map(key).sort()).toEqual(full.deadlines().map(key).sort());
      for (const sensor of config.sensors) expect(indexed.sensorStateOf(sensor.id)).toEqual(full.sensorStateOf(sensor.id));
    }
  }
  return { calls, raised, cleared };
}

describe('RuleEngine deadline index', () => {
  it(`decides exactly as a full pass over every resident and sensor (${SEEDS} seeded random sites and nights)`, () => {
    let total = { calls: 0, raised: 0, cleared: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const one = compare(seed);
      total = { calls: total.calls + one.calls, raised: total.raised + one.raised, cleared: total.cleared + one.cleared };
    }
    // The nights really decide things: otherwise the comparison proves little.
    expect(total.raised).toBeGreaterThan(SEEDS * 50);
    expect(total.cleared).toBeGreaterThan(SEEDS * 40);
    expect(total.calls).toBeGreaterThan(SEEDS * 150);
    // About 8 s alone; a hang guard, not a timing target (a busy 2-core machine took 36 s).
  }, 120_000);

  it('an event looks only at its own sensor, its residents and what is due: a quiet site of 2,000 rooms costs nothing extra', () => {
    const rooms = 2000;
    const config: SiteConfig = {
      version: 1,
      site: { id: 'demo', name: 'Big', timezone: 'Europe/Oslo' },
      rooms: Array.from({ length: rooms }, (_, i) => ({ id: `r${i}`, name: `Rom ${i}` })),
      residents: Array.from({ length: rooms }, (_, i) => ({
        id: `p${i}`,
        name: `p${i}`,
        roomId: `r${i}`,
        plan: {
          armed: true,
          nightWindow: { start: '22:00', end: '07:00' },
          rules: {
            doorOpenAtNight: { enabled: true, priority: 'high' },
            outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
          },
        },
      })),
      sensors: Array.from({ length: rooms }, (_, i) => [
        { id: `bed-${i}`, kind: 'bed' as const, roomId: `r${i}`, residentId: `p${i}` },
        { id: `door-${i}`, kind: 'door' as const, roomId: `r${i}` },
      ]).flat(),
    };
    let deadlineCalls = 0;
    const engine = new RuleEngine(config, { newId: () => 'x' });
    const ev = events();
    const t0 = at('2026-11-25T23:00');
    engine.onTick(t0); // the first call after a configuration looks at everything once
    // Count how often the engine asks any plan for its night window: only the touched resident's.
    const plans = config.residents.map((p) => p.plan);
    for (const plan of plans) {
      const window = plan.nightWindow;
      Object.defineProperty(plan, 'nightWindow', {
        get: () => {
          deadlineCalls++;
          return window;
        },
      });
    }
    const bed = { ...ev.bed('bed-7', false, t0 + 1000), roomId: 'r7', sensorKind: 'bed' as const };
    engine.onEvent(bed, t0 + 1000);
    expect(deadlineCalls).toBeGreaterThan(0);
    expect(deadlineCalls).toBeLessThan(20); // a full pass would read thousands
    expect(engine.nextDeadline()).toBe(t0 + 15 * 60_000); // the doors' silence limit, counted from the first call
  });

  it('after a configuration change every resident is looked at once: a not-in-bed-by check that passed while the rule was off stays skipped', () => {
    const rule = (enabled: boolean) =>
      site({
        anna: plan({
          rules: {
            doorOpenAtNight: { enabled: false, priority: 'high' },
            outOfBedTooLong: { enabled: false, minutes: 20, priority: 'medium' },
            notInBedBy: { enabled, time: '23:00', priority: 'medium' },
          },
        }),
      });
    const engine = new RuleEngine(rule(true), { newId: ids(), rules: ['not-in-bed-by'] });
    const ev = events();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T22:00')), at('2026-11-25T22:00'));
    expect(engine.onTick(at('2026-11-25T23:00')).raised.map((a) => a.rule)).toEqual(['not-in-bed-by']);
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T23:30')), at('2026-11-25T23:30'));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T23:31')), at('2026-11-25T23:31')); // up again, after the check
    engine.setConfig(rule(false));
    engine.onTick(at('2026-11-25T23:40'));
    // The next evening's 23:00 passes while the rule is off; it is switched on again at 23:30.
    engine.setConfig(rule(true));
    expect(engine.onTick(at('2026-11-26T23:31')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-27T23:00:00+01:00');
  });
});
