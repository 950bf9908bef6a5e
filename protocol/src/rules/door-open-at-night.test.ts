import { describe, expect, it } from 'vitest';
import { at, events, ids, LEGACY_RULES, local, plan, site } from '../../test/fixtures.js';
import { alarmDecision } from '../alarm.js';
import { outboxItem } from '../socket-events.js';
import { RuleEngine } from './engine.js';

const setup = (config = site()) => ({ engine: new RuleEngine(config, { newId: ids(), rules: LEGACY_RULES }), ev: events() });

describe('door-open-at-night', () => {
  it('raises exactly one alarm with the plan priority and evidence when the door opens at 03:10', () => {
    const { engine, ev } = setup();
    const open = ev.door('door-1', true, at('2026-11-25T03:10'));
    const out = engine.onEvent(open, at('2026-11-25T03:10'));

    expect(out.cleared).toEqual([]);
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'door-1',
        rule: 'door-open-at-night',
        priority: 'high',
        raisedAt: '2026-11-25T02:10:00.000Z',
        decidedAt: '2026-11-25T02:10:00.000Z',
        evidence: { eventIds: [open.id], since: '2026-11-25T02:10:00.000Z', nightWindow: { start: '22:00', end: '07:00' } },
      },
    ]);
    expect(alarmDecision.check(out.raised[0]).ok).toBe(true);
  });

  it('raises nothing for the same door at 14:00', () => {
    const { engine, ev } = setup();
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T14:00')), at('2026-11-25T14:00'))).toEqual({ raised: [], cleared: [] });
    expect(engine.stateOf('anna')?.door.open).toBe(true);
  });

  it('does not raise again for a repeated "open" (heartbeat), and keeps the first opening as the condition start', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10'));
    for (const t of ['03:15', '03:20', '03:30']) {
      expect(engine.onEvent(ev.door('door-1', true, at(`2026-11-25T${t}`)), at(`2026-11-25T${t}`)).raised).toEqual([]);
    }
    expect(local(engine.stateOf('anna')?.door.since ?? null)).toBe('2026-11-25T03:10:00+01:00');
  });

  it('gives one ConditionCleared with the alarm id when the door closes, and nothing for a repeated "closed"', () => {
    const { engine, ev } = setup();
    const raised = engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised;
    const close = ev.door('door-1', false, at('2026-11-25T03:12'));
    const out = engine.onEvent(close, at('2026-11-25T03:12'));
    expect(out.raised).toEqual([]);
    expect(out.cleared).toEqual([{ alarmId: raised[0]?.id, siteId: 'demo', clearedAt: '2026-11-25T02:12:00.000Z', eventId: close.id }]);
    expect(outboxItem.check({ type: 'cleared', cleared: out.cleared[0] }).ok).toBe(true);
    expect(engine.onEvent(ev.door('door-1', false, at('2026-11-25T03:13')), at('2026-11-25T03:13'))).toEqual({ raised: [], cleared: [] });
  });

  it('raises a new alarm for a second opening after closing', () => {
    const { engine, ev } = setup();
    const first = engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised;
    engine.onEvent(ev.door('door-1', false, at('2026-11-25T03:12')), at('2026-11-25T03:12'));
    const second = engine.onEvent(ev.door('door-1', true, at('2026-11-25T04:40')), at('2026-11-25T04:40')).raised;
    expect(first.map((a) => a.id)).toEqual(['a1']);
    expect(second.map((a) => a.id)).toEqual(['a2']);
    expect(second[0]?.raisedAt).toBe('2026-11-25T03:40:00.000Z');
  });

  it('clears nothing when a door that opened by day closes at night', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T21:50')), at('2026-11-25T21:50'));
    // Still open when the window opens: the rule fires on the opening only.
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T22:05')), at('2026-11-25T22:05')).raised).toEqual([]);
    expect(engine.onEvent(ev.door('door-1', false, at('2026-11-25T22:10')), at('2026-11-25T22:10'))).toEqual({ raised: [], cleared: [] });
  });

  it('counts an unknown previous state as closed: the first "open" after a restart alarms', () => {
    const { engine, ev } = setup();
    expect(engine.stateOf('anna')?.door.open).toBeNull();
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised).toHaveLength(1);
  });

  it('raises nothing while the plan is not armed', () => {
    const { engine, ev } = setup(site({ anna: plan({ armed: false }) }));
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised).toEqual([]);
  });

  it('raises nothing when the rule is disabled in the tilsynsplan', () => {
    const { engine, ev } = setup(site({ anna: plan({ rules: { doorOpenAtNight: { enabled: false, priority: 'high' } } }) }));
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised).toEqual([]);
  });

  it('still clears an open alarm after the plan was disarmed', () => {
    const config = site();
    const { engine, ev } = setup(config);
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10'));
    engine.setConfig(site({ anna: plan({ armed: false }) }));
    expect(engine.onEvent(ev.door('door-1', false, at('2026-11-25T03:20')), at('2026-11-25T03:20')).cleared.map((c) => c.alarmId)).toEqual([
      'a1',
    ]);
  });

  it('applies a door sensor without residentId to every resident of the room, each with their own priority', () => {
    const { engine, ev } = setup();
    const open = ev.door('door-2', true, at('2026-11-25T03:10'));
    const out = engine.onEvent(open, at('2026-11-25T03:10'));
    expect(out.raised.map((a) => [a.id, a.residentId, a.roomId, a.sensorId, a.priority])).toEqual([
      ['a1', 'bjorn', 'r102', 'door-2', 'high'],
      ['a2', 'cecilie', 'r102', 'door-2', 'low'],
    ]);
    expect(out.raised.every((a) => a.evidence.eventIds[0] === open.id)).toBe(true);
    const closed = engine.onEvent(ev.door('door-2', false, at('2026-11-25T03:11')), at('2026-11-25T03:11'));
    expect(closed.cleared.map((c) => c.alarmId)).toEqual(['a1', 'a2']);
  });

  it('ignores a resident of the room whose plan is off while alarming for the one whose plan is on', () => {
    const { engine, ev } = setup(site({ cecilie: plan({ armed: false }) }));
    const out = engine.onEvent(ev.door('door-2', true, at('2026-11-25T03:10')), at('2026-11-25T03:10'));
    expect(out.raised.map((a) => a.residentId)).toEqual(['bjorn']);
  });

  it('decides on the gateway time `now`, not on the event timestamp', () => {
    const { engine, ev } = setup();
    // The event says 14:00 (say a wrong sensor clock) but it is decided at 03:10.
    const out = engine.onEvent(ev.door('door-1', true, at('2026-11-25T14:00')), at('2026-11-25T03:10'));
    expect(out.raised).toHaveLength(1);
  });

  it('ignores door events that carry no open/closed state (availability)', () => {
    const { engine, ev } = setup();
    expect(engine.onEvent(ev.availability('door-1', false, at('2026-11-25T03:10')), at('2026-11-25T03:10'))).toEqual({
      raised: [],
      cleared: [],
    });
    expect(engine.stateOf('anna')?.door.open).toBeNull();
  });

  describe('night window', () => {
    const crossing = site({ anna: plan({ nightWindow: { start: '22:00', end: '07:00' } }) });
    const sameDay = site({ anna: plan({ nightWindow: { start: '01:00', end: '05:00' } }) });

    it.each([
      ['21:59', false],
      ['22:00', true],
      ['23:59', true],
      ['00:00', true],
      ['06:59', true],
      ['07:00', false],
      ['14:00', false],
    ])('window 22:00–07:00 (crossing midnight): an opening at %s alarms: %s', (time, alarms) => {
      const { engine, ev } = setup(crossing);
      const t = at(`2026-11-25T${time}`);
      expect(engine.onEvent(ev.door('door-1', true, t), t).raised.length).toBe(alarms ? 1 : 0);
    });

    it.each([
      ['00:59', false],
      ['01:00', true],
      ['04:59', true],
      ['05:00', false],
      ['23:00', false],
    ])('window 01:00–05:00 (same day): an opening at %s alarms: %s', (time, alarms) => {
      const { engine, ev } = setup(sameDay);
      const t = at(`2026-11-25T${time}`);
      expect(engine.onEvent(ev.door('door-1', true, t), t).raised.length).toBe(alarms ? 1 : 0);
    });

    it('a window whose start equals its end covers the whole day', () => {
      const { engine, ev } = setup(site({ anna: plan({ nightWindow: { start: '00:00', end: '00:00' } }) }));
      expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T14:00')), at('2026-11-25T14:00')).raised).toHaveLength(1);
    });
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward (2026-03-29, 02:00 → 03:00): openings on both sides of the jump alarm, the afternoon does not', () => {
      const { engine, ev } = setup();
      const before = at('2026-03-29T01:59:00+01:00');
      const after = at('2026-03-29T03:00:00+02:00');
      expect(after - before).toBe(60_000); // one real minute apart
      expect(engine.onEvent(ev.door('door-1', true, before), before).raised).toHaveLength(1);
      engine.onEvent(ev.door('door-1', false, before + 30_000), before + 30_000);
      expect(engine.onEvent(ev.door('door-1', true, after), after).raised).toHaveLength(1);
      engine.onEvent(ev.door('door-1', false, after + 1000), after + 1000);
      // 06:59 summer time alarms, 07:00 summer time does not: the window follows the wall clock.
      expect(engine.onEvent(ev.door('door-1', true, at('2026-03-29T06:59')), at('2026-03-29T06:59')).raised).toHaveLength(1);
      engine.onEvent(ev.door('door-1', false, at('2026-03-29T06:59:30')), at('2026-03-29T06:59:30'));
      expect(engine.onEvent(ev.door('door-1', true, at('2026-03-29T07:00')), at('2026-03-29T07:00')).raised).toEqual([]);
    });

    it('fall back (2026-10-25, 03:00 → 02:00): both passes of 02:30 are night, 07:00 winter time is day', () => {
      const { engine, ev } = setup();
      const firstPass = at('2026-10-25T02:30:00+02:00');
      const secondPass = at('2026-10-25T02:30:00+01:00');
      expect(secondPass - firstPass).toBe(3_600_000);
      const a = engine.onEvent(ev.door('door-1', true, firstPass), firstPass).raised;
      expect(a[0]?.raisedAt).toBe('2026-10-25T00:30:00.000Z');
      engine.onEvent(ev.door('door-1', false, firstPass + 60_000), firstPass + 60_000);
      const b = engine.onEvent(ev.door('door-1', true, secondPass), secondPass).raised;
      expect(b[0]?.raisedAt).toBe('2026-10-25T01:30:00.000Z');
      engine.onEvent(ev.door('door-1', false, secondPass + 60_000), secondPass + 60_000);
      expect(engine.onEvent(ev.door('door-1', true, at('2026-10-25T06:59')), at('2026-10-25T06:59')).raised).toHaveLength(1);
      engine.onEvent(ev.door('door-1', false, at('2026-10-25T06:59:30')), at('2026-10-25T06:59:30'));
      expect(engine.onEvent(ev.door('door-1', true, at('2026-10-25T07:00')), at('2026-10-25T07:00')).raised).toEqual([]);
    });
  });

  it('has no deadline of its own', () => {
    const { engine, ev } = setup(site({ anna: plan({ rules: { outOfBedTooLong: { enabled: false, minutes: 20, priority: 'medium' } } }) }));
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10'));
    expect(engine.nextDeadline()).toBeNull();
    expect(engine.onTick(at('2026-11-25T05:00'))).toEqual({ raised: [], cleared: [] });
  });
});
