import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { NightClock } from '../src/behaviour/night-clock.js';
import { planNight } from '../src/behaviour/plan-night.js';
import { PROFILE_NAMES, type ProfileName } from '../src/behaviour/profiles.js';
import { type ResidentNight, simulateResidentNight } from '../src/behaviour/resident-night.js';
import { demoWard } from '../src/demo-ward.js';

const NIGHTS = 100;
const MINUTE = 60_000;

/** One resident's night `n` of a hundred: a new evening date each time, one seed. */
function night(profile: ProfileName, n: number, extra: { falls?: boolean; quiet?: boolean } = {}): ResidentNight {
  return simulateResidentNight({
    seed: 42,
    clock: new NightClock(eveningOf(n), 'Europe/Oslo'),
    residentId: 'res-1',
    profile,
    roomName: 'Rom 1',
    residentName: 'Astrid H.',
    ...extra,
  });
}

const nights = (profile: ProfileName, extra: { falls?: boolean; quiet?: boolean } = {}) =>
  Array.from({ length: NIGHTS }, (_, n) => night(profile, n, extra));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const exitsOf = (n: ResidentNight) => n.exits.length;

describe('the behaviour model over 100 seeded nights', () => {
  const byProfile = Object.fromEntries(PROFILE_NAMES.map((p) => [p, nights(p)])) as Record<ProfileName, ResidentNight[]>;

  it('a restless profile leaves the bed more often, and turns over more, than a calm one', () => {
    const calm = byProfile.calm.map(exitsOf);
    const restless = byProfile.restless.map(exitsOf);
    expect(mean(restless)).toBeGreaterThan(2 * mean(calm));
    expect(mean(byProfile.restless.map((n) => n.turns.length))).toBeGreaterThan(2 * mean(byProfile.calm.map((n) => n.turns.length)));
    // Not every calm night is empty, nor every restless night busy: the seed varies nights.
    expect(new Set(calm).size).toBeGreaterThan(1);
    expect(new Set(restless).size).toBeGreaterThan(2);
  });

  it('has restless nights about as often as each profile says', () => {
    const share = (p: ProfileName) => byProfile[p].filter((n) => n.restlessNight).length / NIGHTS;
    expect(share('calm')).toBeLessThan(0.2);
    expect(share('restless')).toBeGreaterThan(0.4);
    expect(share('restless')).toBeLessThan(0.8);
  });

  it('only the wandering profile walks out through the door, on roughly a third of its nights', () => {
    for (const profile of PROFILE_NAMES) {
      const walks = byProfile[profile].filter((n) => n.exits.some((e) => e.kind === 'walk-out')).length;
      if (profile === 'wandering') {
        expect(walks).toBeGreaterThan(20);
        expect(walks).toBeLessThan(50);
      } else expect(walks, profile).toBe(0);
    }
  });

  it('sends late-to-bed residents to bed after 22:20 on some evenings, and the others before', () => {
    const after2220 = (profile: ProfileName) =>
      byProfile[profile].filter((n, i) => n.bedtime > new NightClock(eveningOf(i), 'Europe/Oslo').at('22:20')).length;
    expect(after2220('late-to-bed')).toBeGreaterThan(10);
    expect(after2220('late-to-bed')).toBeLessThan(40);
    expect(after2220('calm')).toBe(0);
    expect(after2220('restless')).toBe(0);
  });

  it('keeps ordinary toilet visits under 20 minutes, so only falls and walks run long', () => {
    for (const profile of PROFILE_NAMES) {
      for (const n of byProfile[profile]) for (const exit of n.exits) expect(exit.back - exit.leave, profile).toBeLessThan(20 * MINUTE);
    }
  });

  it('with falls on, fall-risk residents fall on a few nights in a hundred and stay down until helped', () => {
    const falls = nights('fall-risk', { falls: true }).flatMap((n) => n.exits.filter((e) => e.kind === 'fall'));
    expect(falls.length).toBeGreaterThanOrEqual(2);
    expect(falls.length).toBeLessThanOrEqual(14);
    for (const fall of falls) expect(fall.back - fall.leave).toBeGreaterThanOrEqual(25 * MINUTE);
    expect(nights('calm', { falls: true }).some((n) => n.exits.some((e) => e.kind === 'fall'))).toBe(false);
  });

  it('switching falls on changes only the nights with a fall', () => {
    const without = nights('fall-risk');
    const withFalls = nights('fall-risk', { falls: true });
    withFalls.forEach((n, i) => {
      if (!n.exits.some((e) => e.kind === 'fall')) expect(n).toEqual(without[i]);
    });
  });

  it('a quiet night is in bed before 22:00 and up after 07:00, with no trip out of bed', () => {
    for (const profile of PROFILE_NAMES) {
      nights(profile, { quiet: true }).forEach((n, i) => {
        const clock = new NightClock(eveningOf(i), 'Europe/Oslo');
        expect(n.exits).toEqual([]);
        expect(n.bedtime).toBeLessThan(clock.at('22:00'));
        expect(n.wakeUp).toBeGreaterThan(clock.at('07:00'));
      });
    }
  });
});

function eveningOf(n: number): string {
  return new Date(Date.UTC(2026, 0, 5) + n * 86_400_000).toISOString().slice(0, 10);
}

describe('determinism', () => {
  const ward: SiteConfig = demoWard({ residents: 12 });
  const span = { night: '2026-11-24', from: '21:00', to: '08:00' };

  it('the same seed gives the same night, message for message, over 100 seeds', () => {
    for (let seed = 0; seed < NIGHTS; seed++) {
      const a = planNight(ward, { seed, ...span, falls: true });
      const b = planNight(ward, { seed, ...span, falls: true });
      expect(a).toEqual(b);
    }
  });

  it('different seeds give different nights', () => {
    const nightsBySeed = new Set(Array.from({ length: 20 }, (_, seed) => JSON.stringify(planNight(ward, { seed, ...span }))));
    expect(nightsBySeed.size).toBe(20);
  });

  it('adding a resident changes nobody else’s night', () => {
    const small = planNight(ward, { seed: 5, ...span });
    const larger = planNight(demoWard({ residents: 13 }), { seed: 5, ...span });
    const ofRoom1 = (messages: typeof small) => messages.filter((m) => m.topic.includes('/bed-1/') || m.topic.includes('/door-1/'));
    expect(ofRoom1(larger)).toEqual(ofRoom1(small));
  });
});
