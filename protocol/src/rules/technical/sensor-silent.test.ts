import { describe, expect, it } from 'vitest';
import { at, events, ids, local, plan, site, withEmptyRoom } from '../../../test/fixtures.js';
import { alarmDecision } from '../../alarm.js';
import type { SiteConfig } from '../../site-config.js';
import { RuleEngine } from '../engine.js';

const setup = (config: SiteConfig = site()) => ({
  engine: new RuleEngine(config, { newId: ids(), rules: ['sensor-silent'] }),
  ev: events(),
});
const deadlineOf = (engine: RuleEngine, sensorId: string) => engine.deadlines().find((d) => d.sensorId === sensorId)?.at ?? null;

describe('sensor-silent', () => {
  it('limits follow the risk: 15 min for a wanderer’s door, 60 for a fall-risk bed, 180 otherwise; the plan may set its own', () => {
    const { engine } = setup(
      withEmptyRoom(
        site({
          anna: plan({ technical: { silentMinutes: 30 } }),
          bjorn: plan({ rules: { doorOpenAtNight: { enabled: false, priority: 'high' } } }),
          cecilie: plan({ armed: false }),
        }),
      ),
    );
    const silent = (id: string) => engine.technicalSettingsOf(id)?.silentMinutes;
    expect([silent('door-1'), silent('bed-1')]).toEqual([30, 30]);
    // door-2 is shared by Bjørn (door rule off) and Cecilie (unarmed): nobody at risk.
    expect([silent('door-2'), silent('bed-2'), silent('door-3')]).toEqual([180, 60, 180]);
    const defaults = setup(withEmptyRoom(site()));
    expect(['door-1', 'bed-1', 'door-2', 'bed-2', 'door-3'].map((id) => defaults.engine.technicalSettingsOf(id)?.silentMinutes)).toEqual([
      15, 60, 15, 60, 180,
    ]);
  });

  it('forgiveSilence: after a skip of simulated time, silence counts again from the end of the skip', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.door('door-1', false, at('2026-11-25T06:55')), at('2026-11-25T06:55'));
    engine.forgiveSilence(at('2026-11-25T22:00'));
    expect(engine.onTick(at('2026-11-25T22:00')).raised).toEqual([]);
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T22:15:00+01:00');
    expect(engine.onTick(at('2026-11-25T22:15')).raised.map((a) => a.sensorId)).toContain('door-1');
  });

  it('a sensor never heard counts from the first time the engine saw: a dead door sensor is caught 15 minutes after start', () => {
    const { engine } = setup();
    expect(engine.nextDeadline()).toBeNull(); // no time seen yet
    engine.onTick(at('2026-11-25T02:00'));
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T02:15:00+01:00');
    expect(local(deadlineOf(engine, 'bed-1'))).toBe('2026-11-25T03:00:00+01:00');
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:15:00+01:00');
    expect(engine.onTick(at('2026-11-25T02:15') - 1).raised).toEqual([]);
    const out = engine.onTick(at('2026-11-25T02:15'));
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'door-1',
        rule: 'sensor-silent',
        priority: 'technical',
        raisedAt: '2026-11-25T01:15:00.000Z',
        decidedAt: '2026-11-25T01:15:00.000Z',
        evidence: { eventIds: [], since: '2026-11-25T01:00:00.000Z', setting: { minutes: 15 }, sensorKind: 'door' },
      },
      expect.objectContaining({ id: 'a2', sensorId: 'door-2', residentId: 'bjorn' }),
    ]);
    expect(alarmDecision.check(out.raised[0]).ok).toBe(true);
    expect(deadlineOf(engine, 'door-1')).toBeNull();
  });

  it('a heard sensor is due its limit after the last message; each message moves it; the next message clears the alarm', () => {
    const { engine, ev } = setup();
    const first = ev.door('door-1', false, at('2026-11-25T02:00'));
    engine.onEvent(first, at('2026-11-25T02:00'));
    engine.onEvent(ev.door('door-1', false, at('2026-11-25T02:10')), at('2026-11-25T02:10'));
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T02:25:00+01:00');
    const [alarm] = engine.onTick(at('2026-11-25T02:25')).raised.filter((a) => a.sensorId === 'door-1');
    expect(alarm?.evidence).toMatchObject({ since: '2026-11-25T01:10:00.000Z', eventIds: ['e2'] });
    const back = ev.door('door-1', false, at('2026-11-25T02:40'));
    const out = engine.onEvent(back, at('2026-11-25T02:40'));
    expect(out.cleared).toEqual([{ alarmId: alarm?.id, siteId: 'demo', clearedAt: '2026-11-25T01:40:00.000Z', eventId: back.id }]);
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T02:55:00+01:00');
  });

  it('an availability "online" counts as heard; while the sensor is reported offline, silence is not counted', () => {
    const { engine, ev } = setup();
    engine.onEvent(ev.availability('door-1', true, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T02:15:00+01:00');
    const offline = engine.onEvent(ev.availability('door-1', false, at('2026-11-25T02:05')), at('2026-11-25T02:05'));
    expect(offline.cleared).toEqual([]);
    expect(deadlineOf(engine, 'door-1')).toBeNull();
    expect(engine.onTick(at('2026-11-25T04:00')).raised.filter((a) => a.sensorId === 'door-1')).toEqual([]);
    engine.onEvent(ev.availability('door-1', true, at('2026-11-25T04:10')), at('2026-11-25T04:10'));
    expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-11-25T04:25:00+01:00');
  });

  it('a sensor in a room without residents names no resident', () => {
    const { engine } = setup(withEmptyRoom(site()));
    engine.onTick(at('2026-11-25T02:00'));
    const [alarm] = engine.onTick(at('2026-11-25T05:00')).raised.filter((a) => a.sensorId === 'door-3');
    expect(alarm).toMatchObject({ roomId: 'r103', rule: 'sensor-silent', priority: 'technical' });
    expect(alarm && 'residentId' in alarm).toBe(false);
    expect(alarmDecision.check(alarm).ok).toBe(true);
  });

  it('a sensor added later is watched from the next call; until then it asks for a tick at once', () => {
    const { engine } = setup();
    engine.onTick(at('2026-11-25T02:00'));
    engine.setConfig(withEmptyRoom(site()));
    expect(deadlineOf(engine, 'door-3')).toBe(at('2026-11-25T02:00')); // in the past: "tick now"
    engine.onTick(at('2026-11-25T02:01'));
    expect(local(deadlineOf(engine, 'door-3'))).toBe('2026-11-25T05:01:00+01:00');
    engine.setConfig(site());
    expect(engine.sensorStateOf('door-3')).toBeUndefined();
  });

  describe('daylight saving time in Europe/Oslo', () => {
    it('spring forward: heard at 01:50 winter time, silent 15 real minutes later at 03:05 summer time', () => {
      const { engine, ev } = setup();
      const heard = at('2026-03-29T01:50:00+01:00');
      engine.onEvent(ev.door('door-1', false, heard), heard);
      expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-03-29T03:05:00+02:00');
      expect(engine.onTick(heard + 15 * 60_000).raised.map((a) => a.sensorId)).toContain('door-1');
    });

    it('fall back: heard at 02:50 summer time, silent 15 real minutes later at 02:05 winter time', () => {
      const { engine, ev } = setup();
      const heard = at('2026-10-25T02:50:00+02:00');
      engine.onEvent(ev.door('door-1', false, heard), heard);
      expect(local(deadlineOf(engine, 'door-1'))).toBe('2026-10-25T02:05:00+01:00');
    });
  });
});
