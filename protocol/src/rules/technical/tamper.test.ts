import { describe, expect, it } from 'vitest';
import { at, events, ids, site } from '../../../test/fixtures.js';
import { RuleEngine } from '../engine.js';

describe('tamper', () => {
  it('raised while the sensor reports tampering, once; cleared when it stops; absent changes nothing', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: ['tamper'] });
    const ev = events();
    const opened = ev.with('door-1', at('2026-11-25T03:10'), { open: false, tamper: true });
    expect(engine.onEvent(opened, at('2026-11-25T03:10')).raised).toEqual([
      expect.objectContaining({
        rule: 'tamper',
        priority: 'technical',
        sensorId: 'door-1',
        evidence: { eventIds: [opened.id], since: '2026-11-25T02:10:00.000Z', sensorKind: 'door' },
      }),
    ]);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:11'), { tamper: true }), at('2026-11-25T03:11')).raised).toEqual([]);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:12'), { open: false }), at('2026-11-25T03:12'))).toEqual({
      raised: [],
      cleared: [],
    });
    const fixed = ev.with('door-1', at('2026-11-25T03:20'), { tamper: false });
    expect(engine.onEvent(fixed, at('2026-11-25T03:20')).cleared).toEqual([expect.objectContaining({ alarmId: 'a1', eventId: fixed.id })]);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:21'), { tamper: false }), at('2026-11-25T03:21')).cleared).toEqual([]);
    expect(engine.nextDeadline()).toBeNull();
  });
});
