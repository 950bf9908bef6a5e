import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site } from '../../test/fixtures.js';
import { alarmDecision } from '../alarm.js';
import type { SupervisionPlan } from '../site-config.js';
import { RuleEngine } from './engine.js';

const fallRisk = (bedExit: NonNullable<SupervisionPlan['rules']['bedExit']> = { enabled: true, priority: 'high' }, extra = {}) =>
  plan({ rules: { bedExit }, ...extra });
const setup = (p: SupervisionPlan = fallRisk()) => ({
  engine: new RuleEngine(site({ anna: p }), { newId: ids(), rules: ['bed-exit'] }),
  ev: events(),
});

describe('bed-exit', () => {
  it('a real exit at 02:00 raises once the grace (30 s) has passed, with the plan priority and its evidence', () => {
    const { engine, ev } = setup();
    const left = ev.bed('bed-1', false, at('2026-11-25T02:00'));
    expect(engine.onEvent(left, at('2026-11-25T02:00'))).toEqual({ raised: [], cleared: [] });
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:00:30+01:00');
    expect(engine.onTick(at('2026-11-25T02:00:30') - 1).raised).toEqual([]);
    const out = engine.onTick(at('2026-11-25T02:00:30'));
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'bed-1',
        rule: 'bed-exit',
        priority: 'high',
        raisedAt: '2026-11-25T01:00:30.000Z',
        decidedAt: '2026-11-25T01:00:30.000Z',
        evidence: {
          eventIds: [left.id],
          since: '2026-11-25T01:00:00.000Z',
          nightWindow: { start: '22:00', end: '07:00' },
          setting: { delaySeconds: 0, graceSeconds: 30 },
        },
      },
    ]);
    expect(alarmDecision.check(out.raised[0]).ok).toBe(true);
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T02:30')).raised).toEqual([]);
  });

  it('back in bed after the alarm: one ConditionCleared; a later exit raises a new alarm', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    engine.onTick(at('2026-11-25T02:01'));
    const back = ev.bed('bed-1', true, at('2026-11-25T02:05'));
    expect(engine.onEvent(back, at('2026-11-25T02:05'))).toEqual({
      raised: [],
      cleared: [{ alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T01:05:00.000Z', eventId: back.id }],
    });
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:06')), at('2026-11-25T02:06')).cleared).toEqual([]);
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T04:00')), at('2026-11-25T04:00'));
    expect(engine.onTick(at('2026-11-25T04:00:30')).raised.map((a) => [a.id, a.evidence.since])).toEqual([
      ['a2', '2026-11-25T03:00:00.000Z'],
    ]);
  });

  it('waits for the plan delay, counted from the moment the resident left', () => {
    const { engine, ev } = setup(fallRisk({ enabled: true, delaySeconds: 90, priority: 'medium' }));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:01:30+01:00');
    expect(engine.onTick(at('2026-11-25T02:01:29')).raised).toEqual([]);
    const [alarm] = engine.onTick(at('2026-11-25T02:01:30')).raised;
    expect([alarm?.priority, alarm?.evidence.setting]).toEqual(['medium', { delaySeconds: 90, graceSeconds: 30 }]);
  });

  it('a delay shorter than the grace still waits for the grace', () => {
    const { engine, ev } = setup(fallRisk({ enabled: true, delaySeconds: 10, priority: 'high' }));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:00:30+01:00');
  });

  it('back in bed before the delay ends raises nothing and removes the deadline', () => {
    const { engine, ev } = setup(fallRisk({ enabled: true, delaySeconds: 60, priority: 'high' }));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:00:50')), at('2026-11-25T02:00:50'))).toEqual({
      raised: [],
      cleared: [],
    });
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T02:05')).raised).toEqual([]);
  });

  it('with no grace and no delay it raises on the unload itself', () => {
    const { engine, ev } = setup(fallRisk(undefined, { bedGraceSeconds: 0 }));
    const out = engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(out.raised.map((a) => [a.rule, a.raisedAt, a.evidence.setting])).toEqual([
      ['bed-exit', '2026-11-25T01:00:00.000Z', { delaySeconds: 0, graceSeconds: 0 }],
    ]);
  });

  it('only an exit that starts inside the night window counts', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:50')), at('2026-11-25T21:50'));
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T22:30')).raised).toEqual([]);
    // An exit at 06:59:50 is a night exit, even though the grace ends after 07:00.
    const b = setup();
    b.engine.onEvent(b.ev.bed('bed-1', false, at('2026-11-25T06:59:50')), at('2026-11-25T06:59:50'));
    expect(b.engine.onTick(at('2026-11-25T07:00:20')).raised).toHaveLength(1);
  });

  it('the first "not occupied" after a restart counts from its arrival; heartbeats do not restart it', () => {
    const { engine, ev } = setup();
    expect(engine.stateOf('anna')?.bed.occupied).toBeNull();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T03:00')), at('2026-11-25T03:00'));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T03:00:20')), at('2026-11-25T03:00:20'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T03:00:30+01:00');
  });

  it('raises nothing, and has no deadline, when unarmed, disabled, or absent from the plan', () => {
    for (const p of [
      fallRisk(undefined, { armed: false }),
      fallRisk({ enabled: false, priority: 'high' }),
      plan(), // a plan stored before bed-exit existed
    ]) {
      const { engine, ev } = setup(p);
      engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
      expect(engine.nextDeadline()).toBeNull();
      expect(engine.onTick(at('2026-11-25T03:00')).raised).toEqual([]);
    }
  });

  it('still clears after the plan was disarmed', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    engine.onTick(at('2026-11-25T02:01'));
    engine.setConfig(site({ anna: fallRisk(undefined, { armed: false }) }));
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:10')), at('2026-11-25T02:10')).cleared.map((c) => c.alarmId)).toEqual([
      'a1',
    ]);
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward (2026-03-29): an exit at 01:59:50 winter time raises 30 real seconds later, 03:00:20 summer time', () => {
      const { engine, ev } = setup();
      const left = at('2026-03-29T01:59:50+01:00');
      engine.onEvent(ev.bed('bed-1', false, left), left);
      expect(engine.nextDeadline()).toBe(left + 30_000);
      expect(local(engine.nextDeadline())).toBe('2026-03-29T03:00:20+02:00');
      expect(engine.onTick(left + 30_000).raised).toHaveLength(1);
    });

    it('spring forward: 06:59 summer time is inside the window, 07:00 is not', () => {
      const a = setup();
      a.engine.onEvent(a.ev.bed('bed-1', false, at('2026-03-29T06:59')), at('2026-03-29T06:59'));
      expect(local(a.engine.nextDeadline())).toBe('2026-03-29T06:59:30+02:00');
      const b = setup();
      b.engine.onEvent(b.ev.bed('bed-1', false, at('2026-03-29T07:00')), at('2026-03-29T07:00'));
      expect(b.engine.nextDeadline()).toBeNull();
    });

    it('fall back (2026-10-25): exits on both passes of 02:30 raise, each 30 real seconds later', () => {
      const { engine, ev } = setup();
      for (const pass of [at('2026-10-25T02:30:00+02:00'), at('2026-10-25T02:30:00+01:00')]) {
        engine.onEvent(ev.bed('bed-1', false, pass), pass);
        expect(engine.nextDeadline()).toBe(pass + 30_000);
        expect(engine.onTick(pass + 30_000).raised).toHaveLength(1);
        engine.onEvent(ev.bed('bed-1', true, pass + 60_000), pass + 60_000);
      }
      const late = at('2026-10-25T07:00');
      engine.onEvent(ev.bed('bed-1', false, late), late);
      expect(engine.nextDeadline()).toBeNull();
    });
  });
});
