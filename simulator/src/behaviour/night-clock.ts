import { DateTime } from 'luxon';

const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const EVENING_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The night of an evening date in a time zone. A night runs from noon on the evening date to
 * noon the next day, so every wall-clock time names exactly one instant of it: 22:00 is the
 * evening, 03:10 the morning after. Times inside a DST gap move forward (luxon's rule); a time
 * that occurs twice at fall-back is its first occurrence.
 */
export class NightClock {
  readonly night: string;
  readonly zone: string;
  readonly #evening: DateTime;
  // Luxon's zone arithmetic is slow; these are asked for every message.
  #start: number | undefined;
  #end: number | undefined;

  constructor(night: string, zone: string) {
    if (!EVENING_DATE.test(night)) throw new RangeError(`night must be the evening date as YYYY-MM-DD, got "${night}"`);
    const evening = DateTime.fromISO(night, { zone });
    if (!evening.isValid) throw new RangeError(`night "${night}" in zone "${zone}" is not a valid date (${evening.invalidExplanation})`);
    this.night = night;
    this.zone = zone;
    this.#evening = evening;
  }

  /** Noon on the evening date: where the behaviour model starts the day. */
  get start(): number {
    this.#start ??= this.#evening.set({ hour: 12 }).toMillis();
    return this.#start;
  }

  /** Noon the next day: where the behaviour model ends the night. */
  get end(): number {
    this.#end ??= this.#evening.plus({ days: 1 }).set({ hour: 12 }).toMillis();
    return this.#end;
  }

  /** The instant of a local wall-clock time "HH:MM" (seconds optional as a number) in this night. */
  at(clockTime: string, seconds = 0): number {
    const match = CLOCK_TIME.exec(clockTime);
    if (match === null) throw new RangeError(`"${clockTime}" is not a wall-clock time HH:MM (00:00–23:59)`);
    const hour = Number(match[1]);
    const minute = Number(match[2]);
    const day = hour >= 12 ? this.#evening : this.#evening.plus({ days: 1 });
    return day.set({ hour, minute, second: 0, millisecond: 0 }).toMillis() + seconds * 1000;
  }

  /**
   * The instant of a wall-clock time given as minutes from midnight (negative: the evening
   * before), fractions included. Anchored on the wall clock, so "06:45" stays 06:45 on a DST night.
   */
  atMinutes(minutesFromMidnight: number): number {
    const totalSeconds = Math.round(minutesFromMidnight * 60);
    const wallMinutes = Math.floor(totalSeconds / 60);
    const dayMinutes = ((wallMinutes % 1440) + 1440) % 1440;
    const hh = String(Math.floor(dayMinutes / 60)).padStart(2, '0');
    const mm = String(dayMinutes % 60).padStart(2, '0');
    return this.at(`${hh}:${mm}`, totalSeconds - wallMinutes * 60);
  }

  /** The local date (YYYY-MM-DD) and wall-clock time (HH:MM) of an instant, for log lines. */
  local(instant: number): { date: string; time: string } {
    const local = DateTime.fromMillis(instant, { zone: this.zone });
    return { date: local.toFormat('yyyy-MM-dd'), time: local.toFormat('HH:mm') };
  }

  /** Whether the wall-clock time of this instant occurs twice tonight (the hour repeated when DST ends). */
  isAmbiguous(instant: number): boolean {
    const wall = (at: number) => DateTime.fromMillis(at, { zone: this.zone }).toFormat('HH:mm');
    const here = wall(instant);
    return wall(instant - 3_600_000) === here || wall(instant + 3_600_000) === here;
  }

  /** The next night, for a loop that plays night after night. */
  next(): NightClock {
    return new NightClock(this.#evening.plus({ days: 1 }).toFormat('yyyy-MM-dd'), this.zone);
  }
}
