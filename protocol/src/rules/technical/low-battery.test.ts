import { describe, expect, it } from 'vitest';
import { at, events, ids, plan, site } from '../../../test/fixtures.js';
import { checkSiteConfig, type SiteConfig } from '../../site-config.js';
import { RuleEngine } from '../engine.js';

const setup = (config: SiteConfig = site()) => ({ engine: new RuleEngine(config, { newId: ids(), rules: ['low-battery'] }), ev: events() });

describe('low-battery', () => {
  it('hysteresis: 14 % raises, 16/20/24 change nothing, 26 clears, back to 14 raises a new alarm', () => {
    const { engine, ev } = setup();
    let minute = 0;
    const report = (battery: number) => {
      const t = at('2026-11-25T03:00') + ++minute * 60_000;
      const event = ev.with('door-1', t, { open: false, battery });
      return { event, out: engine.onEvent(event, t) };
    };
    const low = report(14);
    expect(low.out.raised).toEqual([
      expect.objectContaining({
        id: 'a1',
        rule: 'low-battery',
        priority: 'technical',
        sensorId: 'door-1',
        residentId: 'anna',
        evidence: { eventIds: [low.event.id], since: '2026-11-25T02:01:00.000Z', setting: { percent: 15 }, value: 14, sensorKind: 'door' },
      }),
    ]);
    for (const level of [16, 20, 24, 14, 24]) expect(report(level).out).toEqual({ raised: [], cleared: [] });
    const replaced = report(26);
    expect(replaced.out.cleared).toEqual([expect.objectContaining({ alarmId: 'a1', eventId: replaced.event.id })]);
    expect(report(24).out).toEqual({ raised: [], cleared: [] });
    expect(report(14).out.raised.map((a) => a.id)).toEqual(['a2']);
  });

  it('the limits are inclusive: 15 % raises, 25 % clears', () => {
    const { engine, ev } = setup();
    expect(engine.onEvent(ev.with('bed-1', at('2026-11-25T03:00'), { battery: 15 }), at('2026-11-25T03:00')).raised).toHaveLength(1);
    expect(engine.onEvent(ev.with('bed-1', at('2026-11-25T03:01'), { battery: 25 }), at('2026-11-25T03:01')).cleared).toHaveLength(1);
  });

  it('follows the sensor’s own low-battery flag when it sends no level', () => {
    const { engine, ev } = setup();
    const out = engine.onEvent(ev.with('door-1', at('2026-11-25T03:00'), { batteryLow: true }), at('2026-11-25T03:00'));
    expect(out.raised[0]?.evidence).toEqual({
      eventIds: ['e1'],
      since: '2026-11-25T02:00:00.000Z',
      setting: { percent: 15 },
      sensorKind: 'door',
    });
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:01'), {}), at('2026-11-25T03:01')).cleared).toEqual([]);
    // The flag still set with a good level: still low. The flag gone with a good level: cleared.
    expect(
      engine.onEvent(ev.with('door-1', at('2026-11-25T03:02'), { battery: 80, batteryLow: true }), at('2026-11-25T03:02')).cleared,
    ).toEqual([]);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:03'), { batteryLow: false }), at('2026-11-25T03:03')).cleared).toHaveLength(
      1,
    );
  });

  it('uses the plan’s limits; a shared sensor takes the earliest warning of its residents', () => {
    const config = site({
      anna: plan({ technical: { lowBatteryPercent: 30, batteryClearPercent: 50 } }),
      bjorn: plan({ technical: { lowBatteryPercent: 20 } }),
      cecilie: plan({ technical: { lowBatteryPercent: 10, batteryClearPercent: 90 } }),
    });
    const { engine, ev } = setup(config);
    expect(engine.technicalSettingsOf('door-1')).toMatchObject({ lowBatteryPercent: 30, batteryClearPercent: 50 });
    expect(engine.technicalSettingsOf('door-2')).toMatchObject({ lowBatteryPercent: 20, batteryClearPercent: 90 });
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:00'), { battery: 30 }), at('2026-11-25T03:00')).raised).toHaveLength(1);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:01'), { battery: 49 }), at('2026-11-25T03:01')).cleared).toEqual([]);
    expect(engine.onEvent(ev.with('door-1', at('2026-11-25T03:02'), { battery: 50 }), at('2026-11-25T03:02')).cleared).toHaveLength(1);
  });

  it('the clear level stays above the alarm level even when shared plans disagree', () => {
    const config = site({
      bjorn: plan({ technical: { lowBatteryPercent: 40, batteryClearPercent: 45 } }),
      cecilie: plan({ technical: { lowBatteryPercent: 50, batteryClearPercent: 52 } }),
    });
    expect(new RuleEngine(config, { newId: ids() }).technicalSettingsOf('door-2')).toMatchObject({
      lowBatteryPercent: 50,
      batteryClearPercent: 52,
    });
    const odd = site({
      bjorn: plan({ technical: { lowBatteryPercent: 99, batteryClearPercent: 100 } }),
      cecilie: plan({ technical: { lowBatteryPercent: 60 } }),
    });
    expect(new RuleEngine(odd, { newId: ids() }).technicalSettingsOf('door-2')).toMatchObject({
      lowBatteryPercent: 99,
      batteryClearPercent: 100,
    });
  });

  it('checkSiteConfig refuses a clear level at or below the alarm level', () => {
    const config = site({ anna: plan({ technical: { lowBatteryPercent: 20, batteryClearPercent: 20 } }) });
    expect(checkSiteConfig(config)).toEqual({
      ok: false,
      errors: ['/residents/0/plan/technical: batteryClearPercent (20) must be above lowBatteryPercent (20)'],
    });
    expect(checkSiteConfig(site({ anna: plan({ technical: { lowBatteryPercent: 30 } }) })).ok).toBe(false);
  });
});
