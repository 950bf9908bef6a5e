import { describe, expect, it } from 'vitest';
import { at, events, ids, LEGACY_RULES, local, plan, site } from '../../test/fixtures.js';
import type { SupervisionPlan } from '../site-config.js';
import { RuleEngine } from './engine.js';

const withPlan = (p: SupervisionPlan) => site({ anna: p });
const setup = (config = site()) => ({ engine: new RuleEngine(config, { newId: ids(), rules: LEGACY_RULES }), ev: events() });
const minutes = (m: number, window = { start: '22:00', end: '07:00' }) =>
  plan({ nightWindow: window, rules: { outOfBedTooLong: { enabled: true, minutes: m, priority: 'medium' } } });

describe('out-of-bed-too-long', () => {
  it('leaving the bed at 02:00 with minutes=20 makes 02:20 the deadline; 02:19:59 raises nothing, 02:20 raises one alarm', () => {
    const { engine, ev } = setup();
    const left = ev.bed('bed-1', false, at('2026-11-25T02:00'));
    expect(engine.onEvent(left, at('2026-11-25T02:00'))).toEqual({ raised: [], cleared: [] });
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:20:00+01:00');

    expect(engine.onTick(at('2026-11-25T02:19:59'))).toEqual({ raised: [], cleared: [] });
    const out = engine.onTick(at('2026-11-25T02:20'));
    expect(out.cleared).toEqual([]);
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'bed-1',
        rule: 'out-of-bed-too-long',
        priority: 'medium',
        raisedAt: '2026-11-25T01:20:00.000Z',
        decidedAt: '2026-11-25T01:20:00.000Z',
        evidence: {
          eventIds: [left.id],
          since: '2026-11-25T01:00:00.000Z',
          thresholdMinutes: 20,
          nightWindow: { start: '22:00', end: '07:00' },
          setting: { minutes: 20 },
        },
      },
    ]);
    // Raised once: no deadline any more, later ticks raise nothing.
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T02:45')).raised).toEqual([]);
  });

  it('an "in bed" that arrives after the deadline, before the timer fired, still raises the alarm and then clears it', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    const back = ev.bed('bed-1', true, at('2026-11-25T02:25'));
    const out = engine.onEvent(back, at('2026-11-25T02:25'));
    expect(out.raised.map((a) => [a.rule, a.raisedAt])).toEqual([['out-of-bed-too-long', '2026-11-25T01:25:00.000Z']]);
    expect(out.cleared).toEqual([{ alarmId: out.raised[0]?.id, siteId: 'demo', clearedAt: '2026-11-25T01:25:00.000Z', eventId: back.id }]);
  });

  it('returning to bed before the deadline raises nothing and removes the deadline', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:15')), at('2026-11-25T02:15'))).toEqual({ raised: [], cleared: [] });
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T02:20'))).toEqual({ raised: [], cleared: [] });
  });

  it('returning to bed after the alarm gives one ConditionCleared with the alarm id', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    const [alarm] = engine.onTick(at('2026-11-25T02:20')).raised;
    const back = ev.bed('bed-1', true, at('2026-11-25T02:31'));
    const out = engine.onEvent(back, at('2026-11-25T02:31'));
    expect(out).toEqual({
      raised: [],
      cleared: [{ alarmId: alarm?.id, siteId: 'demo', clearedAt: '2026-11-25T01:31:00.000Z', eventId: back.id }],
    });
    // A repeated "occupied" clears nothing more.
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:32')), at('2026-11-25T02:32')).cleared).toEqual([]);
  });

  it('a second time out of bed after returning raises a new alarm, counted from the new departure', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T01:00')), at('2026-11-25T01:00'));
    engine.onTick(at('2026-11-25T01:20'));
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T01:30')), at('2026-11-25T01:30'));
    const left = ev.bed('bed-1', false, at('2026-11-25T03:00'));
    engine.onEvent(left, at('2026-11-25T03:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T03:20:00+01:00');
    const out = engine.onTick(at('2026-11-25T03:20'));
    expect(out.raised.map((a) => [a.id, a.evidence.eventIds])).toEqual([['a2', [left.id]]]);
  });

  it('repeated "not occupied" heartbeats do not restart the count', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:10')), at('2026-11-25T02:10'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:20:00+01:00');
    const out = engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:20')), at('2026-11-25T02:20'));
    // The heartbeat arriving at the deadline raises it (the engine ticks after every event).
    expect(out.raised.map((a) => a.evidence.since)).toEqual(['2026-11-25T01:00:00.000Z']);
  });

  it('time counts only inside the night window: leaving at 21:00 with window 22:00–07:00 gives 22:20', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T22:20:00+01:00');
    expect(engine.onTick(at('2026-11-25T22:19')).raised).toEqual([]);
    const [alarm] = engine.onTick(at('2026-11-25T22:20')).raised;
    // The evidence still says when the resident really left the bed.
    expect(alarm?.evidence.since).toBe('2026-11-25T20:00:00.000Z');
  });

  it('leaving at 06:50: the window closes before 20 minutes, so the deadline is the next night at 22:20', () => {
    const { engine, ev } = setup();
    const left = at('2026-11-25T06:50');
    engine.onEvent(ev.bed('bed-1', false, left), left);
    const deadline = engine.nextDeadline();
    expect(local(deadline)).toBe('2026-11-25T22:20:00+01:00');
    expect(deadline).toBeGreaterThan(left);
    // No alarm at 07:10 or during the day: not a busy loop of due-but-silent deadlines.
    for (const t of ['07:10', '12:00', '22:19']) {
      expect(engine.onTick(at(`2026-11-25T${t}`)).raised).toEqual([]);
      expect(engine.nextDeadline()).toBe(deadline);
    }
    expect(engine.onTick(at('2026-11-25T22:20')).raised).toHaveLength(1);
  });

  it('the deadline is never due without onTick raising (the gateway timer cannot spin)', () => {
    // For departures every 7 minutes around the clock: either the deadline is in the future, or a tick at it raises.
    for (let m = 0; m < 24 * 60; m += 7) {
      const { engine, ev } = setup();
      const left = at('2026-11-25T00:00') + m * 60_000;
      engine.onEvent(ev.bed('bed-1', false, left), left);
      const deadline = engine.nextDeadline();
      expect(deadline).not.toBeNull();
      expect(deadline as number).toBeGreaterThanOrEqual(left + 20 * 60_000);
      expect(engine.onTick((deadline as number) - 1).raised).toEqual([]);
      expect(engine.onTick(deadline as number).raised).toHaveLength(1);
    }
  });

  it('a late tick (the gateway was down) still raises, with the real departure as evidence', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    const out = engine.onTick(at('2026-11-25T05:47'));
    expect(out.raised).toHaveLength(1);
    expect(out.raised[0]?.raisedAt).toBe('2026-11-25T04:47:00.000Z');
    expect(out.raised[0]?.evidence.since).toBe('2026-11-25T01:00:00.000Z');
  });

  it('a late tick still raises even after the window has closed', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.onTick(at('2026-11-25T08:00')).raised).toHaveLength(1);
  });

  it('raises nothing, and has no deadline, when the plan is not armed or the rule is disabled', () => {
    for (const p of [plan({ armed: false }), plan({ rules: { outOfBedTooLong: { enabled: false, minutes: 20, priority: 'high' } } })]) {
      const { engine, ev } = setup(withPlan(p));
      engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
      expect(engine.nextDeadline()).toBeNull();
      expect(engine.onTick(at('2026-11-25T04:00')).raised).toEqual([]);
    }
  });

  it('has no deadline while the bed is occupied or its state is unknown', () => {
    const { engine, ev } = setup();
    expect(engine.nextDeadline()).toBeNull();
    engine.onEvent(ev.availability('bed-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.nextDeadline()).toBeNull();
    engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.nextDeadline()).toBeNull();
  });

  it('uses the threshold and priority of the plan', () => {
    const { engine, ev } = setup(withPlan(plan({ rules: { outOfBedTooLong: { enabled: true, minutes: 5, priority: 'high' } } })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:05:00+01:00');
    const [alarm] = engine.onTick(at('2026-11-25T02:05')).raised;
    expect([alarm?.priority, alarm?.evidence.thresholdMinutes]).toEqual(['high', 5]);
  });

  it('a same-day window (01:00–05:00): leaving at 00:30 is counted from 01:00', () => {
    const { engine, ev } = setup(withPlan(minutes(20, { start: '01:00', end: '05:00' })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T00:30')), at('2026-11-25T00:30'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T01:20:00+01:00');
  });

  it('a same-day window: leaving at 06:00 is counted from the next day 01:00', () => {
    const { engine, ev } = setup(withPlan(minutes(20, { start: '01:00', end: '05:00' })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T06:00')), at('2026-11-25T06:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-26T01:20:00+01:00');
  });

  it('a threshold that ends exactly when the window closes still counts (06:40 + 20 min = 07:00)', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T06:40')), at('2026-11-25T06:40'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T07:00:00+01:00');
  });

  it('a 24-hour window (start = end) counts all the time', () => {
    const { engine, ev } = setup(withPlan(minutes(20, { start: '12:00', end: '12:00' })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T11:50')), at('2026-11-25T11:50'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T12:10:00+01:00');
  });

  it('never counts across the day: a 12-hour threshold in a 14-hour window 18:00–08:00, leaving at 07:00', () => {
    // 07:00–08:00 is in the window, 08:00–18:00 is not, 18:00–19:00 is again: only one hour out of
    // bed inside a window each time, so the deadline is the next evening's 18:00 + 12 h = 06:00.
    const { engine, ev } = setup(withPlan(minutes(720, { start: '18:00', end: '08:00' })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T07:00')), at('2026-11-25T07:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-26T06:00:00+01:00');
    expect(engine.onTick(at('2026-11-25T19:00')).raised).toEqual([]);
  });

  it('a threshold longer than the window can never be reached: no deadline and no alarm days later', () => {
    const { engine, ev } = setup(withPlan(minutes(480, { start: '23:00', end: '05:00' })));
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T23:00')), at('2026-11-25T23:00'));
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-30T07:00')).raised).toEqual([]);
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward (2026-03-29): leaving at 01:50 winter time is due 20 real minutes later, 03:10 summer time', () => {
      const { engine, ev } = setup();
      const left = at('2026-03-29T01:50:00+01:00');
      engine.onEvent(ev.bed('bed-1', false, left), left);
      expect(engine.nextDeadline()).toBe(left + 20 * 60_000);
      expect(local(engine.nextDeadline())).toBe('2026-03-29T03:10:00+02:00');
    });

    it('spring forward: leaving at 21:00 the evening before is due 22:20 winter time', () => {
      const { engine, ev } = setup();
      engine.onEvent(ev.bed('bed-1', false, at('2026-03-28T21:00')), at('2026-03-28T21:00'));
      expect(local(engine.nextDeadline())).toBe('2026-03-28T22:20:00+01:00');
    });

    it('spring forward: leaving at 06:50 summer time moves to 22:20 summer time that evening', () => {
      const { engine, ev } = setup();
      engine.onEvent(ev.bed('bed-1', false, at('2026-03-29T06:50')), at('2026-03-29T06:50'));
      expect(local(engine.nextDeadline())).toBe('2026-03-29T22:20:00+02:00');
    });

    it('spring forward with the window ending inside the skipped hour (22:00–02:30): the window closes at the jump', () => {
      // 01:50 winter time + 20 min = 03:10 summer time, but the wall clock jumped from 02:00 to
      // 03:00, past the 02:30 end: only 10 minutes counted, so the deadline is that evening.
      const { engine, ev } = setup(withPlan(minutes(20, { start: '22:00', end: '02:30' })));
      const left = at('2026-03-29T01:50:00+01:00');
      engine.onEvent(ev.bed('bed-1', false, left), left);
      expect(local(engine.nextDeadline())).toBe('2026-03-29T22:20:00+02:00');
      expect(engine.onTick(at('2026-03-29T03:10:00+02:00')).raised).toEqual([]);
    });

    it('fall back (2026-10-25): leaving at 02:50 summer time is due 20 real minutes later, 02:10 winter time', () => {
      const { engine, ev } = setup();
      const left = at('2026-10-25T02:50:00+02:00');
      engine.onEvent(ev.bed('bed-1', false, left), left);
      expect(engine.nextDeadline()).toBe(left + 20 * 60_000);
      expect(local(engine.nextDeadline())).toBe('2026-10-25T02:10:00+01:00');
      expect(engine.onTick(left + 20 * 60_000 - 1).raised).toEqual([]);
      expect(engine.onTick(left + 20 * 60_000).raised).toHaveLength(1);
    });

    it('fall back: leaving at 21:00 the evening before is due 22:20 summer time; 06:50 winter time moves to 22:20 winter time', () => {
      const a = setup();
      a.engine.onEvent(a.ev.bed('bed-1', false, at('2026-10-24T21:00')), at('2026-10-24T21:00'));
      expect(local(a.engine.nextDeadline())).toBe('2026-10-24T22:20:00+02:00');
      const b = setup();
      b.engine.onEvent(b.ev.bed('bed-1', false, at('2026-10-25T06:50')), at('2026-10-25T06:50'));
      expect(local(b.engine.nextDeadline())).toBe('2026-10-25T22:20:00+01:00');
    });
  });
});
