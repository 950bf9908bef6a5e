import { CareRuleId, type RuleId } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { countByNight, replay, replayConfig, sumCounts } from './what-if.js';

const CARE = CareRuleId.anyOf.map((l) => l.const) as RuleId[];
const oslo = (date: string, time: string) => Date.parse(`${date}T${time}+01:00`);

const site: SiteConfig = {
  version: 1,
  site: { id: 'demo', name: 'Demo', timezone: 'Europe/Oslo' },
  rooms: [
    { id: 'room-1', name: 'Rom 1' },
    { id: 'room-2', name: 'Rom 2' },
  ],
  residents: [
    {
      id: 'res-1',
      name: 'Astrid',
      roomId: 'room-1',
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
          bedExit: { enabled: true, priority: 'high' },
          doorLeftOpen: { enabled: true, minutes: 5, priority: 'medium' },
          notInBedBy: { enabled: true, time: '23:00', priority: 'low' },
        },
      },
    },
    {
      id: 'res-2',
      name: 'Bjarne',
      roomId: 'room-2',
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: { doorOpenAtNight: { enabled: true, priority: 'high' }, outOfBedTooLong: { enabled: true, minutes: 1, priority: 'high' } },
      },
    },
  ],
  sensors: [
    { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
    { id: 'door-1', kind: 'door', roomId: 'room-1' },
    { id: 'bed-2', kind: 'bed', roomId: 'room-2', residentId: 'res-2' },
  ],
};

let n = 0;
const ev = (sensorId: string, time: number, value: boolean | undefined, extra: Partial<SensorEvent> = {}): SensorEvent => ({
  id: `e${++n}`,
  siteId: 'demo',
  sensorId,
  sensorKind: sensorId.startsWith('bed') ? 'bed' : 'door',
  roomId: sensorId.endsWith('2') ? 'room-2' : 'room-1',
  time: new Date(time).toISOString(),
  ...(value === undefined ? {} : sensorId.startsWith('bed') ? { occupied: value } : { open: value }),
  online: true,
  format: 'native',
  raw: '',
  ...extra,
});

/** A noisy night: heartbeats every 5 minutes, a bouncing mat, repeated door messages, a battery report, Bjarne out of bed. */
function noisyNight(): SensorEvent[] {
  const events: SensorEvent[] = [];
  const from = oslo('2026-11-24', '12:00');
  const state = (t: number) => {
    const inBed =
      (t >= oslo('2026-11-24', '23:20') && t < oslo('2026-11-25', '02:00')) ||
      (t >= oslo('2026-11-25', '02:45') && t < oslo('2026-11-25', '06:30'));
    const doorOpen = t >= oslo('2026-11-25', '02:10') && t < oslo('2026-11-25', '02:30');
    return { inBed, doorOpen };
  };
  for (let t = from; t < oslo('2026-11-25', '12:00'); t += 5 * 60_000) {
    const { inBed, doorOpen } = state(t);
    events.push(ev('bed-1', t, inBed), ev('door-1', t + 1000, doorOpen), ev('bed-2', t + 2000, true));
  }
  // Bounces shorter than the grace, and a message without a state.
  events.push(ev('bed-1', oslo('2026-11-25', '01:00') + 3000, false), ev('bed-1', oslo('2026-11-25', '01:00') + 9000, true));
  events.push(ev('bed-1', oslo('2026-11-25', '04:00') + 3000, undefined, { battery: 40 }));
  events.push(ev('bed-2', oslo('2026-11-25', '03:00') + 4000, false), ev('bed-2', oslo('2026-11-25', '03:20') + 4000, true));
  return events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

describe('replay', () => {
  const range = { from: oslo('2026-11-24', '12:00'), countFrom: oslo('2026-11-24', '12:00'), to: oslo('2026-11-25', '12:00') };

  it('raises on a care-only replay (heartbeats skipped) exactly the care alarms of a full replay', () => {
    const events = noisyNight();
    const cfg = replayConfig(site, 'res-1', site.residents[0]?.plan as SiteConfig['residents'][number]['plan']);
    const careOnly = replay(cfg, 'res-1', events, range, CARE).map((a) => [a.rule, a.raisedAt]);
    const full = replay(cfg, 'res-1', events, range)
      .filter((a) => CARE.includes(a.rule))
      .map((a) => [a.rule, a.raisedAt]);
    expect(careOnly).toEqual(full);
    const at = (date: string, time: string) => new Date(oslo(date, time)).toISOString();
    // Out of bed since noon, a 6-second bounce at 01:00 that is no exit, up 02:00–02:45 with the door open 02:10–02:30, up at 06:30.
    expect(careOnly).toEqual([
      ['out-of-bed-too-long', at('2026-11-24', '22:20')],
      ['not-in-bed-by', at('2026-11-24', '23:00')],
      ['bed-exit', at('2026-11-25', '02:00:30')],
      ['door-open-at-night', at('2026-11-25', '02:10:01')],
      ['door-left-open', at('2026-11-25', '02:15:01')],
      ['out-of-bed-too-long', at('2026-11-25', '02:20')],
      ['bed-exit', at('2026-11-25', '06:30:30')],
      ['out-of-bed-too-long', at('2026-11-25', '06:50')],
    ]);
  });

  it("replays only the resident's room and counts only the resident's alarms", () => {
    const cfg = replayConfig(site, 'res-1', site.residents[0]?.plan as SiteConfig['residents'][number]['plan']);
    expect(cfg.residents.map((r) => r.id)).toEqual(['res-1']);
    expect(cfg.sensors.map((s) => s.id)).toEqual(['bed-1', 'door-1']);
    const bjarne = replay(
      replayConfig(site, 'res-2', site.residents[1]?.plan as SiteConfig['residents'][number]['plan']),
      'res-2',
      noisyNight(),
      range,
      CARE,
    );
    expect(bjarne.map((a) => a.rule)).toEqual(['out-of-bed-too-long']);
  });

  it('counts alarms per night by their raise time on the site clock', () => {
    const counts = countByNight(
      [
        { raisedAt: new Date(oslo('2026-11-25', '11:59')).toISOString(), rule: 'bed-exit' },
        { raisedAt: new Date(oslo('2026-11-25', '12:00')).toISOString(), rule: 'bed-exit' },
        { raisedAt: new Date(oslo('2026-11-24', '23:00')).toISOString(), rule: 'not-in-bed-by' },
        { raisedAt: new Date(oslo('2026-11-20', '23:00')).toISOString(), rule: 'not-in-bed-by' },
      ],
      ['2026-11-24', '2026-11-25'],
      'Europe/Oslo',
    );
    expect(Object.fromEntries(counts)).toEqual({
      '2026-11-24': { total: 2, byRule: { 'bed-exit': 1, 'not-in-bed-by': 1 } },
      '2026-11-25': { total: 1, byRule: { 'bed-exit': 1 } },
    });
    expect(sumCounts([...counts.values()])).toEqual({ total: 3, byRule: { 'bed-exit': 2, 'not-in-bed-by': 1 } });
  });
});
