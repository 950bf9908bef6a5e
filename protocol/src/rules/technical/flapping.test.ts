import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site } from '../../../test/fixtures.js';
import type { SiteConfig } from '../../site-config.js';
import { RuleEngine, type RuleOutput } from '../engine.js';

function setup(config: SiteConfig = site()) {
  const engine = new RuleEngine(config, { newId: ids(), rules: ['flapping'] });
  const ev = events();
  let open: boolean | null = null;
  return {
    engine,
    ev,
    /** The door reports the opposite of its last state at `t` (the first call reports "closed" a second before: a first value is no change). */
    toggle(t: number): RuleOutput {
      if (open === null) engine.onEvent(ev.door('door-1', false, t - 1000), t - 1000);
      open = !open;
      return engine.onEvent(ev.door('door-1', open, t), t);
    },
  };
}

describe('flapping', () => {
  it('a door contact that changes 11 times within a minute raises; 10 do not', () => {
    const { toggle } = setup();
    const t0 = at('2026-11-25T03:10');
    const outs = Array.from({ length: 11 }, (_, i) => toggle(t0 + i * 5000));
    expect(outs.slice(0, 10).flatMap((o) => o.raised)).toEqual([]);
    expect(outs[10]?.raised).toEqual([
      expect.objectContaining({
        id: 'a1',
        rule: 'flapping',
        priority: 'technical',
        sensorId: 'door-1',
        evidence: {
          eventIds: Array.from({ length: 11 }, (_, i) => `e${i + 2}`),
          since: '2026-11-25T02:10:00.000Z',
          setting: { changesPerMinute: 10 },
          value: 11,
          sensorKind: 'door',
        },
      }),
    ]);
  });

  it('is cleared a whole minute after the last change; each new change moves that minute', () => {
    const { engine, toggle } = setup();
    const t0 = at('2026-11-25T03:10');
    for (let i = 0; i < 12; i++) toggle(t0 + i * 2000);
    expect(engine.nextDeadline()).toBe(t0 + 22_000 + 60_000);
    toggle(t0 + 70_000);
    expect(local(engine.nextDeadline())).toBe('2026-11-25T03:12:10+01:00');
    expect(engine.onTick(t0 + 130_000 - 1).cleared).toEqual([]);
    expect(engine.onTick(t0 + 130_000)).toEqual({
      raised: [],
      cleared: [{ alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T02:12:10.000Z', eventId: 'e14' }],
    });
    expect(engine.nextDeadline()).toBeNull();
  });

  it('heartbeats of the same value and a steady restless rhythm (10 a minute) are not flapping', () => {
    const { engine, ev, toggle } = setup();
    const t0 = at('2026-11-25T03:10');
    for (let i = 0; i < 60; i++) engine.onEvent(ev.door('door-1', false, t0 + i * 1000), t0 + i * 1000);
    const outs = Array.from({ length: 50 }, (_, i) => toggle(t0 + 60_000 + i * 6000));
    expect(outs.flatMap((o) => o.raised)).toEqual([]);
  });

  it('uses the plan’s limit, and keeps at most 20 event ids as evidence', () => {
    const strict = setup(site({ anna: plan({ technical: { flappingChangesPerMinute: 4 } }) }));
    const t0 = at('2026-11-25T03:10');
    const raised = Array.from({ length: 5 }, (_, i) => strict.toggle(t0 + i * 1000)).flatMap((o) => o.raised);
    expect(raised.map((a) => a.evidence.value)).toEqual([5]);

    const loose = setup(site({ anna: plan({ technical: { flappingChangesPerMinute: 60 } }) }));
    const alarms = Array.from({ length: 61 }, (_, i) => loose.toggle(t0 + i * 500)).flatMap((o) => o.raised);
    expect(alarms.map((a) => [a.evidence.value, a.evidence.eventIds.length, a.evidence.eventIds.at(-1)])).toEqual([[61, 20, 'e62']]);
    expect(loose.engine.sensorStateOf('door-1')?.changes).toHaveLength(61);
    loose.toggle(t0 + 40_000);
    expect(loose.engine.sensorStateOf('door-1')?.changes).toHaveLength(61);
  });

  it('counts real time across the spring-forward jump: 11 changes from 01:59:30 winter time to 03:00:20 summer time is within a minute', () => {
    const { toggle } = setup();
    const t0 = at('2026-03-29T01:59:30+01:00');
    const raised = Array.from({ length: 11 }, (_, i) => toggle(t0 + i * 5000)).flatMap((o) => o.raised);
    expect(raised).toHaveLength(1);
    expect(local(Date.parse(raised[0]?.raisedAt ?? ''))).toBe('2026-03-29T03:00:20+02:00');
  });

  it('and across the fall-back hour: changes at 02:59:50 summer time and 02:00:10 winter time are 20 s apart', () => {
    const { toggle } = setup(site({ anna: plan({ technical: { flappingChangesPerMinute: 2 } }) }));
    toggle(at('2026-10-25T02:59:50+02:00'));
    toggle(at('2026-10-25T02:59:55+02:00'));
    expect(toggle(at('2026-10-25T02:00:10+01:00')).raised).toHaveLength(1);
  });
});
