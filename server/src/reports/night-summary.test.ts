import type { NightAlarm } from '@nattevakt/protocol/night-summary';
import { nightWindowOf } from '@nattevakt/protocol/rules/nights';
import { describe, expect, it } from 'vitest';
import { type NightInput, type Reading, summariseNight } from './night-summary.js';
import { countWord, relativeText, spokenDuration } from './relative-text.js';

const ZONE = 'Europe/Oslo';
const local = (date: string, time: string) => {
  // Oslo is UTC+1 in November, UTC+2 from the last Sunday of March.
  const offset = date >= '2026-03-29' && date < '2026-10-25' ? '+02:00' : '+01:00';
  return Date.parse(`${date}T${time}:00${offset}`);
};
const r = (date: string, time: string, value: boolean): Reading => ({ time: local(date, time), value });

const input = (over: Partial<NightInput> = {}): NightInput => ({
  siteId: 'demo',
  residentId: 'res-1',
  night: '2026-11-24',
  timeZone: ZONE,
  localWindow: { start: '22:00', end: '07:00' },
  window: nightWindowOf('2026-11-24', { start: '22:00', end: '07:00' }, ZONE),
  graceMs: 30_000,
  bed: [],
  door: null,
  alarms: [],
  now: local('2026-11-25', '09:00'),
  ...over,
});

const alarm = (over: Partial<NightAlarm> = {}): NightAlarm => ({
  id: 'a1',
  rule: 'door-open-at-night',
  priority: 'high',
  raisedAt: new Date(local('2026-11-25', '03:13')).toISOString(),
  deliveredAfterMs: 300,
  responseMs: 40_000,
  outcome: 'back-by-themselves',
  status: 'resolved',
  ...over,
});

describe('summariseNight', () => {
  it('counts time in bed, one exit of six minutes, a turn-over inside the grace, and door openings', () => {
    const s = summariseNight(
      input({
        bed: [
          r('2026-11-24', '18:00', false),
          r('2026-11-24', '21:41', true),
          { time: local('2026-11-25', '01:00'), value: false },
          { time: local('2026-11-25', '01:00') + 10_000, value: true },
          r('2026-11-25', '03:12', false),
          r('2026-11-25', '03:18', true),
          r('2026-11-25', '07:10', false),
        ],
        door: [
          r('2026-11-25', '03:13', true),
          r('2026-11-25', '03:13', true),
          r('2026-11-25', '03:14', false),
          r('2026-11-25', '08:00', true),
        ],
        alarms: [alarm()],
      }),
    );
    expect(s).toMatchObject({
      complete: true,
      windowMinutes: 540,
      observedMinutes: 540,
      timeInBedMinutes: 534,
      inBedFrom: new Date(local('2026-11-24', '22:00')).toISOString(),
      bedExits: 1,
      longestOutOfBedMinutes: 6,
      doorOpenings: 1,
      verdict: 'calm',
    });
    expect(s.outOfBed).toEqual([
      {
        from: new Date(local('2026-11-25', '03:12')).toISOString(),
        to: new Date(local('2026-11-25', '03:18')).toISOString(),
        minutes: 6,
        backInBed: true,
      },
    ]);
    expect(s.reason.nb).toBe('Rolig natt: i seng 8 t 54 min av 9 t, oppe 1 gang (lengst 6 min), 1 alarm uten behov for hjelp.');
    expect(s.reason.en).toBe('Calm night: in bed 8 h 54 min of 9 h, up once (longest 6 min), 1 alarm without need of help.');
  });

  it('calls a night restless, and says why, when the resident was up often or long, or staff had to help', () => {
    const s = summariseNight(
      input({
        bed: [
          r('2026-11-24', '21:00', true),
          r('2026-11-24', '23:00', false),
          r('2026-11-24', '23:05', true),
          r('2026-11-25', '01:00', false),
          r('2026-11-25', '01:45', true),
          r('2026-11-25', '04:00', false),
          r('2026-11-25', '04:02', true),
        ],
        alarms: [alarm({ rule: 'out-of-bed-too-long', priority: 'medium', outcome: 'assisted' })],
      }),
    );
    expect(s.verdict).toBe('restless');
    expect(s.bedExits).toBe(3);
    expect(s.longestOutOfBedMinutes).toBe(45);
    expect(s.reason.nb).toBe(
      'Urolig natt: oppe 3 ganger (3 eller flere regnes som urolig); ute av sengen i 45 min på det lengste (grense 30 min); personalet måtte hjelpe etter én alarm.',
    );
    expect(s.reason.en).toContain('up 3 times (3 or more counts as restless)');
  });

  it('does not count the evening before the resident went to bed as an exit, but as time out of bed', () => {
    const s = summariseNight(input({ bed: [r('2026-11-24', '12:00', false), r('2026-11-25', '02:00', true)] }));
    expect(s).toMatchObject({ bedExits: 0, longestOutOfBedMinutes: 0, timeInBedMinutes: 300, verdict: 'restless' });
    expect(s.inBedFrom).toBe(new Date(local('2026-11-25', '02:00')).toISOString());
    expect(s.reason.nb).toContain('i seng bare 5 t av 9 t');
  });

  it('is unknown without bed data, and says whether there is no mat or the mat said nothing', () => {
    expect(summariseNight(input({ bed: null })).reason.nb).toBe('Ukjent: ingen sengematte er knyttet til beboeren.');
    const silent = summariseNight(input({ bed: [r('2026-11-25', '08:00', true)] }));
    expect(silent).toMatchObject({ verdict: 'unknown', timeInBedMinutes: null, bedExits: null, observedMinutes: 0, doorOpenings: null });
    expect(silent.reason.en).toBe('Unknown: the bed mat reported nothing in the night window.');
  });

  it('summarises a night under way up to now, marked incomplete', () => {
    const s = summariseNight(
      input({ bed: [r('2026-11-24', '21:00', true), r('2026-11-25', '01:00', false)], now: local('2026-11-25', '01:10') }),
    );
    expect(s).toMatchObject({ complete: false, timeInBedMinutes: 180, observedMinutes: 190, bedExits: 1, longestOutOfBedMinutes: 10 });
    expect(s.outOfBed[0]?.backInBed).toBe(false);
  });

  it('counts the 10-hour night when the clocks go back', () => {
    const window = nightWindowOf('2026-10-24', { start: '22:00', end: '07:00' }, ZONE);
    const s = summariseNight(
      input({ night: '2026-10-24', window, bed: [{ time: window.start - 60_000, value: true }], now: window.end + 3_600_000 }),
    );
    expect(s).toMatchObject({ windowMinutes: 600, timeInBedMinutes: 600, bedExits: 0 });
  });
});

