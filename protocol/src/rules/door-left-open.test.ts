import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site } from '../../test/fixtures.js';
import { alarmDecision } from '../alarm.js';
import type { SupervisionPlan } from '../site-config.js';
import { RuleEngine } from './engine.js';

const leftOpen = (minutes = 10, extra: Partial<SupervisionPlan> = {}) =>
  plan({ rules: { doorLeftOpen: { enabled: true, minutes, priority: 'medium' } }, ...extra });
const setup = (anna: SupervisionPlan = leftOpen(), others: { bjorn?: SupervisionPlan; cecilie?: SupervisionPlan } = {}) => ({
  engine: new RuleEngine(site({ anna, ...others }), { newId: ids(), rules: ['door-left-open'] }),
  ev: events(),
});

describe('door-left-open', () => {
  it('a door open from 02:00 raises at 02:10 with its evidence, and clears when it closes', () => {
    const { engine, ev } = setup();
    const open = ev.door('door-1', true, at('2026-11-25T02:00'));
    engine.onEvent(open, at('2026-11-25T02:00'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:10:00+01:00');
    expect(engine.onTick(at('2026-11-25T02:10') - 1).raised).toEqual([]);
    const out = engine.onTick(at('2026-11-25T02:10'));
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'door-1',
        rule: 'door-left-open',
        priority: 'medium',
        raisedAt: '2026-11-25T01:10:00.000Z',
        decidedAt: '2026-11-25T01:10:00.000Z',
        evidence: {
          eventIds: [open.id],
          since: '2026-11-25T01:00:00.000Z',
          nightWindow: { start: '22:00', end: '07:00' },
          setting: { minutes: 10 },
        },
      },
    ]);
    expect(alarmDecision.check(out.raised[0]).ok).toBe(true);
    expect(engine.nextDeadline()).toBeNull();
    const close = ev.door('door-1', false, at('2026-11-25T02:12'));
    expect(engine.onEvent(close, at('2026-11-25T02:12')).cleared).toEqual([
      { alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T01:12:00.000Z', eventId: close.id },
    ]);
  });

  it('closed before the time is up: nothing, and no deadline; heartbeats of "open" do not restart the count', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T02:05')), at('2026-11-25T02:05'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:10:00+01:00');
    expect(engine.onEvent(ev.door('door-1', false, at('2026-11-25T02:09')), at('2026-11-25T02:09'))).toEqual({ raised: [], cleared: [] });
    expect(engine.nextDeadline()).toBeNull();
  });

  it('counts only inside the night window: open from 21:55 is due 22:10; open at 06:55 is due 22:10 that evening', () => {
    const a = setup();
    a.engine.onEvent(a.ev.door('door-1', true, at('2026-11-25T21:55')), at('2026-11-25T21:55'));
    expect(local(a.engine.nextDeadline())).toBe('2026-11-25T22:10:00+01:00');
    expect(a.engine.onTick(at('2026-11-25T22:10')).raised[0]?.evidence.since).toBe('2026-11-25T20:55:00.000Z');
    const b = setup();
    b.engine.onEvent(b.ev.door('door-1', true, at('2026-11-25T06:55')), at('2026-11-25T06:55'));
    expect(local(b.engine.nextDeadline())).toBe('2026-11-25T22:10:00+01:00');
    expect(b.engine.onTick(at('2026-11-25T12:00')).raised).toEqual([]);
  });

  it('a threshold longer than the window never fires', () => {
    const { engine, ev } = setup(leftOpen(600, { nightWindow: { start: '23:00', end: '05:00' } }));
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T23:00')), at('2026-11-25T23:00'));
    expect(engine.nextDeadline()).toBeNull();
  });

  it('a late tick still raises', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.onTick(at('2026-11-25T09:00')).raised.map((a) => a.raisedAt)).toEqual(['2026-11-25T08:00:00.000Z']);
  });

  it('raises nothing when unarmed, disabled, or absent from the plan', () => {
    for (const p of [
      leftOpen(10, { armed: false }),
      plan({ rules: { doorLeftOpen: { enabled: false, minutes: 10, priority: 'low' } } }),
      plan(),
    ]) {
      const { engine, ev } = setup(p);
      engine.onEvent(ev.door('door-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
      expect(engine.nextDeadline()).toBeNull();
      expect(engine.onTick(at('2026-11-25T03:00')).raised).toEqual([]);
    }
  });

  it('a shared door raises for each resident of the room whose plan has the rule, with their priority', () => {
    const { engine, ev } = setup(plan(), {
      bjorn: plan({ rules: { doorLeftOpen: { enabled: true, minutes: 5, priority: 'high' } } }),
      cecilie: plan({ rules: { doorLeftOpen: { enabled: true, minutes: 15, priority: 'low' } } }),
    });
    engine.onEvent(ev.door('door-2', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    const first = engine.onTick(at('2026-11-25T02:05')).raised;
    const second = engine.onTick(at('2026-11-25T02:15')).raised;
    expect([...first, ...second].map((a) => [a.residentId, a.priority])).toEqual([
      ['bjorn', 'high'],
      ['cecilie', 'low'],
    ]);
    expect(engine.onEvent(ev.door('door-2', false, at('2026-11-25T02:20')), at('2026-11-25T02:20')).cleared).toHaveLength(2);
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward (2026-03-29): open at 01:55 winter time is due 10 real minutes later, 03:05 summer time', () => {
      const { engine, ev } = setup();
      const open = at('2026-03-29T01:55:00+01:00');
      engine.onEvent(ev.door('door-1', true, open), open);
      expect(engine.nextDeadline()).toBe(open + 10 * 60_000);
      expect(local(engine.nextDeadline())).toBe('2026-03-29T03:05:00+02:00');
      expect(engine.onTick(open + 10 * 60_000).raised).toHaveLength(1);
    });

    it('fall back (2026-10-25): open at 02:55 summer time is due 10 real minutes later, 02:05 winter time', () => {
      const { engine, ev } = setup();
      const open = at('2026-10-25T02:55:00+02:00');
      engine.onEvent(ev.door('door-1', true, open), open);
      expect(local(engine.nextDeadline())).toBe('2026-10-25T02:05:00+01:00');
      expect(engine.onTick(open + 10 * 60_000).raised).toHaveLength(1);
    });

    it('fall back: the window ends at 07:00 winter time, ten hours after 22:00 summer time', () => {
      const { engine, ev } = setup(leftOpen(30));
      engine.onEvent(ev.door('door-1', true, at('2026-10-25T06:40')), at('2026-10-25T06:40'));
      expect(local(engine.nextDeadline())).toBe('2026-10-25T22:30:00+01:00');
    });
  });
});
