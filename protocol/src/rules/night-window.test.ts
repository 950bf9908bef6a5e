import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { at, local, ZONE } from '../../test/fixtures.js';
import {
  dueAfterMinutesInWindow,
  isInNightWindow,
  localMinuteOfDay,
  localTimeOn,
  nextLocalTime,
  nightWindowEndFrom,
  nightWindowStartFrom,
  previousLocalTime,
  toSiteIso,
} from './night-window.js';

const night = { start: '22:00', end: '07:00' };
const early = { start: '01:00', end: '05:00' };
const allDay = { start: '00:00', end: '00:00' };

describe('localMinuteOfDay', () => {
  it('reads the local wall clock of the zone', () => {
    expect(localMinuteOfDay(at('2026-11-25T03:10'), ZONE)).toBe(190);
    expect(localMinuteOfDay(at('2026-11-25T03:10'), 'UTC')).toBe(130);
    expect(localMinuteOfDay(at('2026-07-01T03:10'), 'UTC')).toBe(70); // summer time: UTC+2
  });
});

describe('isInNightWindow', () => {
  it.each([
    ['21:59', false],
    ['22:00', true],
    ['00:00', true],
    ['06:59', true],
    ['07:00', false],
  ])('22:00–07:00 at %s: %s', (time, inside) => {
    expect(isInNightWindow(at(`2026-11-25T${time}`), night, ZONE)).toBe(inside);
  });

  it.each([
    ['00:59', false],
    ['01:00', true],
    ['04:59', true],
    ['05:00', false],
    ['23:00', false],
  ])('01:00–05:00 at %s: %s', (time, inside) => {
    expect(isInNightWindow(at(`2026-11-25T${time}`), early, ZONE)).toBe(inside);
  });

  it('start = end is a 24-hour window', () => {
    expect(isInNightWindow(at('2026-11-25T14:00'), allDay, ZONE)).toBe(true);
  });

  it('follows the wall clock across both DST changes', () => {
    expect(isInNightWindow(at('2026-03-29T06:59:00+02:00'), night, ZONE)).toBe(true);
    expect(isInNightWindow(at('2026-03-29T07:00:00+02:00'), night, ZONE)).toBe(false);
    expect(isInNightWindow(at('2026-10-25T06:59:00+01:00'), night, ZONE)).toBe(true);
    expect(isInNightWindow(at('2026-10-25T07:00:00+01:00'), night, ZONE)).toBe(false);
  });
});

describe('nightWindowStartFrom', () => {
  it('is the instant itself inside the window', () => {
    expect(nightWindowStartFrom(at('2026-11-25T03:10'), night, ZONE)).toBe(at('2026-11-25T03:10'));
  });

  it('is the same evening before the window, the next day after it', () => {
    expect(local(nightWindowStartFrom(at('2026-11-25T21:00'), night, ZONE))).toBe('2026-11-25T22:00:00+01:00');
    expect(local(nightWindowStartFrom(at('2026-11-25T07:00'), night, ZONE))).toBe('2026-11-25T22:00:00+01:00');
    expect(local(nightWindowStartFrom(at('2026-11-25T06:00'), early, ZONE))).toBe('2026-11-26T01:00:00+01:00');
    expect(local(nightWindowStartFrom(at('2026-11-25T00:30'), early, ZONE))).toBe('2026-11-25T01:00:00+01:00');
  });

  it('keeps the local start time across DST changes', () => {
    expect(local(nightWindowStartFrom(at('2026-03-28T12:00'), night, ZONE))).toBe('2026-03-28T22:00:00+01:00');
    expect(local(nightWindowStartFrom(at('2026-03-29T12:00'), night, ZONE))).toBe('2026-03-29T22:00:00+02:00');
    expect(local(nightWindowStartFrom(at('2026-10-25T12:00'), night, ZONE))).toBe('2026-10-25T22:00:00+01:00');
  });

  it('moves a start time inside the skipped spring-forward hour to the first valid minute after it', () => {
    const window = { start: '02:30', end: '05:00' };
    // 02:30 does not exist that night: the clock jumps from 02:00 to 03:00, and at 03:00 the window is open.
    expect(local(nightWindowStartFrom(at('2026-03-29T01:00:00+01:00'), window, ZONE))).toBe('2026-03-29T03:00:00+02:00');
    expect(local(nightWindowStartFrom(at('2026-03-28T06:00'), window, ZONE))).toBe('2026-03-29T03:00:00+02:00');
    expect(isInNightWindow(at('2026-03-29T03:00:00+02:00'), window, ZONE)).toBe(true);
    expect(isInNightWindow(at('2026-03-29T03:00:00+02:00') - 1, window, ZONE)).toBe(false);
  });
});

