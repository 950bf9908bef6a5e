import type { NightClock } from './night-clock.js';
import { type BehaviourProfile, PROFILES, type ProfileName } from './profiles.js';
import { SeededRandom } from './seeded-random.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A change of one sensor's state: occupied for a bed, open for a door. */
export interface SensorChange {
  at: number;
  value: boolean;
  note?: string;
}

export type ExitKind = 'toilet' | 'walk-out' | 'scripted-walk-out' | 'fall' | 'up';

/** A time out of bed, from leaving it to lying down again, with the door openings on the way. */
export interface BedExit {
  kind: ExitKind;
  leave: number;
  /** Back in bed; `Infinity` when they do not come back tonight (a fall nobody answers). */
  back: number;
  doorOpenings: { open: number; close: number; note?: string }[];
  leaveNote?: string;
  backNote?: string;
}

/** What one resident does tonight, as the bed mat and the door contact will see it. */
export interface ResidentNight {
  profile: ProfileName;
  restlessNight: boolean;
  bedtime: number;
  wakeUp: number;
  exits: BedExit[];
  /** Turning over: the mat unloads for a few seconds. */
  turns: { at: number; seconds: number }[];
  bed: SensorChange[];
  door: SensorChange[];
}

export interface ResidentNightInput {
  seed: number;
  clock: NightClock;
  residentId: string;
  profile: ProfileName;
  /** Events the demo depends on; random exits and turns that would collide with them are dropped. */
  scripted?: BedExit[];
  /** For log lines: "Rom 7", "Astrid H.". */
  roomName: string;
  residentName: string;
  /**
   * A quiet night for a scenario's background: in bed 20:30–21:30, up 07:30–08:30, turning over as
   * the profile does, and no random trips out of bed. A scenario then states every exit itself.
   */
  quiet?: boolean;
  /** Bedtime and wake-up fixed by a scenario ("goes to bed late at 23:40"), instead of drawn. */
  bedtime?: number;
  wakeUp?: number;
  /** Forces tonight to be restless (or not), instead of the profile's chance. */
  restlessNight?: boolean;
  /**
   * Falls by the profile's chance (off by default: the demo ward's alarms are the scripted ones).
   * A fall is drawn after everything else, so switching this on changes only the nights with a fall.
   */
  falls?: boolean;
  /** More turning over than the profile's (a restless spell a scenario describes). */
  extraTurns?: { at: number; seconds: number }[];
  /** The room door opened while the resident stays in bed (a visitor, staff, the resident reaching for it). */
  doorOpenings?: { open: number; close: number; note?: string }[];
}

/** A scenario's background night: everyone asleep through the night window. */
const QUIET_BEDTIME = [-210, -150] as const;
const QUIET_WAKE_UP = [450, 510] as const;

const overlaps = (a: { leave: number; back: number }, b: { leave: number; back: number }, margin: number) =>
  a.leave < b.back + margin && b.leave < a.back + margin;

/**
 * Simulates one resident's night from noon to noon: up in the evening, bedtime, sleep with
 * turning over and toilet visits, perhaps a walk out of the room, and getting up in the morning.
 * Deterministic by (seed, night, resident): the same inputs always give the same night.
 */
