import { describe, expect, it } from 'vitest';
import { at, local, ZONE } from '../../test/fixtures.js';
import { addNights, isNightDate, nightOf, nightSpan, nightsBetween, nightWindowOf } from './nights.js';

const HOUR = 3_600_000;
const night = { start: '22:00', end: '07:00' };

describe('nightWindowOf', () => {
  it('is the evening of the date to the morning after, on the local clock', () => {
    const w = nightWindowOf('2026-11-24', night, ZONE);
    expect([local(w.start), local(w.end)]).toEqual(['2026-11-24T22:00:00+01:00', '2026-11-25T07:00:00+01:00']);
  });

  it('lasts 8 hours on the night the clocks go forward and 10 on the night they go back', () => {
    const spring = nightWindowOf('2026-03-28', night, ZONE);
    expect([local(spring.start), local(spring.end)]).toEqual(['2026-03-28T22:00:00+01:00', '2026-03-29T07:00:00+02:00']);
    expect(spring.end - spring.start).toBe(8 * HOUR);
    const autumn = nightWindowOf('2026-10-24', night, ZONE);
    expect([local(autumn.start), local(autumn.end)]).toEqual(['2026-10-24T22:00:00+02:00', '2026-10-25T07:00:00+01:00']);
    expect(autumn.end - autumn.start).toBe(10 * HOUR);
  });

  it('puts a window that starts after midnight on the evening before', () => {
    const w = nightWindowOf('2026-11-24', { start: '01:00', end: '05:00' }, ZONE);
    expect([local(w.start), local(w.end)]).toEqual(['2026-11-25T01:00:00+01:00', '2026-11-25T05:00:00+01:00']);
  });

  it('moves a start inside the skipped hour to the moment the clock jumps', () => {
    const w = nightWindowOf('2026-03-28', { start: '02:30', end: '06:00' }, ZONE);
    expect(local(w.start)).toBe('2026-03-29T03:00:00+02:00');
  });

  it('runs a 24-hour window until the next night opens', () => {
    const w = nightWindowOf('2026-11-24', { start: '20:00', end: '20:00' }, ZONE);
    expect([local(w.start), local(w.end)]).toEqual(['2026-11-24T20:00:00+01:00', '2026-11-25T20:00:00+01:00']);
  });
});

describe('nightOf and nightSpan', () => {
  it('names an instant by the evening it belongs to, noon to noon', () => {
    expect(nightOf(at('2026-11-25T03:12'), ZONE)).toBe('2026-11-24');
    expect(nightOf(at('2026-11-25T11:59'), ZONE)).toBe('2026-11-24');
    expect(nightOf(at('2026-11-25T12:00'), ZONE)).toBe('2026-11-25');
    expect(nightOf(at('2026-11-24T23:00'), ZONE)).toBe('2026-11-24');
    // 02:30 happens twice when the clocks go back: both belong to the same night.
    expect(nightOf(Date.parse('2026-10-25T00:30:00Z'), ZONE)).toBe('2026-10-24');
    expect(nightOf(Date.parse('2026-10-25T01:30:00Z'), ZONE)).toBe('2026-10-24');
  });

  it('spans 23, 24 or 25 hours', () => {
    const span = (n: string) => nightSpan(n, ZONE).end - nightSpan(n, ZONE).start;
    expect(span('2026-11-24')).toBe(24 * HOUR);
    expect(span('2026-03-28')).toBe(23 * HOUR);
    expect(span('2026-10-24')).toBe(25 * HOUR);
    expect(local(nightSpan('2026-11-24', ZONE).start)).toBe('2026-11-24T12:00:00+01:00');
  });

  it('counts and lists nights across month ends, and refuses dates that do not exist', () => {
    expect(addNights('2026-02-28', 1)).toBe('2026-03-01');
    expect(addNights('2026-03-01', -1)).toBe('2026-02-28');
    expect(nightsBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    expect(nightsBetween('2026-12-02', '2026-11-29')).toEqual([]);
    expect(isNightDate('2026-02-29')).toBe(false);
    expect(isNightDate('2028-02-29')).toBe(true);
    expect(isNightDate('2026-13-01')).toBe(false);
    expect(() => nightWindowOf('2026-02-30', night, ZONE)).toThrow(/not a date/);
  });
});
