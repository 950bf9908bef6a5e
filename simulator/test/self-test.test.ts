import { describe, expect, it } from 'vitest';
import { nextDailyRun } from '../src/self-test.js';

describe('the daily self-test schedule', () => {
  const zone = 'Europe/Oslo';

  it('runs at the local time today when it is still to come, else tomorrow', () => {
    expect(nextDailyRun('10:00', zone, Date.parse('2026-11-24T08:00:00Z'))).toBe(Date.parse('2026-11-24T09:00:00Z'));
    expect(nextDailyRun('10:00', zone, Date.parse('2026-11-24T09:00:00Z'))).toBe(Date.parse('2026-11-25T09:00:00Z'));
  });

  it('keeps the local time across a DST change', () => {
    // Summer time ends on 25 October 2026: 10:00 is 08:00Z before, 09:00Z after.
    expect(nextDailyRun('10:00', zone, Date.parse('2026-10-24T09:00:00Z'))).toBe(Date.parse('2026-10-25T09:00:00Z'));
    // Summer time starts on 28 March 2027: 02:30 does not exist that night and moves on to 03:30.
    expect(nextDailyRun('02:30', zone, Date.parse('2027-03-27T12:00:00Z'))).toBe(Date.parse('2027-03-28T01:30:00Z'));
  });
});
