import { describe, expect, it } from 'vitest';
import { plan } from '../../../test/fixtures.js';
import { PLAN_DEFAULTS } from '../../site-config.js';
import { silentMinutesByRisk } from './settings.js';

const off = {
  doorOpenAtNight: { enabled: false, priority: 'high' },
  outOfBedTooLong: { enabled: false, minutes: 20, priority: 'high' },
} as const;

describe('silentMinutesByRisk', () => {
  it('a door is checked within 15 minutes when the resident wanders (door at night or door left open)', () => {
    expect(silentMinutesByRisk('door', plan())).toBe(15);
    expect(silentMinutesByRisk('door', plan({ rules: { ...off, doorLeftOpen: { enabled: true, minutes: 5, priority: 'low' } } }))).toBe(15);
    expect(silentMinutesByRisk('door', plan({ rules: { ...off, doorLeftOpen: { enabled: false, minutes: 5, priority: 'low' } } }))).toBe(
      180,
    );
  });

  it('a bed mat within 60 minutes when any bed rule is on', () => {
    expect(silentMinutesByRisk('bed', plan())).toBe(60);
    expect(silentMinutesByRisk('bed', plan({ rules: { ...off, bedExit: { enabled: true, priority: 'high' } } }))).toBe(60);
    expect(silentMinutesByRisk('bed', plan({ rules: { ...off, notInBedBy: { enabled: true, time: '23:00', priority: 'low' } } }))).toBe(60);
    expect(silentMinutesByRisk('bed', plan({ rules: off }))).toBe(180);
  });

  it('an unarmed plan protects nobody at the moment: the long default', () => {
    expect(silentMinutesByRisk('door', plan({ armed: false }))).toBe(PLAN_DEFAULTS.silentMinutes.other);
  });
});
