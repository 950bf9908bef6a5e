import { availabilityPayload, type BedStatePayload, type DoorStatePayload, sensorStatePayload } from '@nattevakt/protocol/sensor-payloads';
import { parseNativeTopic } from '@nattevakt/protocol/topics';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { planNight } from '../src/behaviour/plan-night.js';
import { demoWard } from '../src/demo-ward.js';
import type { ScheduledMessage } from '../src/scheduled-message.js';

const ward = demoWard();
const zone = ward.site.timezone;
const fullNight = { night: '2026-11-24', from: '22:00', to: '07:00' };
const local = (at: number) => DateTime.fromMillis(at, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');

const stateOf = (messages: ScheduledMessage[], sensorId: string) =>
  messages.filter((m) => m.topic === `nattevakt/v1/demo/sensors/${sensorId}/state`).map((m) => ({ at: m.at, payload: m.payload }));

/** The state changes of one sensor (repeated reports of the same state left out). */
function changesOf(messages: ScheduledMessage[], sensorId: string) {
  const changes: { at: number; value: boolean }[] = [];
  for (const { at, payload } of stateOf(messages, sensorId)) {
    const value = 'occupied' in payload ? (payload as BedStatePayload).occupied : (payload as DoorStatePayload).open;
    if (changes.at(-1)?.value !== value) changes.push({ at, value });
  }
  return changes;
}

/** Times out of bed longer than a turn-over (a minute or more), counted from the bed mat's changes. */
function bedExits(messages: ScheduledMessage[], sensorId: string): number {
  const changes = changesOf(messages, sensorId);
  let exits = 0;
  changes.forEach((change, i) => {
    const next = changes[i + 1];
    if (!change.value && next?.value === true && next.at - change.at >= 60_000) exits++;
  });
  return exits;
}

describe('planNight', () => {
  it('is deterministic: the same seed plans the same night', () => {
    expect(planNight(ward, { seed: 7, ...fullNight })).toEqual(planNight(ward, { seed: 7, ...fullNight }));
  });

  it('plans a different night for a different seed', () => {
    const a = planNight(ward, { seed: 7, ...fullNight });
    const b = planNight(ward, { seed: 8, ...fullNight });
    expect(a).not.toEqual(b);
  });

  it('sorts the messages by time and keeps them inside [from, to)', () => {
    const messages = planNight(ward, { seed: 3, ...fullNight });
    const from = DateTime.fromISO('2026-11-24T22:00', { zone }).toMillis();
    const to = DateTime.fromISO('2026-11-25T07:00', { zone }).toMillis();
    for (let i = 1; i < messages.length; i++) expect(messages[i]?.at).toBeGreaterThanOrEqual(messages[i - 1]?.at ?? 0);
    expect(messages[0]?.at).toBe(from);
    expect(messages.at(-1)?.at).toBeLessThan(to);
  });

  it('starts with every sensor online (retained) and in its current state', () => {
    const messages = planNight(ward, { seed: 3, night: '2026-11-24', from: '02:50', to: '07:00' });
    const from = messages[0]?.at;
    const initial = messages.filter((m) => m.at === from);
    expect(initial).toHaveLength(ward.sensors.length * 2);
    for (const sensor of ward.sensors) {
      const availability = initial.find((m) => m.topic === `nattevakt/v1/demo/sensors/${sensor.id}/availability`);
      expect(availability).toMatchObject({ payload: { state: 'online' }, retain: true });
      const state = initial.find((m) => m.topic === `nattevakt/v1/demo/sensors/${sensor.id}/state`);
      expect(state?.payload).toMatchObject(sensor.kind === 'door' ? { kind: 'door', open: false } : { kind: 'bed' });
      expect(initial.indexOf(availability as ScheduledMessage)).toBeLessThan(initial.indexOf(state as ScheduledMessage));
    }
    // At 02:50 on an ordinary night nearly everyone is asleep.
    const inBed = initial.filter((m) => (m.payload as BedStatePayload).occupied === true);
    expect(inBed.length).toBeGreaterThanOrEqual(20);
  });

  it('always has room 7 walk out at 03:10 and room 12 lie out of bed for 45 minutes from 03:30', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const messages = planNight(ward, { seed, ...fullNight });
      const door7 = changesOf(messages, 'door-7');
      const opened = door7.find((c) => c.value && local(c.at) === '2026-11-25 03:10:00');
      expect(opened, `seed ${seed}`).toBeDefined();
      const closed = door7.find((c) => !c.value && c.at > (opened?.at ?? 0));
      expect((closed?.at ?? 0) - (opened?.at ?? 0)).toBeGreaterThan(30_000);
      expect((closed?.at ?? 0) - (opened?.at ?? 0)).toBeLessThanOrEqual(2 * 60_000);

      const bed7 = changesOf(messages, 'bed-7');
      const left7 = bed7.find((c) => !c.value && local(c.at) === '2026-11-25 03:08:00');
      const back7 = bed7.find((c) => c.value && c.at > (left7?.at ?? 0));
      expect(left7, `seed ${seed}`).toBeDefined();
      expect(local(back7?.at ?? 0)).toBe('2026-11-25 03:40:00');

      const bed12 = changesOf(messages, 'bed-12');
      const fell = bed12.find((c) => !c.value && local(c.at) === '2026-11-25 03:30:00');
      const back12 = bed12.find((c) => c.value && c.at > (fell?.at ?? 0));
      expect(fell, `seed ${seed}`).toBeDefined();
      expect((back12?.at ?? 0) - (fell?.at ?? 0)).toBeGreaterThanOrEqual(20 * 60_000);
      expect((back12?.at ?? 0) - (fell?.at ?? 0)).toBe(45 * 60_000);
      // The door of the fall room stays shut while the resident lies on the floor.
      expect(changesOf(messages, 'door-12').filter((c) => c.at > (fell?.at ?? 0) && c.at < (back12?.at ?? 0))).toEqual([]);
    }
  });

  it('notes the scripted events for the operator log', () => {
    const notes = planNight(ward, { seed: 7, ...fullNight }).filter((m) => m.note !== undefined);
    expect(notes.map((m) => `${local(m.at).slice(11, 16)} ${m.note}`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^03:10 Rom 7: døren åpnes/), expect.stringMatching(/^03:30 Rom 12: .* faller/)]),
    );
  });

  it('leaves the scripted events out when their moment lies outside [from, to) or the room does not exist', () => {
    const early = planNight(ward, { seed: 7, night: '2026-11-24', from: '22:00', to: '03:10' });
    expect(early.some((m) => m.note?.startsWith('Rom 7: døren'))).toBe(false);
    const late = planNight(ward, { seed: 7, night: '2026-11-24', from: '03:31', to: '07:00' });
    expect(late.some((m) => m.note?.startsWith('Rom 12'))).toBe(false);
    expect(late.some((m) => m.note?.startsWith('Rom 7'))).toBe(false);
    const small = planNight(demoWard({ residents: 5 }), { seed: 7, ...fullNight });
    expect(small.some((m) => m.note?.includes('03:10') || m.topic.includes('-7/') || m.topic.includes('-12/'))).toBe(false);
  });

  it('plays the same events in a part of the night as in the whole night', () => {
    const whole = planNight(ward, { seed: 5, ...fullNight });
    const part = planNight(ward, { seed: 5, night: '2026-11-24', from: '02:50', to: '07:00' });
    const start = part[0]?.at ?? 0;
    for (const sensor of ['bed-2', 'bed-7', 'bed-12', 'door-7', 'bed-18']) {
      expect(changesOf(part, sensor).slice(1)).toEqual(changesOf(whole, sensor).filter((c) => c.at > start));
    }
  });

  it('makes a restless resident leave the bed more often than a calm one, over 100 nights', () => {
    const pair = demoWard({ residents: 2 });
    let calm = 0;
    let restless = 0;
    for (let seed = 0; seed < 100; seed++) {
      const messages = planNight(pair, { seed, ...fullNight, profiles: { 'res-1': 'calm', 'res-2': 'restless' } });
      calm += bedExits(messages, 'bed-1');
      restless += bedExits(messages, 'bed-2');
    }
    expect(calm).toBeGreaterThan(0);
    expect(restless).toBeGreaterThan(calm * 2);
  });

  it('keeps an ordinary night below the out-of-bed threshold for everyone but the scripted residents', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const messages = planNight(ward, { seed, night: '2026-11-24', from: '23:00', to: '06:30' });
      for (const sensor of ward.sensors.filter((s) => s.kind === 'bed' && s.id !== 'bed-7' && s.id !== 'bed-12')) {
        const changes = changesOf(messages, sensor.id);
        // From the first change on: still up at 23:00 is a late evening, not a time out of bed.
        changes.forEach((change, i) => {
          const next = changes[i + 1];
          if (i > 0 && !change.value && next !== undefined)
            expect(next.at - change.at, `seed ${seed} ${sensor.id}`).toBeLessThan(20 * 60_000);
        });
      }
    }
  });

  it('speaks the native wire format: every topic parses and every payload passes the protocol validators', () => {
    for (const seed of [1, 2, 3]) {
      for (const message of planNight(ward, { seed, ...fullNight })) {
        const topic = parseNativeTopic(message.topic);
        expect(topic, message.topic).not.toBeNull();
        expect(topic?.siteId).toBe('demo');
        if (topic?.kind === 'availability')
          expect(availabilityPayload.check(message.payload)).toEqual({ ok: true, value: message.payload });
        else if (topic?.kind === 'state') {
          expect(sensorStatePayload.check(message.payload)).toEqual({ ok: true, value: message.payload });
          const payload = message.payload as BedStatePayload;
          expect(payload.time).toBe(new Date(message.at).toISOString());
          expect(payload.battery).toBeGreaterThan(0);
          expect(payload.linkquality).toBeGreaterThanOrEqual(0);
        } else expect.fail(`unexpected topic ${message.topic}`);
      }
    }
  });

  it('drains batteries slowly, never upwards', () => {
    const messages = planNight(ward, { seed: 1, ...fullNight });
    for (const sensor of ward.sensors) {
      const levels = stateOf(messages, sensor.id).map((m) => (m.payload as BedStatePayload).battery ?? 0);
      for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeLessThanOrEqual(levels[i - 1] ?? 0);
      expect((levels[0] ?? 0) - (levels.at(-1) ?? 0)).toBeLessThanOrEqual(2);
    }
  });

  it.each([
    ['2026-10-24', 10], // autumn: 02:00–03:00 happens twice, the night is an hour longer
    ['2026-03-28', 8], // spring: 02:00–03:00 does not exist
  ])('handles the DST night from %s in Europe/Oslo', (night, hours) => {
    const messages = planNight(ward, { seed: 11, night, from: '22:00', to: '07:00' });
    for (let i = 1; i < messages.length; i++) expect(messages[i]?.at).toBeGreaterThanOrEqual(messages[i - 1]?.at ?? 0);
    expect(((messages.at(-1)?.at ?? 0) - (messages[0]?.at ?? 0)) / 3_600_000).toBeCloseTo(hours, 0);
    for (const sensor of ward.sensors) {
      const changes = changesOf(messages, sensor.id);
      for (let i = 1; i < changes.length; i++) expect(changes[i]?.at).toBeGreaterThan(changes[i - 1]?.at ?? 0);
    }
    const doorOpens = messages.find((m) => m.note?.startsWith('Rom 7: døren åpnes'));
    expect(DateTime.fromMillis(doorOpens?.at ?? 0, { zone }).toFormat('HH:mm')).toBe('03:10');
  });

  it('refuses a span that ends before it starts, a bad seed and a bad date', () => {
    expect(() => planNight(ward, { seed: 1, night: '2026-11-24', from: '07:00', to: '22:00' })).toThrow(/must come after/);
    expect(() => planNight(ward, { seed: 1.5, ...fullNight })).toThrow(/seed/);
    expect(() => planNight(ward, { seed: 1, ...fullNight, night: '24.11.2026' })).toThrow(/YYYY-MM-DD/);
    expect(() => planNight(ward, { seed: 1, ...fullNight, from: '2200' })).toThrow(/HH:MM/);
  });
});
