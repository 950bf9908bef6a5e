import type { NightAlarm, NightSummary, Verdict } from '@nattevakt/protocol/night-summary';
import type { NightWindow } from '@nattevakt/protocol/site-config';

/** A bed mat or door reading that matters here: its time (site clock, ms) and value. */
export interface Reading {
  time: number;
  value: boolean;
}

export interface NightInput {
  siteId: string;
  residentId: string;
  night: string;
  timeZone: string;
  localWindow: NightWindow;
  /** The night window as instants. */
  window: { start: number; end: number };
  /** An unload of the bed mat shorter than this is turning over, not leaving the bed (the plan's bedGraceSeconds). */
  graceMs: number;
  /** Bed-occupied readings, oldest first; those before the window give the state at its start. Null: no bed sensor. */
  bed: Reading[] | null;
  /** Door-open readings, oldest first. Null: no door sensor. */
  door: Reading[] | null;
  alarms: NightAlarm[];
  /** When this is computed (server clock): a window still open is summarised up to here. */
  now: number;
}

/** The thresholds of a restless night (documented in server/README.md). */
export const RESTLESS = {
  bedExits: 3,
  longestOutOfBedMinutes: 30,
  /** Less of the observed window than this share in bed. */
  inBedShare: 0.6,
  doorOpenings: 2,
} as const;

const MINUTE = 60_000;
const minutes = (ms: number) => Math.round(ms / MINUTE);

/** "8 t 40 min" / "8 h 40 min". */
export function duration(mins: number, lang: 'nb' | 'en'): string {
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  const hours = lang === 'nb' ? 't' : 'h';
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} ${hours}` : `${h} ${hours} ${m} min`;
}

const times = (n: number, lang: 'nb' | 'en') =>
  lang === 'nb' ? (n === 1 ? '1 gang' : `${n} ganger`) : n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`;

/**
 * One resident's night from the bed mat, the door and the alarms: time in bed, bed exits (an unload
 * longer than the grace, starting inside the window after having been in bed), the longest of
 * them, door openings, and a calm/restless verdict with its reason. Pure: the same input gives the
 * same summary.
 */
export function summariseNight(input: NightInput): NightSummary {
  const { window } = input;
  const until = Math.min(window.end, Math.max(window.start, input.now));
  const bed = input.bed === null ? null : bedNight(input.bed, window.start, until, input.graceMs);
  const doorOpenings = input.door === null ? null : countOpenings(input.door, window.start, until);
  const careAlarms = input.alarms.filter((a) => a.priority !== 'technical');
  const assisted = careAlarms.filter((a) => a.outcome === 'assisted').length;

  const windowMinutes = minutes(window.end - window.start);
  const reasons: { nb: string; en: string }[] = [];
  let verdict: Verdict;
  if (bed === null || bed.observedMs === 0) {
    verdict = 'unknown';
    reasons.push(
      input.bed === null
        ? { nb: 'ingen sengematte er knyttet til beboeren', en: 'no bed mat is linked to the resident' }
        : { nb: 'sengematten meldte ingenting i nattvinduet', en: 'the bed mat reported nothing in the night window' },
    );
  } else {
    const exits = bed.spells.filter((s) => s.exit).length;
    const longest = Math.max(0, ...bed.spells.filter((s) => s.exit).map((s) => minutes(s.to - s.from)));
    const inBedShare = bed.inBedMs / bed.observedMs;
    if (exits >= RESTLESS.bedExits)
      reasons.push({
        nb: `oppe ${times(exits, 'nb')} (${RESTLESS.bedExits} eller flere regnes som urolig)`,
        en: `up ${times(exits, 'en')} (${RESTLESS.bedExits} or more counts as restless)`,
      });
    if (longest >= RESTLESS.longestOutOfBedMinutes)
      reasons.push({
        nb: `ute av sengen i ${duration(longest, 'nb')} på det lengste (grense ${RESTLESS.longestOutOfBedMinutes} min)`,
        en: `out of bed for ${duration(longest, 'en')} at the longest (limit ${RESTLESS.longestOutOfBedMinutes} min)`,
      });
    if (inBedShare < RESTLESS.inBedShare)
      reasons.push({
        nb: `i seng bare ${duration(minutes(bed.inBedMs), 'nb')} av ${duration(minutes(bed.observedMs), 'nb')}`,
        en: `in bed only ${duration(minutes(bed.inBedMs), 'en')} of ${duration(minutes(bed.observedMs), 'en')}`,
      });
    if (doorOpenings !== null && doorOpenings >= RESTLESS.doorOpenings)
      reasons.push({ nb: `døren ble åpnet ${times(doorOpenings, 'nb')}`, en: `the door was opened ${times(doorOpenings, 'en')}` });
    if (assisted > 0)
      reasons.push({
        nb: `personalet måtte hjelpe etter ${assisted === 1 ? 'én alarm' : `${assisted} alarmer`}`,
        en: `staff had to assist after ${assisted === 1 ? 'one alarm' : `${assisted} alarms`}`,
      });
    verdict = reasons.length > 0 ? 'restless' : 'calm';
    if (verdict === 'calm') {
      const up =
        exits === 0
          ? { nb: 'ikke oppe', en: 'not up' }
          : { nb: `oppe ${times(exits, 'nb')} (lengst ${longest} min)`, en: `up ${times(exits, 'en')} (longest ${longest} min)` };
      reasons.push({
        nb: `i seng ${duration(minutes(bed.inBedMs), 'nb')} av ${duration(minutes(bed.observedMs), 'nb')}, ${up.nb}, ${
          careAlarms.length === 0
            ? 'ingen alarmer'
            : `${careAlarms.length} alarm${careAlarms.length === 1 ? '' : 'er'} uten behov for hjelp`
        }`,
        en: `in bed ${duration(minutes(bed.inBedMs), 'en')} of ${duration(minutes(bed.observedMs), 'en')}, ${up.en}, ${
          careAlarms.length === 0 ? 'no alarms' : `${careAlarms.length} alarm${careAlarms.length === 1 ? '' : 's'} without need of help`
        }`,
      });
    }
  }
  const label = { calm: { nb: 'Rolig natt', en: 'Calm night' }, restless: { nb: 'Urolig natt', en: 'Restless night' } };
  const head = verdict === 'unknown' ? { nb: 'Ukjent', en: 'Unknown' } : label[verdict];
  const exitSpells = bed?.spells.filter((s) => s.exit) ?? [];
  return {
    siteId: input.siteId,
    residentId: input.residentId,
    night: input.night,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
      localStart: input.localWindow.start,
      localEnd: input.localWindow.end,
    },
    timeZone: input.timeZone,
    computedAt: new Date(input.now).toISOString(),
    complete: input.now >= window.end,
    timeInBedMinutes: bed === null || bed.observedMs === 0 ? null : minutes(bed.inBedMs),
    observedMinutes: bed === null ? 0 : minutes(bed.observedMs),
    windowMinutes,
    inBedFrom: bed?.inBedFrom === null || bed === null ? null : new Date(bed.inBedFrom).toISOString(),
    bedExits: bed === null || bed.observedMs === 0 ? null : exitSpells.length,
    longestOutOfBedMinutes: bed === null || bed.observedMs === 0 ? null : Math.max(0, ...exitSpells.map((s) => minutes(s.to - s.from))),
    outOfBed: exitSpells.map((s) => ({
      from: new Date(s.from).toISOString(),
      to: new Date(s.to).toISOString(),
      minutes: minutes(s.to - s.from),
      backInBed: s.backInBed,
    })),
    doorOpenings,
    alarms: input.alarms,
    verdict,
    reason: { nb: `${head.nb}: ${reasons.map((r) => r.nb).join('; ')}.`, en: `${head.en}: ${reasons.map((r) => r.en).join('; ')}.` },
  };
}

