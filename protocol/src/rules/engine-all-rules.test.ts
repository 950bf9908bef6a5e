/** The engine with every rule on, as the gateway runs it: care and technical rules together. */
import { describe, expect, it } from 'vitest';
import { at, events, ids, plan, site, withEmptyRoom } from '../../test/fixtures.js';
import { alarmDecision, ConditionCleared, GatewayRuleId } from '../alarm.js';
import type { SensorEvent } from '../sensor-event.js';
import type { SiteConfig, SupervisionPlan } from '../site-config.js';
import { validator } from '../validation.js';
import { CARE_RULES, RuleEngine, type RuleOutput, TECHNICAL_RULES } from './engine.js';

/** Every rule on, with thresholds short enough that a night exercises them all. */
const everything = (extra: Partial<SupervisionPlan> = {}): SupervisionPlan =>
  plan({
    rules: {
      bedExit: { enabled: true, delaySeconds: 20, priority: 'high' },
      outOfBedTooLong: { enabled: true, minutes: 10, priority: 'medium' },
      doorLeftOpen: { enabled: true, minutes: 5, priority: 'low' },
      notInBedBy: { enabled: true, time: '23:00', priority: 'medium' },
    },
    technical: { flappingChangesPerMinute: 6 },
    ...extra,
  });
const config = (): SiteConfig =>
  withEmptyRoom(site({ anna: everything(), bjorn: everything(), cecilie: everything({ bedGraceSeconds: 10 }) }));
const cleared = validator(ConditionCleared);

/** A deterministic pseudo-random night: events on every sensor at irregular times, ticks at every deadline like the gateway's timer. */
function night(engine: RuleEngine, seed: number, check?: (deadline: number, after: number | null) => void): RuleOutput[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const ev = events();
  const sensors = ['door-1', 'bed-1', 'door-2', 'bed-2', 'door-3'];
  const outputs: RuleOutput[] = [];
  let now = at('2026-10-24T21:00'); // across the fall-back night
  outputs.push(engine.onTick(now));
  const end = at('2026-10-25T08:00');
  while (now < end) {
    const next = now + Math.floor(random() * (random() < 0.3 ? 5_000 : 900_000));
    for (let d = engine.nextDeadline(); d !== null && d <= next; d = engine.nextDeadline()) {
      const at = Math.max(d, now);
      outputs.push(engine.onTick(at));
      check?.(at, engine.nextDeadline());
    }
    now = next;
    const sensorId = sensors[Math.floor(random() * sensors.length)] ?? 'door-1';
    const roll = random();
    let event: SensorEvent;
    if (roll < 0.02) {
      // A chattering contact: eight changes three seconds apart.
      for (let i = 0; i < 8; i++, now += 3000) {
        const value = i % 2 === 0;
        outputs.push(engine.onEvent(sensorId.startsWith('bed') ? ev.bed(sensorId, value, now) : ev.door(sensorId, value, now), now));
      }
      continue;
    }
    if (roll < 0.05) event = ev.availability(sensorId, random() < 0.5, now);
    else if (roll < 0.1) event = ev.with(sensorId, now, { battery: Math.floor(random() * 40), tamper: random() < 0.5 });
    else if (sensorId.startsWith('bed')) event = ev.bed(sensorId, random() < 0.5, now);
    else event = ev.door(sensorId, random() < 0.5, now);
    outputs.push(engine.onEvent(event, now));
  }
  return outputs;
}

