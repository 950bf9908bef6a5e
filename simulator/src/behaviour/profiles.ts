import type { Resident, SiteConfig } from '@nattevakt/protocol/site-config';

export const PROFILE_NAMES = ['calm', 'restless', 'wandering', 'fall-risk', 'late-to-bed'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** A range of local wall-clock times, as minutes relative to midnight (negative: the evening before). */
type MinuteRange = readonly [from: number, to: number];

/** How one kind of resident tends to spend a night. Every range is drawn uniformly. */
export interface BehaviourProfile {
  name: ProfileName;
  bedtime: MinuteRange;
  /** Some evenings run late: the chance of that, and the bedtime then. */
  lateEvening?: { chance: number; bedtime: MinuteRange };
  wakeUp: MinuteRange;
  /** Chance that this is a restless night, with more toilet visits and turning over. */
  restlessNightChance: number;
  /** Toilet visits (in-room, door closed) on an ordinary night, and on a restless one. */
  toiletVisits: readonly [min: number, max: number];
  restlessToiletVisits: readonly [min: number, max: number];
  toiletMinutes: readonly [min: number, max: number];
  /** Turning over in bed: the mat unloads for a few seconds. Per hour asleep. */
  turnsPerHour: readonly [min: number, max: number];
  /** Chance of walking out of the room through the door during the night. */
  walkOutChance: number;
  /** Chance of a fall: out of bed and not back by themselves; a nurse helps them back 25–50 minutes later. */
  fallChance: number;
}

// Wake-up never before 06:45: out of bed at 06:45 reaches 20 minutes only after the night window
// closes at 07:00, so an ordinary morning raises no alarm. Up after 22:20 raises the out-of-bed
// alarm of a 22:00 window, so ordinary bedtimes end at 22:18; only a late evening of a
// late-to-bed resident goes past it (that alarm is real: the plan says in bed by then).
export const PROFILES: Readonly<Record<ProfileName, BehaviourProfile>> = {
  calm: {
    name: 'calm',
    bedtime: [-180, -125],
    wakeUp: [405, 465],
    restlessNightChance: 0.08,
    toiletVisits: [0, 1],
    restlessToiletVisits: [1, 3],
    toiletMinutes: [4, 8],
    turnsPerHour: [0.4, 1.0],
    walkOutChance: 0,
    fallChance: 0,
  },
  restless: {
    name: 'restless',
    bedtime: [-150, -110],
    wakeUp: [405, 450],
    restlessNightChance: 0.6,
    toiletVisits: [2, 3],
    restlessToiletVisits: [3, 6],
    toiletMinutes: [4, 12],
    turnsPerHour: [1.5, 3.5],
    walkOutChance: 0,
    fallChance: 0,
  },
  wandering: {
    name: 'wandering',
    bedtime: [-170, -120],
    wakeUp: [405, 450],
    restlessNightChance: 0.3,
    toiletVisits: [1, 2],
    restlessToiletVisits: [2, 4],
    toiletMinutes: [4, 10],
    turnsPerHour: [0.8, 2.0],
    walkOutChance: 0.35,
    fallChance: 0.02,
  },
  'fall-risk': {
    name: 'fall-risk',
    bedtime: [-200, -140],
    wakeUp: [420, 480],
    restlessNightChance: 0.15,
    toiletVisits: [1, 2],
    restlessToiletVisits: [2, 3],
    // Slower on their feet, but back within 20 minutes on an ordinary night.
    toiletMinutes: [6, 12],
    turnsPerHour: [0.5, 1.2],
    walkOutChance: 0,
    fallChance: 0.06,
  },
  'late-to-bed': {
    name: 'late-to-bed',
    bedtime: [-130, -102],
    lateEvening: { chance: 0.25, bedtime: [-90, -20] },
    wakeUp: [435, 510],
    restlessNightChance: 0.1,
    toiletVisits: [0, 1],
    restlessToiletVisits: [1, 3],
    toiletMinutes: [4, 9],
    turnsPerHour: [0.4, 1.0],
    walkOutChance: 0,
    fallChance: 0,
  },
};

// The usual mix of a ward, repeated along the rooms: mostly calm, some restless, a few late.
const WARD_MIX: readonly ProfileName[] = [
  'calm',
  'restless',
  'calm',
  'late-to-bed',
  'calm',
  'restless',
  'wandering',
  'calm',
  'calm',
  'late-to-bed',
  'calm',
  'restless',
];

/**
 * Which profile each resident has. Stable across nights and seeds: a person is restless by
 * nature, the seed only decides how tonight goes. The scripted demo residents get the profile
 * that fits their story (room 7 wanders, room 12 falls); a high-priority out-of-bed rule marks
 * fall risk; everyone else follows the ward mix by position.
 */
export function assignProfiles(config: SiteConfig, overrides: Readonly<Record<string, ProfileName>> = {}): Map<string, ProfileName> {
  const profiles = new Map<string, ProfileName>();
  config.residents.forEach((resident: Resident, index) => {
    profiles.set(resident.id, overrides[resident.id] ?? defaultProfile(resident, index));
  });
  return profiles;
}

function defaultProfile(resident: Resident, index: number): ProfileName {
  if (resident.roomId === 'room-7') return 'wandering';
  if (resident.roomId === 'room-12') return 'fall-risk';
  if (resident.plan.rules.outOfBedTooLong.priority === 'high') return 'fall-risk';
  return WARD_MIX[index % WARD_MIX.length] ?? 'calm';
}
