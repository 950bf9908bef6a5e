/** The contracts between gateway, server and tablets: sensor events, alarms, commands and the outbox. */
import { describe, expect, it } from 'vitest';
import { at, events, ids, site } from '../test/fixtures.js';
import { acknowledgeCommand, alarmDecision, resolveCommand } from './alarm.js';
import { RuleEngine } from './rules/engine.js';
import { sensorEvent } from './sensor-event.js';
import { MAX_BATCH_ITEMS, outboxItem } from './socket-events.js';

describe('SensorEvent', () => {
  it('accepts the events the fixtures build (as the native adapter does)', () => {
    const ev = events();
    for (const event of [ev.door('door-1', true, 0), ev.bed('bed-1', false, 0), ev.availability('bed-1', false, 0)]) {
      expect(sensorEvent.check(event)).toEqual({ ok: true, value: event });
    }
  });

  it('rejects an unknown format, an unknown field and a missing id', () => {
    const event = events().door('door-1', true, 0);
    expect(sensorEvent.check({ ...event, format: 'homie' }).ok).toBe(false);
    expect(sensorEvent.check({ ...event, contact: false })).toEqual({ ok: false, errors: ['/contact: Unexpected property'] });
    const { id: _id, ...withoutId } = event;
    expect(sensorEvent.check(withoutId)).toEqual({ ok: false, errors: ['/id: Expected required property', '/id: Expected string'] });
  });
});

describe('AlarmDecision and ConditionCleared', () => {
  it('what the rule engine decides travels as valid outbox items', () => {
    const engine = new RuleEngine(site(), { newId: ids() });
    const ev = events();
    const raised = engine.onEvent(ev.door('door-1', true, at('2026-11-25T03:10')), at('2026-11-25T03:10')).raised;
    const cleared = engine.onEvent(ev.door('door-1', false, at('2026-11-25T03:11')), at('2026-11-25T03:11')).cleared;
    expect(raised).toHaveLength(1);
    expect(cleared).toHaveLength(1);
    for (const alarm of raised) {
      expect(alarmDecision.check(alarm).ok).toBe(true);
      expect(outboxItem.check({ type: 'alarm', alarm }).ok).toBe(true);
    }
    for (const c of cleared) expect(outboxItem.check({ type: 'cleared', cleared: c }).ok).toBe(true);
    expect(outboxItem.check({ type: 'event', event: ev.door('door-1', true, 0) }).ok).toBe(true);
  });

  it('rejects an outbox item of an unknown type or with the wrong body', () => {
    expect(outboxItem.check({ type: 'ping' })).toEqual({ ok: false, errors: ['/type: Expected one of "event", "alarm", "cleared"'] });
    expect(outboxItem.check({ type: 'cleared', cleared: { alarmId: '' } }).ok).toBe(false);
    expect(MAX_BATCH_ITEMS).toBe(500);
  });
});

describe('staff commands', () => {
  it('accepts acknowledge and resolve', () => {
    expect(acknowledgeCommand.check({ alarmId: 'a1', by: 'Kari' }).ok).toBe(true);
    expect(resolveCommand.check({ alarmId: 'a1', by: 'Kari', outcome: 'back-by-themselves' }).ok).toBe(true);
    expect(resolveCommand.check({ alarmId: 'a1', by: 'Kari', outcome: 'assisted', note: 'Fulgt tilbake til sengen' }).ok).toBe(true);
  });

  it('rejects an empty name, an unknown outcome and a long note', () => {
    expect(acknowledgeCommand.check({ alarmId: 'a1', by: '' }).ok).toBe(false);
    expect(resolveCommand.check({ alarmId: 'a1', by: 'Kari', outcome: 'fine' })).toEqual({
      ok: false,
      errors: ['/outcome: Expected one of "assisted", "back-by-themselves", "false-alarm", "other"'],
    });
    expect(resolveCommand.check({ alarmId: 'a1', by: 'Kari', outcome: 'other', note: 'x'.repeat(501) }).ok).toBe(false);
  });
});