describe('nightWindowEndFrom', () => {
  it('is the next local end time', () => {
    expect(local(nightWindowEndFrom(at('2026-11-25T23:00'), night, ZONE))).toBe('2026-11-26T07:00:00+01:00');
    expect(local(nightWindowEndFrom(at('2026-11-26T02:00'), night, ZONE))).toBe('2026-11-26T07:00:00+01:00');
    expect(local(nightWindowEndFrom(at('2026-11-26T02:00'), early, ZONE))).toBe('2026-11-26T05:00:00+01:00');
  });

  it('is null for a 24-hour window', () => {
    expect(nightWindowEndFrom(at('2026-11-26T02:00'), allDay, ZONE)).toBeNull();
  });

  it('counts the real length of the window on DST nights', () => {
    const spring = nightWindowEndFrom(at('2026-03-28T22:00'), night, ZONE);
    const autumn = nightWindowEndFrom(at('2026-10-24T22:00'), night, ZONE);
    expect(((spring ?? 0) - at('2026-03-28T22:00')) / 3_600_000).toBe(8);
    expect(((autumn ?? 0) - at('2026-10-24T22:00')) / 3_600_000).toBe(10);
  });
});

describe('toSiteIso', () => {
  it('formats with the site offset', () => {
    expect(toSiteIso(at('2026-11-25T03:10'), ZONE)).toBe('2026-11-25T03:10:00.000+01:00');
    expect(toSiteIso(at('2026-07-01T03:10'), ZONE)).toBe('2026-07-01T03:10:00.000+02:00');
  });

  it('falls back to UTC for a zone luxon does not know', () => {
    expect(toSiteIso(Date.UTC(2026, 10, 25, 2, 10), 'Mars/Olympus')).toBe('2026-11-25T02:10:00.000Z');
  });
});

describe('local times on DST days', () => {
  it('a daily time happens once a day: the first pass of a repeated time, the first valid minute after a skipped one', () => {
    expect(local(nextLocalTime(at('2026-10-25T00:00'), '02:30', ZONE))).toBe('2026-10-25T02:30:00+02:00');
    expect(local(nextLocalTime(at('2026-10-25T02:31:00+02:00'), '02:30', ZONE))).toBe('2026-10-26T02:30:00+01:00');
    expect(local(nextLocalTime(at('2026-03-29T00:00'), '02:30', ZONE))).toBe('2026-03-29T03:00:00+02:00');
    expect(local(previousLocalTime(at('2026-10-25T02:40:00+01:00'), '02:30', ZONE))).toBe('2026-10-25T02:30:00+02:00');
    expect(local(previousLocalTime(at('2026-10-25T02:20:00+02:00'), '02:30', ZONE))).toBe('2026-10-24T02:30:00+02:00');
    expect(local(previousLocalTime(at('2026-03-29T12:00'), '02:30', ZONE))).toBe('2026-03-29T03:00:00+02:00');
  });

  it('the edges of a window count every pass: 02:30 on 25 October is passed twice', () => {
    expect(local(nextLocalTime(at('2026-10-25T02:31:00+02:00'), '02:30', ZONE, true))).toBe('2026-10-25T02:30:00+01:00');
    const window = { start: '22:00', end: '02:30' };
    // Inside on the second pass of 02:10 (winter time): the window closes at the second 02:30.
    expect(isInNightWindow(at('2026-10-25T02:10:00+01:00'), window, ZONE)).toBe(true);
    expect(local(nightWindowEndFrom(at('2026-10-25T02:10:00+01:00'), window, ZONE))).toBe('2026-10-25T02:30:00+01:00');
  });

  it('an end inside the skipped hour closes the window when the clock jumps', () => {
    const window = { start: '22:00', end: '02:30' };
    expect(local(nightWindowEndFrom(at('2026-03-28T23:00'), window, ZONE))).toBe('2026-03-29T03:00:00+02:00');
    expect(localTimeOn(DateTime.fromISO('2026-03-29', { zone: ZONE }), 150)).toBe(at('2026-03-29T03:00:00+02:00'));
  });

  it('minutes in the window: null when they never fit; on a 24-hour window simply since + minutes', () => {
    expect(dueAfterMinutesInWindow(at('2026-11-25T23:00'), 400, { start: '23:00', end: '05:00' }, ZONE)).toBeNull();
    expect(dueAfterMinutesInWindow(at('2026-11-25T23:00'), 360, { start: '23:00', end: '05:00' }, ZONE)).toBe(at('2026-11-26T05:00'));
    expect(dueAfterMinutesInWindow(at('2026-11-25T12:00'), 30, { start: '00:00', end: '00:00' }, ZONE)).toBe(at('2026-11-25T12:30'));
  });
});