describe('relative text', () => {
  const night = (bed: Reading[], alarms: NightAlarm[] = []) => summariseNight(input({ bed, alarms }));

  it('says last night in plain Norwegian and English, without staff or rules', () => {
    const text = relativeText(
      night([r('2026-11-24', '21:41', true), r('2026-11-25', '03:12', false), r('2026-11-25', '03:18', true)], [alarm()]),
    );
    expect(text.nb).toBe(
      'Sov rolig, var oppe én gang kl. 03:12 i seks minutter. Lå i sengen i åtte timer og 54 minutter. Nattevakten ble varslet én gang.',
    );
    expect(text.en).toBe(
      'Slept calmly, was up once at 03:12 for six minutes. Was in bed for eight hours and 54 minutes. The night staff were alerted once.',
    );
  });

  it('names the longest of several times up, and a night without getting up', () => {
    const several = relativeText(
      night([
        r('2026-11-24', '21:00', true),
        r('2026-11-24', '23:00', false),
        r('2026-11-24', '23:03', true),
        r('2026-11-25', '02:10', false),
        r('2026-11-25', '02:24', true),
      ]),
    );
    expect(several.nb).toBe('Sov rolig, var oppe to ganger, lengst kl. 02:10 i 14 minutter. Lå i sengen i åtte timer og 43 minutter.');
    expect(relativeText(night([r('2026-11-24', '21:00', true)])).nb).toBe(
      'Sov rolig og var ikke oppe i løpet av natten. Lå i sengen i ni timer.',
    );
    expect(relativeText(night([])).nb).toMatch(/^Sengematten meldte ingenting/);
  });

  it('writes small numbers as words with the right gender', () => {
    expect(countWord(1, 'nb')).toBe('én');
    expect(countWord(1, 'nb', true)).toBe('ett');
    expect(countWord(13, 'nb')).toBe('13');
    expect(spokenDuration(1, 'nb')).toBe('ett minutt');
    expect(spokenDuration(60, 'nb')).toBe('én time');
    expect(spokenDuration(61, 'en')).toBe('one hour and one minute');
  });
});