interface Spell {
  from: number;
  to: number;
  backInBed: boolean;
  /** Began inside the window after the resident had been in bed: a bed exit. */
  exit: boolean;
}

interface BedNight {
  observedMs: number;
  inBedMs: number;
  inBedFrom: number | null;
  spells: Spell[];
}

/**
 * The bed mat over [start, until): its state at `start` is the last reading before it (unknown
 * when there is none). Unloads shorter than the grace count as in bed, as the rules count them.
 */
function bedNight(readings: Reading[], start: number, until: number, graceMs: number): BedNight {
  let state: boolean | null = null;
  let i = 0;
  for (; i < readings.length && (readings[i] as Reading).time < start; i++) state = (readings[i] as Reading).value;
  // Segments of one known state inside the window.
  const segments: { from: number; to: number; occupied: boolean }[] = [];
  let since = start;
  const close = (to: number) => {
    if (state !== null && to > since) {
      const last = segments.at(-1);
      if (last !== undefined && last.occupied === state && last.to === since) last.to = to;
      else segments.push({ from: since, to, occupied: state });
    }
  };
  for (; i < readings.length; i++) {
    const r = readings[i] as Reading;
    if (r.time >= until) break;
    if (r.value === state) continue;
    close(r.time);
    state = r.value;
    since = r.time;
  }
  close(until);

  let observedMs = 0;
  let inBedMs = 0;
  let inBedFrom: number | null = null;
  let beenInBed = false;
  const spells: Spell[] = [];
  for (const [k, s] of segments.entries()) {
    observedMs += s.to - s.from;
    if (s.occupied) {
      inBedMs += s.to - s.from;
      inBedFrom ??= s.from;
      beenInBed = true;
      continue;
    }
    const next = segments[k + 1];
    const backInBed = next?.occupied === true && next.from === s.to;
    const length = s.to - s.from;
    if (length < graceMs && (backInBed || s.to === until)) {
      inBedMs += length; // turning over or sitting up (or too soon to tell): still in bed
      continue;
    }
    const previous = segments[k - 1];
    const exit = beenInBed && previous?.occupied === true && previous.to === s.from;
    spells.push({ from: s.from, to: s.to, backInBed, exit });
  }
  return { observedMs, inBedMs, inBedFrom, spells };
}

function countOpenings(readings: Reading[], start: number, until: number): number {
  let open: boolean | null = null;
  let count = 0;
  for (const r of readings) {
    if (r.time >= until) break;
    if (r.value && open !== true && r.time >= start) count++;
    open = r.value;
  }
  return count;
}