describe('RuleEngine with every rule', () => {
  it('runs every rule id of the protocol, each once', () => {
    const ids = [...CARE_RULES, ...TECHNICAL_RULES].map((r) => r.id).sort();
    expect(ids).toEqual(GatewayRuleId.anyOf.map((l) => l.const).sort());
  });

  it('the timer never spins: after onTick at the next deadline, every deadline left is later (over many random nights)', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const engine = new RuleEngine(config(), { newId: ids() });
      const outputs = night(engine, seed, (deadline, after) => {
        if (after !== null) expect(after).toBeGreaterThan(deadline);
      });
      for (const alarm of outputs.flatMap((o) => o.raised)) seen.add(alarm.rule);
    }
    // The random nights do reach every rule, so the check above covers them all.
    expect([...seen].sort()).toEqual(GatewayRuleId.anyOf.map((l) => l.const).sort());
  });

  it('is deterministic, and everything it decides is a valid AlarmDecision or ConditionCleared', () => {
    const a = night(new RuleEngine(config(), { newId: ids() }), 7);
    const b = night(new RuleEngine(config(), { newId: ids() }), 7);
    expect(a).toEqual(b);
    const raised = a.flatMap((o) => o.raised);
    expect(raised.length).toBeGreaterThan(10);
    for (const alarm of raised) expect(alarmDecision.check(alarm)).toEqual({ ok: true, value: alarm });
    for (const c of a.flatMap((o) => o.cleared)) expect(cleared.check(c).ok).toBe(true);
    // Technical alarms have priority "technical", care alarms the plan's.
    for (const alarm of raised) expect(alarm.priority === 'technical').toBe(TECHNICAL_RULES.some((r) => r.id === alarm.rule));
    // Every ConditionCleared names an alarm raised before it, and once.
    const ids2 = a.flatMap((o) => o.cleared.map((c) => c.alarmId));
    expect(new Set(ids2).size).toBe(ids2.length);
    for (const id of ids2) expect(raised.some((r) => r.id === id)).toBe(true);
  });

  it('an event from an unknown sensor still lets time pass', () => {
    const engine = new RuleEngine(site(), { newId: ids() });
    engine.onTick(at('2026-11-25T02:00'));
    const ev = events();
    const out = engine.onEvent({ ...ev.door('door-1', true, at('2026-11-25T05:00')), sensorId: 'door-99' }, at('2026-11-25T05:00'));
    expect(out.raised.map((a) => [a.rule, a.sensorId])).toEqual([
      ['sensor-silent', 'door-1'],
      ['sensor-silent', 'bed-1'],
      ['sensor-silent', 'door-2'],
      ['sensor-silent', 'bed-2'],
    ]);
  });

  it('care alarms come before technical ones in one call, and a door event feeds both', () => {
    const engine = new RuleEngine(site(), { newId: ids() });
    const ev = events();
    const out = engine.onEvent(ev.with('door-1', at('2026-11-25T03:10'), { open: true, tamper: true, battery: 5 }), at('2026-11-25T03:10'));
    expect(out.raised.map((a) => [a.id, a.rule, a.priority])).toEqual([
      ['a1', 'door-open-at-night', 'high'],
      ['a2', 'low-battery', 'technical'],
      ['a3', 'tamper', 'technical'],
    ]);
  });

  it('a sensor bound to a resident missing from the configuration watches nobody and names nobody', () => {
    const odd: SiteConfig = { ...site(), sensors: [{ id: 'bed-9', kind: 'bed', roomId: 'r101', residentId: 'ghost' }] };
    const engine = new RuleEngine(odd, { newId: ids() });
    const sensor = engine.sensor('bed-9');
    expect(sensor && engine.residentsOf(sensor)).toEqual([]);
    expect(engine.residentsOf({ id: 'bed-77', kind: 'bed', roomId: 'r101' })).toEqual([]); // not in the configuration
    const [alarm] = engine.onEvent(events().availability('bed-9', false, at('2026-11-25T03:00')), at('2026-11-25T03:00')).raised;
    expect(alarm).toMatchObject({ rule: 'sensor-offline', residentId: 'anna' });
    expect(engine.technicalSettingsOf('bed-9')?.silentMinutes).toBe(180);
  });

  it('setConfig keeps what is known about sensors still there, with their open alarms', () => {
    const engine = new RuleEngine(site(), { newId: ids() });
    const ev = events();
    engine.onEvent(ev.availability('bed-1', false, at('2026-11-25T03:00')), at('2026-11-25T03:00'));
    const state = engine.sensorStateOf('bed-1');
    engine.setConfig(site({ anna: everything() }));
    expect(engine.sensorStateOf('bed-1')).toBe(state);
    expect(
      engine.onEvent(ev.availability('bed-1', true, at('2026-11-25T03:05')), at('2026-11-25T03:05')).cleared.map((c) => c.alarmId),
    ).toEqual(['a1']);
  });

  it('lists its deadlines with the rule and whom they concern', () => {
    const engine = new RuleEngine(site({ anna: everything() }), { newId: ids(), rules: ['bed-exit', 'sensor-silent'] });
    engine.onEvent(events().bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.deadlines()).toEqual([
      { at: at('2026-11-25T02:00:30'), rule: 'bed-exit', residentId: 'anna' },
      { at: at('2026-11-25T02:15'), rule: 'sensor-silent', sensorId: 'door-1' },
      { at: at('2026-11-25T03:00'), rule: 'sensor-silent', sensorId: 'bed-1' },
      { at: at('2026-11-25T02:15'), rule: 'sensor-silent', sensorId: 'door-2' },
      { at: at('2026-11-25T03:00'), rule: 'sensor-silent', sensorId: 'bed-2' },
    ]);
  });
});
