import { describe, expect, it } from 'vitest';
import { at, events, ids, site } from '../../../test/fixtures.js';
import { RuleEngine } from '../engine.js';

const setup = () => ({ engine: new RuleEngine(site(), { newId: ids(), rules: ['sensor-offline'] }), ev: events() });

describe('sensor-offline', () => {
  it('raised when the sensor is reported offline, once; cleared when it reports online again', () => {
    const { engine, ev } = setup();
    const offline = ev.availability('bed-1', false, at('2026-11-25T03:10'));
    const out = engine.onEvent(offline, at('2026-11-25T03:10'));
    expect(out.raised).toEqual([
      {
        id: 'a1',
        siteId: 'demo',
        residentId: 'anna',
        roomId: 'r101',
        sensorId: 'bed-1',
        rule: 'sensor-offline',
        priority: 'technical',
        raisedAt: '2026-11-25T02:10:00.000Z',
        decidedAt: '2026-11-25T02:10:00.000Z',
        evidence: { eventIds: [offline.id], since: '2026-11-25T02:10:00.000Z', sensorKind: 'bed' },
      },
    ]);
    // The retained message delivered again: no second alarm.
    expect(engine.onEvent(ev.availability('bed-1', false, at('2026-11-25T03:11')), at('2026-11-25T03:11')).raised).toEqual([]);
    // A state message without `online` (Zigbee2MQTT replays cached states) does not clear it.
    const cached = ev.with('bed-1', at('2026-11-25T03:12'), { occupied: true, online: undefined });
    delete cached.online;
    expect(engine.onEvent(cached, at('2026-11-25T03:12')).cleared).toEqual([]);
    const online = ev.availability('bed-1', true, at('2026-11-25T03:20'));
    expect(engine.onEvent(online, at('2026-11-25T03:20')).cleared).toEqual([
      { alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T02:20:00.000Z', eventId: online.id },
    ]);
    expect(engine.onEvent(ev.availability('bed-1', false, at('2026-11-25T04:00')), at('2026-11-25T04:00')).raised.map((a) => a.id)).toEqual(
      ['a2'],
    );
    // A native state message carries online: true and clears it too.
    expect(engine.onEvent(ev.bed('bed-1', true, at('2026-11-25T04:05')), at('2026-11-25T04:05')).cleared.map((c) => c.alarmId)).toEqual([
      'a2',
    ]);
  });

  it('a shared sensor names the first resident of its room', () => {
    const { engine, ev } = setup();
    expect(engine.onEvent(ev.availability('door-2', false, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised[0]?.residentId).toBe(
      'bjorn',
    );
  });
});
