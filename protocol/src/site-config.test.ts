import { describe, expect, it } from 'vitest';
import { site } from '../test/fixtures.js';
import { checkSiteConfig, type SiteConfig } from './site-config.js';

const errorsOf = (value: unknown): string[] => {
  const checked = checkSiteConfig(value);
  if (checked.ok) throw new Error('expected the configuration to be rejected');
  return checked.errors;
};

const edit = (change: (config: SiteConfig) => void): SiteConfig => {
  const config = structuredClone(site());
  change(config);
  return config;
};

describe('checkSiteConfig', () => {
  it('accepts a valid site', () => {
    const config = site();
    expect(checkSiteConfig(config)).toEqual({ ok: true, value: config });
  });

  it('accepts an empty site', () => {
    expect(checkSiteConfig({ version: 1, site: { id: 'x', name: 'X', timezone: 'UTC' }, rooms: [], residents: [], sensors: [] }).ok).toBe(
      true,
    );
  });

  it('rejects schema errors with their path before looking at references', () => {
    expect(errorsOf(edit((c) => Object.assign(c, { version: 2 })))).toEqual(['/version: Expected 1']);
    expect(errorsOf(edit((c) => Object.assign(c.rooms[0] ?? {}, { id: 'Room 1' })))[0]).toMatch(
      /^\/rooms\/0\/id: Expected string to match/,
    );
    expect(
      errorsOf(
        edit((c) => {
          const plan = c.residents[0]?.plan;
          if (plan) plan.nightWindow.start = '24:00';
        }),
      )[0],
    ).toMatch(/^\/residents\/0\/plan\/nightWindow\/start: Expected string to match/);
    expect(
      errorsOf(
        edit((c) => {
          const plan = c.residents[0]?.plan;
          if (plan) plan.rules.outOfBedTooLong.minutes = 0;
        }),
      ),
    ).toEqual(['/residents/0/plan/rules/outOfBedTooLong/minutes: Expected integer to be greater or equal to 1']);
    expect(errorsOf(edit((c) => Object.assign(c.sensors[0] ?? {}, { kind: 'motion' })))).toEqual([
      '/sensors/0/kind: Expected one of "bed", "door"',
    ]);
    expect(
      errorsOf(
        edit((c) => {
          const plan = c.residents[0]?.plan;
          if (plan) Object.assign(plan.rules.doorOpenAtNight, { priority: 'urgent' });
        }),
      ),
    ).toEqual(['/residents/0/plan/rules/doorOpenAtNight/priority: Expected one of "high", "medium", "low", "technical"']);
  });

  it('catches duplicate room, resident and sensor ids', () => {
    const config = edit((c) => {
      c.rooms.push({ id: 'r101', name: 'Again' });
      const anna = c.residents[0];
      if (anna) c.residents.push({ ...anna, name: 'Anna II' });
      c.sensors.push({ id: 'door-1', kind: 'door', roomId: 'r102' });
    });
    expect(errorsOf(config)).toEqual([
      '/rooms: the id "r101" is used twice',
      '/residents: the id "anna" is used twice',
      '/sensors: the id "door-1" is used twice',
    ]);
  });

  it('catches a resident in a room that does not exist', () => {
    expect(errorsOf(edit((c) => Object.assign(c.residents[1] ?? {}, { roomId: 'r999' })))).toEqual(['/residents/1/roomId: no room "r999"']);
  });

  it('catches a sensor in a room, or for a resident, that does not exist', () => {
    const config = edit((c) => {
      c.sensors.push({ id: 'bed-9', kind: 'bed', roomId: 'r999' });
      c.sensors.push({ id: 'bed-10', kind: 'bed', roomId: 'r101', residentId: 'nobody' });
    });
    expect(errorsOf(config)).toEqual(['/sensors/4/roomId: no room "r999"', '/sensors/5/residentId: no resident "nobody"']);
  });

  it('catches a time zone that is not an IANA zone', () => {
    expect(errorsOf(edit((c) => Object.assign(c.site, { timezone: 'Norway/Oslo' })))).toEqual([
      '/site/timezone: "Norway/Oslo" is not an IANA time zone (for example Europe/Oslo)',
    ]);
  });

  it('reports every reference error at once', () => {
    const config = edit((c) => {
      c.site.timezone = 'CEST+2';
      c.rooms.push({ id: 'r101', name: 'Again' });
      c.sensors.push({ id: 'bed-9', kind: 'bed', roomId: 'r999' });
    });
    expect(errorsOf(config)).toHaveLength(3);
  });
});

describe('SupervisionPlan: the newer optional fields', () => {
  const withPlan = (extra: Record<string, unknown>, rules: Record<string, unknown> = {}) =>
    edit((c) => {
      const anna = c.residents[0];
      if (anna) anna.plan = { ...anna.plan, ...extra, rules: { ...anna.plan.rules, ...rules } } as typeof anna.plan;
    });

  it('a plan stored before they existed (armed, nightWindow, doorOpenAtNight, outOfBedTooLong) is still valid', () => {
    expect(checkSiteConfig(site()).ok).toBe(true);
  });

  it('accepts every new rule and setting', () => {
    const config = withPlan(
      {
        bedGraceSeconds: 45,
        technical: { silentMinutes: 30, lowBatteryPercent: 10, batteryClearPercent: 30, flappingChangesPerMinute: 20 },
      },
      {
        bedExit: { enabled: true, delaySeconds: 60, priority: 'high' },
        doorLeftOpen: { enabled: true, minutes: 10, priority: 'medium' },
        notInBedBy: { enabled: false, time: '23:30', priority: 'low' },
      },
    );
    expect(checkSiteConfig(config)).toEqual({ ok: true, value: config });
    expect(checkSiteConfig(withPlan({}, { bedExit: { enabled: true, priority: 'low' } })).ok).toBe(true);
  });

  it('rejects out-of-range settings, unknown fields and the technical priority on new rules', () => {
    expect(errorsOf(withPlan({ bedGraceSeconds: 301 }))).toEqual([
      '/residents/0/plan/bedGraceSeconds: Expected integer to be less or equal to 300',
    ]);
    expect(errorsOf(withPlan({}, { bedExit: { enabled: true, delaySeconds: 601, priority: 'high' } }))).toEqual([
      '/residents/0/plan/rules/bedExit/delaySeconds: Expected integer to be less or equal to 600',
    ]);
    expect(errorsOf(withPlan({}, { notInBedBy: { enabled: true, time: '24:00', priority: 'high' } }))[0]).toMatch(
      /^\/residents\/0\/plan\/rules\/notInBedBy\/time: Expected string to match/,
    );
    expect(errorsOf(withPlan({}, { doorLeftOpen: { enabled: true, minutes: 10, priority: 'technical' } }))).toEqual([
      '/residents/0/plan/rules/doorLeftOpen/priority: Expected one of "high", "medium", "low"',
    ]);
    expect(errorsOf(withPlan({ technical: { silentMinutes: 0 } }))).toEqual([
      '/residents/0/plan/technical/silentMinutes: Expected integer to be greater or equal to 1',
    ]);
    expect(errorsOf(withPlan({ technical: { sleepMinutes: 5 } }))).toEqual([
      '/residents/0/plan/technical/sleepMinutes: Unexpected property',
    ]);
  });
});