export function simulateResidentNight(input: ResidentNightInput): ResidentNight {
  const { clock, roomName, residentName } = input;
  const profile: BehaviourProfile = PROFILES[input.profile];
  const random = new SeededRandom(input.seed, clock.night, 'resident', input.residentId);

  const quiet = input.quiet === true;
  const lateEvening = profile.lateEvening;
  const bedtimeRange = lateEvening !== undefined && random.chance(lateEvening.chance) ? lateEvening.bedtime : profile.bedtime;
  // Drawn whether or not they are used, so a fixed bedtime changes nothing else of the night.
  const drawnBedtime = clock.atMinutes(random.between(...(quiet ? QUIET_BEDTIME : bedtimeRange)));
  const drawnWakeUp = clock.atMinutes(random.between(...(quiet ? QUIET_WAKE_UP : profile.wakeUp)));
  const drawnRestless = random.chance(profile.restlessNightChance);
  const bedtime = input.bedtime ?? drawnBedtime;
  const wakeUp = input.wakeUp ?? drawnWakeUp;
  const restlessNight = input.restlessNight ?? drawnRestless;
  const [minVisits, maxVisits] = restlessNight ? profile.restlessToiletVisits : profile.toiletVisits;

  // Random exits, drawn in elapsed time between falling asleep and waking, then thinned so that
  // no two overlap: a resident is never on two trips at once.
  const candidates: BedExit[] = [];
  const visits = random.int(minVisits, maxVisits);
  const asleepFrom = bedtime + 20 * MINUTE;
  const asleepTo = wakeUp - 25 * MINUTE;
  for (let i = 0; i < visits; i++) {
    const leave = random.between(asleepFrom, asleepTo);
    const minutesOut = random.between(...profile.toiletMinutes);
    if (!quiet) candidates.push({ kind: 'toilet', leave, back: leave + minutesOut * MINUTE, doorOpenings: [] });
  }
  const walkOutFrom = Math.max(asleepFrom, clock.at('23:30'));
  const walkOutTo = Math.min(asleepTo, clock.at('05:30'));
  const scripted = input.scripted ?? [];
  if (random.chance(profile.walkOutChance) && walkOutFrom < walkOutTo) {
    // Drawn even when the scripted walk-out replaces it (one walk out of the room a night is
    // plenty), so the rest of the night stays the same with or without the script.
    const randomWalkOut = walkOut(random, random.between(walkOutFrom, walkOutTo), roomName, residentName);
    if (!quiet && !scripted.some((exit) => exit.doorOpenings.length > 0)) candidates.push(randomWalkOut);
  }
  const exits: BedExit[] = [...scripted];
  for (const exit of candidates.sort((a, b) => a.leave - b.leave)) {
    if (!(exit.leave < exit.back) || exit.back >= asleepTo) continue;
    if (exits.some((kept) => overlaps(exit, kept, (kept.kind === 'toilet' ? 5 : 15) * MINUTE))) continue;
    exits.push(exit);
  }
  exits.sort((a, b) => a.leave - b.leave);

  const hoursAsleep = (wakeUp - bedtime) / (60 * MINUTE);
  const restlessFactor = restlessNight ? 1.6 : 1;
  const turnCount = Math.round(hoursAsleep * random.between(...profile.turnsPerHour) * restlessFactor);
  const turns: { at: number; seconds: number }[] = [];
  for (let i = 0; i < turnCount; i++) {
    const at = Math.round(random.between(bedtime + 5 * MINUTE, wakeUp - 5 * MINUTE));
    const seconds = random.int(2, 8);
    const span = { leave: at, back: at + seconds * SECOND };
    if (exits.some((exit) => overlaps(span, exit, 2 * MINUTE))) continue;
    if (turns.some((turn) => Math.abs(turn.at - at) < MINUTE)) continue;
    turns.push({ at, seconds });
  }

  // A fall: drawn last, so that nights without one are the same as before falls were modelled.
  // Out of bed and not back by themselves; the nurse the alarm calls helps them back.
  if (!quiet && input.falls === true && random.chance(profile.fallChance)) {
    const leave = random.between(asleepFrom, asleepTo);
    const helpedAfter = random.between(25, 50) * MINUTE;
    const fall: BedExit = {
      kind: 'fall',
      leave,
      back: leave + helpedAfter,
      doorOpenings: [],
      leaveNote: `${roomName}: ${residentName} faller ved sengen`,
      backNote: `${roomName}: ${residentName} er hjulpet tilbake i sengen`,
    };
    if (!exits.some((kept) => overlaps(fall, kept, 15 * MINUTE))) {
      exits.push(fall);
      exits.sort((a, b) => a.leave - b.leave);
      for (let i = turns.length - 1; i >= 0; i--) {
        const turn = turns[i] as { at: number; seconds: number };
        if (overlaps({ leave: turn.at, back: turn.at + turn.seconds * SECOND }, fall, 2 * MINUTE)) turns.splice(i, 1);
      }
    }
  }
  for (const extra of input.extraTurns ?? []) {
    const span = { leave: extra.at, back: extra.at + extra.seconds * SECOND };
    if (extra.at <= bedtime || extra.at >= wakeUp || exits.some((exit) => overlaps(span, exit, MINUTE))) continue;
    if (turns.some((turn) => overlaps(span, { leave: turn.at, back: turn.at + turn.seconds * SECOND }, 5 * SECOND))) continue;
    turns.push(extra);
  }
  turns.sort((a, b) => a.at - b.at);

  const bed: SensorChange[] = [change(bedtime, true)];
  for (const turn of turns) bed.push(change(turn.at, false), change(turn.at + turn.seconds * SECOND, true));
  for (const exit of exits) {
    bed.push(change(exit.leave, false, exit.leaveNote));
    if (Number.isFinite(exit.back) && exit.back < wakeUp) bed.push(change(exit.back, true, exit.backNote));
  }
  // Up in the morning, unless a trip out of bed has not ended by then.
  if (!exits.some((exit) => exit.leave < wakeUp && exit.back >= wakeUp)) bed.push(change(wakeUp, false));
  bed.sort((a, b) => a.at - b.at);

  const door: SensorChange[] = [];
  for (const opening of [...exits.flatMap((exit) => exit.doorOpenings), ...(input.doorOpenings ?? [])]) {
    door.push(change(opening.open, true, opening.note), change(opening.close, false));
  }
  door.sort((a, b) => a.at - b.at);

  return {
    profile: input.profile,
    restlessNight,
    bedtime,
    wakeUp,
    exits,
    turns,
    bed,
    door,
  };
}

/** Sensors report whole milliseconds; a note is kept only where there is one. */
function change(at: number, value: boolean, note?: string): SensorChange {
  return note === undefined ? { at: Math.round(at), value } : { at: Math.round(at), value, note };
}

/** A wandering resident leaves the room: out through the door, and later back in through it. */
function walkOut(random: SeededRandom, leave: number, roomName: string, residentName: string): BedExit {
  const out = leave + random.between(40, 120) * SECOND;
  const back = leave + random.between(8, 18) * MINUTE;
  const returnDoor = back - random.between(60, 150) * SECOND;
  return {
    kind: 'walk-out',
    leave,
    back,
    doorOpenings: [
      { open: out, close: out + random.between(15, 60) * SECOND, note: `${roomName}: døren åpnes – ${residentName} går ut` },
      { open: returnDoor, close: returnDoor + random.between(10, 30) * SECOND },
    ],
  };
}
