import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site } from '../../test/fixtures.js';
import { alarmDecision } from '../alarm.js';
import type { SupervisionPlan } from '../site-config.js';
import { RuleEngine } from './engine.js';

const byTime = (time = '23:00', extra: Partial<SupervisionPlan> = {}) =>
  plan({ rules: { notInBedBy: { enabled: true, time, priority: 'medium' } }, ...extra });
const setup = (p: SupervisionPlan = byTime(), start = at('2026-11-25T20:00')) => {
  const engine = new RuleEngine(site({ anna: p }), { newId: ids(), rules: ['not-in-bed-by'] });
  engine.onTick(start); // the gateway starts
  return { engine, ev: events() };
};

describe('not-in-bed-by', () => {
  it('not in bed at 23:00: raised at 23:00 with the time of the plan and when the bed was left, cleared when back in bed', () => {
    const { engine, ev } = setup();
    const left = ev.bed('bed-1', false, at('2026-11-25T21:30'));
    engine.onEvent(left, at('2026-11-25T21:30'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T23:00:00+01:00');
    expect(engine.onTick(at('2026-11-25T23:00') - 1).raised).toEqual([]);
    const out = engine.onTick(at('2026-11-25T23:00'));
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'bed-1',
        rule: 'not-in-bed-by',
        priority: 'medium',
        raisedAt: '2026-11-25T22:00:00.000Z',
        decidedAt: '2026-11-25T22:00:00.000Z',
        evidence: { eventIds: [left.id], since: '2026-11-25T20:30:00.000Z', setting: { time: '23:00' } },
      },
    ]);
    expect(alarmDecision.check(out.raised[0]).ok).toBe(true);
    expect(engine.nextDeadline()).toBeNull(); // while the alarm is open
    const back = ev.bed('bed-1', true, at('2026-11-25T23:10'));
    expect(engine.onEvent(back, at('2026-11-25T23:10')).cleared).toEqual([
      { alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T22:10:00.000Z', eventId: back.id },
    ]);
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
  });

  it('in bed at 23:00: nothing, and getting up later is not this rule', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T22:30')), at('2026-11-25T22:30'));
    expect(engine.onTick(at('2026-11-25T23:00')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T23:30')), at('2026-11-25T23:30'));
    expect(engine.onTick(at('2026-11-26T12:00')).raised).toEqual([]);
    // Still out at the next evening's check: now it is raised.
    expect(engine.onTick(at('2026-11-26T23:00')).raised.map((a) => a.evidence.since)).toEqual(['2026-11-25T22:30:00.000Z']);
  });

  it('a bed whose state is unknown at 23:00 raises nothing', () => {
    const { engine } = setup();
    expect(engine.onTick(at('2026-11-25T23:00')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
  });

  it('an unload that began 10 s before 23:00 is decided when the grace ends: back in bed means nothing', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T22:00')), at('2026-11-25T22:00'));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T22:59:50')), at('2026-11-25T22:59:50'));
    expect(engine.onTick(at('2026-11-25T23:00')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-25T23:00:20+01:00');
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T23:00:05')), at('2026-11-25T23:00:05')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
  });

  it('an unload that began 10 s before 23:00 and goes on is raised when the grace ends', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T22:59:50')), at('2026-11-25T22:59:50'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T23:00:20+01:00');
    expect(engine.onTick(at('2026-11-25T23:00:20')).raised.map((a) => a.evidence.since)).toEqual(['2026-11-25T21:59:50.000Z']);
  });

  it('leaving the bed after 23:00 is not "not in bed by 23:00"', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T22:00')), at('2026-11-25T22:00'));
    // The engine is not ticked at 23:00 (say the timer was late); the event at 23:05 decides 23:00 first.
    expect(engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T23:05')), at('2026-11-25T23:05')).raised).toEqual([]);
    expect(engine.onTick(at('2026-11-25T23:30')).raised).toEqual([]);
  });

  it('a gateway that starts after 23:00 checks from the next evening', () => {
    const { engine, ev } = setup(byTime(), at('2026-11-25T23:30'));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T23:31')), at('2026-11-25T23:31'));
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
  });

  it('before the engine has seen any time there is no deadline; a rule switched on asks for a tick at once', () => {
    const engine = new RuleEngine(site({ anna: plan() }), { newId: ids(), rules: ['not-in-bed-by'] });
    expect(engine.nextDeadline()).toBeNull();
    engine.onTick(at('2026-11-25T21:00'));
    expect(engine.nextDeadline()).toBeNull(); // the rule is off
    engine.setConfig(site({ anna: byTime() }));
    expect(engine.nextDeadline()).toBe(at('2026-11-25T21:00')); // "tick now", in the past
    expect(engine.onTick(at('2026-11-25T21:05')).raised).toEqual([]);
    expect(local(engine.nextDeadline())).toBe('2026-11-25T23:00:00+01:00');
  });

  it('a check that passes while the rule is off is skipped, also when it comes back on later that night', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
    engine.setConfig(site({ anna: byTime('23:00', { armed: false }) }));
    expect(engine.nextDeadline()).toBeNull();
    engine.onTick(at('2026-11-25T23:30'));
    engine.setConfig(site({ anna: byTime() }));
    engine.onTick(at('2026-11-25T23:40'));
    expect(local(engine.nextDeadline())).toBe('2026-11-26T23:00:00+01:00');
    expect(engine.onTick(at('2026-11-26T22:59')).raised).toEqual([]);
  });

  it('raises nothing when disabled or absent from the plan', () => {
    for (const p of [plan({ rules: { notInBedBy: { enabled: false, time: '23:00', priority: 'high' } } }), plan()]) {
      const { engine, ev } = setup(p);
      engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
      expect(engine.nextDeadline()).toBeNull();
      expect(engine.onTick(at('2026-11-26T01:00')).raised).toEqual([]);
    }
  });

  it('a tick a day late decides once, on the latest check', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
    const out = engine.onTick(at('2026-11-27T00:00'));
    expect(out.raised.map((a) => a.raisedAt)).toEqual(['2026-11-26T23:00:00.000Z']);
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-27T00:10')), at('2026-11-27T00:10'));
    expect(local(engine.nextDeadline())).toBe('2026-11-27T23:00:00+01:00');
  });

  it('an alarm left open over the next evening raises no second alarm; the checks go on after it clears', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
    expect(engine.onTick(at('2026-11-25T23:00')).raised).toHaveLength(1);
    expect(engine.onTick(at('2026-11-26T23:00')).raised).toEqual([]);
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-27T10:00')), at('2026-11-27T10:00')).cleared).toHaveLength(1);
    expect(local(engine.nextDeadline())).toBe('2026-11-27T23:00:00+01:00');
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward: the check at 23:00 on 28 March and the next at 23:00 summer time, 23 real hours later', () => {
      const { engine, ev } = setup(byTime(), at('2026-03-28T20:00'));
      engine.onEvent(ev.bed('bed-1', true, at('2026-03-28T21:00')), at('2026-03-28T21:00'));
      expect(local(engine.nextDeadline())).toBe('2026-03-28T23:00:00+01:00');
      engine.onTick(at('2026-03-28T23:00'));
      expect(local(engine.nextDeadline())).toBe('2026-03-29T23:00:00+02:00');
      expect(((engine.nextDeadline() ?? 0) - at('2026-03-28T23:00')) / 3_600_000).toBe(23);
    });

    it('spring forward: a check at 02:30, a time that does not exist that night, is made at 03:00 summer time', () => {
      const { engine, ev } = setup(byTime('02:30'), at('2026-03-28T20:00'));
      engine.onEvent(ev.bed('bed-1', false, at('2026-03-28T23:00')), at('2026-03-28T23:00'));
      expect(local(engine.nextDeadline())).toBe('2026-03-29T03:00:00+02:00');
      expect(engine.onTick(at('2026-03-29T03:00:00+02:00')).raised).toHaveLength(1);
    });

    it('fall back: a check at 02:30 is made once, on the first pass (summer time), not again an hour later', () => {
      const { engine, ev } = setup(byTime('02:30'), at('2026-10-24T20:00'));
      engine.onEvent(ev.bed('bed-1', true, at('2026-10-24T23:00')), at('2026-10-24T23:00'));
      expect(local(engine.nextDeadline())).toBe('2026-10-25T02:30:00+02:00');
      engine.onTick(at('2026-10-25T02:30:00+02:00'));
      engine.onEvent(ev.bed('bed-1', false, at('2026-10-25T02:40:00+02:00')), at('2026-10-25T02:40:00+02:00'));
      expect(local(engine.nextDeadline())).toBe('2026-10-26T02:30:00+01:00');
      expect(engine.onTick(at('2026-10-25T02:30:00+01:00')).raised).toEqual([]);
    });

    it('fall back: the check at 23:00 on 25 October comes 25 real hours after the one the evening before', () => {
      const { engine } = setup(byTime(), at('2026-10-24T20:00'));
      engine.onTick(at('2026-10-24T23:00'));
      expect(((engine.nextDeadline() ?? 0) - at('2026-10-24T23:00')) / 3_600_000).toBe(25);
    });
  });
});
