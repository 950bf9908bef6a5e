import { describe, expect, it } from 'vitest';
import { at, events, ids, LEGACY_RULES, local, plan, site } from '../../test/fixtures.js';
import type { SensorEvent } from '../sensor-event.js';
import type { SiteConfig } from '../site-config.js';
import { RuleEngine, type RuleOutput } from './engine.js';

describe('RuleEngine', () => {
  it('exposes its configuration, sensors and the residents each sensor watches', () => {
    const config = site();
    const engine = new RuleEngine(config, { newId: ids(), rules: LEGACY_RULES });
    expect(engine.config).toBe(config);
    expect(engine.sensor('door-2')).toEqual({ id: 'door-2', kind: 'door', roomId: 'r102' });
    expect(engine.sensor('nope')).toBeUndefined();
    const watched = (sensorId: string) => {
      const sensor = engine.sensor(sensorId);
      return sensor === undefined ? [] : engine.residentsOf(sensor).map((r) => r.id);
    };
    expect(watched('door-1')).toEqual(['anna']);
    expect(watched('bed-2')).toEqual(['bjorn']);
    expect(watched('door-2')).toEqual(['bjorn', 'cecilie']);
    expect(engine.stateOf('anna')).toEqual({
      bed: { occupied: null, since: null, eventId: null, sensorId: null },
      door: { open: null, since: null, eventId: null, sensorId: null },
      open: new Map(),
      notInBedByFrom: null,
    });
    expect(engine.stateOf('nobody')).toBeUndefined();
  });

  it('remembers when each sensor was last heard, by which event; an "offline" is not hearing it; a skip forgets it', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    const first = ev.door('door-1', false, at('2026-11-25T03:10'));
    engine.onEvent(first, at('2026-11-25T03:10'));
    expect(engine.sensorStateOf('door-1')?.heard).toEqual({ at: at('2026-11-25T03:10'), eventId: first.id });
    const second = ev.door('door-1', false, at('2026-11-25T03:11'));
    engine.onEvent(second, at('2026-11-25T03:11'));
    engine.onEvent(ev.availability('door-1', false, at('2026-11-25T03:12')), at('2026-11-25T03:12'));
    expect(engine.sensorStateOf('door-1')?.heard).toEqual({ at: at('2026-11-25T03:11'), eventId: second.id });
    expect(engine.sensorStateOf('door-2')?.heard).toBeNull();
    engine.forgiveSilence(at('2026-11-25T05:00'));
    expect(engine.sensorStateOf('door-1')?.heard).toBeNull();
    const third = ev.door('door-1', true, at('2026-11-25T05:01'));
    engine.onEvent(third, at('2026-11-25T05:01'));
    expect(engine.sensorStateOf('door-1')?.heard).toEqual({ at: at('2026-11-25T05:01'), eventId: third.id });
  });

  it('ignores events from a sensor that is not in the configuration', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    expect(engine.onEvent({ ...ev.door('door-1', true, at('2026-11-25T03:10')), sensorId: 'door-99' }, at('2026-11-25T03:10'))).toEqual({
      raised: [],
      cleared: [],
    });
  });

  it('a resident-bound sensor touches only its resident', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    engine.onEvent(ev.bed('bed-2', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
    expect(engine.stateOf('bjorn')?.bed.occupied).toBe(false);
    expect(engine.stateOf('cecilie')?.bed.occupied).toBeNull();
    const out = engine.onTick(at('2026-11-25T02:20'));
    expect(out.raised.map((a) => [a.residentId, a.sensorId, a.roomId])).toEqual([['bjorn', 'bed-2', 'r102']]);
  });

  it('records the state it decided on: value, since (site clock), event and sensor', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    const open = ev.door('door-1', true, at('2026-11-25T14:00'));
    engine.onEvent(open, at('2026-11-25T14:00:05'));
    expect(engine.stateOf('anna')?.door).toEqual({ open: true, since: at('2026-11-25T14:00:05'), eventId: open.id, sensorId: 'door-1' });
  });

  it('stamps decidedAt from the injected wall clock and raisedAt from the site clock', () => {
    const engine = new RuleEngine(site(), { rules: LEGACY_RULES, newId: ids(), wallClock: () => Date.UTC(2030, 0, 1) });
    const ev = events();
    const [alarm] = engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised;
    expect(alarm?.raisedAt).toBe('2026-11-25T02:10:00.000Z');
    expect(alarm?.decidedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('raises one alarm per rule and resident until the condition clears', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10'));
    // Even if the door state were lost (say restored from an older snapshot), the open alarm
    // stops a duplicate for the same condition.
    const state = engine.stateOf('anna');
    if (state) state.door.open = null;
    expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:11')), at('2026-11-25T03:11')).raised).toEqual([]);
    expect(state?.open.get('door-open-at-night')).toEqual({ alarmId: 'a1', sensorId: 'door-1' });
  });

  it('both rules can be open at once for the same resident, and clear independently', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T03:00')), at('2026-11-25T03:00'));
    const door = engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:05')), at('2026-11-25T03:05'));
    const bed = engine.onTick(at('2026-11-25T03:20'));
    expect([...door.raised, ...bed.raised].map((a) => [a.id, a.rule])).toEqual([
      ['a1', 'door-open-at-night'],
      ['a2', 'out-of-bed-too-long'],
    ]);
    expect(engine.onEvent(ev.door('door-1', false, at('2026-11-25T03:25')), at('2026-11-25T03:25')).cleared.map((c) => c.alarmId)).toEqual([
      'a1',
    ]);
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T03:30')), at('2026-11-25T03:30')).cleared.map((c) => c.alarmId)).toEqual([
      'a2',
    ]);
  });

  it('nextDeadline is the earliest deadline over all residents', () => {
    const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
    const ev = events();
    engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:10')), at('2026-11-25T02:10'));
    engine.onEvent(ev.bed('bed-2', false, at('2026-11-25T02:05')), at('2026-11-25T02:05'));
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:25:00+01:00');
    expect(engine.onTick(at('2026-11-25T02:25')).raised.map((a) => a.residentId)).toEqual(['bjorn']);
    expect(local(engine.nextDeadline())).toBe('2026-11-25T02:30:00+01:00');
  });

  describe('setConfig', () => {
    it('keeps the state and open alarms of residents still present', () => {
      const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
      const ev = events();
      engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
      engine.onEvent(ev.door('door-2', true, at('2026-11-25T02:01')), at('2026-11-25T02:01'));
      const anna = engine.stateOf('anna');

      // A new plan for Anna (threshold 30) and Cecilie moved out.
      const next = site({ anna: plan({ rules: { outOfBedTooLong: { enabled: true, minutes: 30, priority: 'high' } } }) });
      next.residents = next.residents.filter((r) => r.id !== 'cecilie');
      engine.setConfig(next);

      expect(engine.config).toBe(next);
      expect(engine.stateOf('anna')).toBe(anna);
      expect(engine.stateOf('cecilie')).toBeUndefined();
      expect(local(engine.nextDeadline())).toBe('2026-11-25T02:30:00+01:00'); // the new threshold, the old departure
      // Bjørn's open door alarm survived and clears with its original id; Cecilie's is gone with her.
      expect(
        engine.onEvent(ev.door('door-2', false, at('2026-11-25T02:02')), at('2026-11-25T02:02')).cleared.map((c) => c.alarmId),
      ).toEqual(['a1']);
      const [alarm] = engine.onTick(at('2026-11-25T02:30')).raised;
      expect([alarm?.id, alarm?.priority, alarm?.evidence.thresholdMinutes]).toEqual(['a3', 'high', 30]);
    });

    it('starts new residents with an unknown state and forgets removed sensors', () => {
      const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
      const ev = events();
      const next: SiteConfig = structuredClone(site());
      next.rooms.push({ id: 'r103', name: 'Rom 103' });
      next.residents.push({ id: 'dagny', name: 'Dagny', roomId: 'r103', plan: plan() });
      next.sensors = next.sensors.filter((s) => s.id !== 'door-1');
      engine.setConfig(next);
      expect(engine.stateOf('dagny')?.door.open).toBeNull();
      expect(engine.sensor('door-1')).toBeUndefined();
      expect(engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised).toEqual([]);
    });

    it('a resident removed and added again starts from scratch', () => {
      const engine = new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES });
      const ev = events();
      engine.onEvent(ev.bed('bed-1', false, at('2026-11-25T02:00')), at('2026-11-25T02:00'));
      const without = site();
      without.residents = without.residents.filter((r) => r.id !== 'anna');
      without.sensors = without.sensors.filter((s) => s.residentId !== 'anna');
      engine.setConfig(without);
      engine.setConfig(site());
      expect(engine.stateOf('anna')?.bed.occupied).toBeNull();
      expect(engine.nextDeadline()).toBeNull();
    });
  });

  it('is deterministic: the same events and ids give identical outputs', () => {
    const night = (engine: RuleEngine): RuleOutput[] => {
      const ev = events();
      const outputs: RuleOutput[] = [];
      const feed = (event: SensorEvent, now: number) => outputs.push(engine.onEvent(event, now));
      feed(ev.door('door-2', true, at('2026-11-25T21:00')), at('2026-11-25T21:00'));
      feed(ev.door('door-2', false, at('2026-11-25T21:01')), at('2026-11-25T21:01'));
      feed(ev.bed('bed-1', false, at('2026-11-25T23:10')), at('2026-11-25T23:10'));
      feed(ev.door('door-1', true, at('2026-11-25T23:12')), at('2026-11-25T23:12'));
      outputs.push(engine.onTick(at('2026-11-25T23:30')));
      feed(ev.door('door-1', false, at('2026-11-25T23:31')), at('2026-11-25T23:31'));
      feed(ev.bed('bed-1', true, at('2026-11-25T23:40')), at('2026-11-25T23:40'));
      feed(ev.door('door-2', true, at('2026-11-26T03:10')), at('2026-11-26T03:10'));
      feed(ev.bed('bed-2', false, at('2026-11-26T03:11')), at('2026-11-26T03:11'));
      outputs.push(engine.onTick(at('2026-11-26T04:00')));
      return outputs;
    };
    const a = night(new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES }));
    const b = night(new RuleEngine(site(), { newId: ids(), rules: LEGACY_RULES }));
    expect(a).toEqual(b);
    const raised = a.flatMap((o) => o.raised);
    expect(raised.map((r) => [r.id, r.rule, r.residentId])).toEqual([
      ['a1', 'door-open-at-night', 'anna'],
      ['a2', 'out-of-bed-too-long', 'anna'],
      ['a3', 'door-open-at-night', 'bjorn'],
      ['a4', 'door-open-at-night', 'cecilie'],
      ['a5', 'out-of-bed-too-long', 'bjorn'],
    ]);
    expect(a.flatMap((o) => o.cleared).map((c) => c.alarmId)).toEqual(['a1', 'a2']);
  });
});
