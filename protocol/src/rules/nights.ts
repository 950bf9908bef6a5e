import { DateTime } from 'luxon';
import type { NightWindow } from '../site-config.js';
import { clockMinutes, localTimeOn, nightWindowEndFrom } from './night-window.js';

/**
 * Nights as summaries and reports count them. A night is named by the local date of its evening
 * (`YYYY-MM-DD`): the night of 24 November is the one that starts on the evening of the 24th.
 * Every night runs from local noon to the next local noon, so a window that starts after midnight
 * (01:00–05:00) still belongs to the evening before, and an instant belongs to exactly one night.
 */

const NIGHT_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar date written `YYYY-MM-DD`. */
export function isNightDate(value: string): boolean {
  const m = NIGHT_DATE.exec(value);
  if (m === null) return false;
  return DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, { zone: 'UTC' }).isValid;
}

function noonOf(night: string, zone: string): DateTime {
  if (!isNightDate(night)) throw new Error(`"${night}" is not a date YYYY-MM-DD`);
  const day = DateTime.fromISO(night, { zone });
  if (!day.isValid) throw new Error(`"${zone}" is not an IANA time zone`);
  return day.set({ hour: 12, minute: 0, second: 0, millisecond: 0 });
}

/** The night an instant belongs to: the local date of the instant twelve hours earlier (noon to noon). */
export function nightOf(instant: number, zone: string): string {
  const local = DateTime.fromMillis(instant, { zone });
  // Noon to noon on the local clock: before local noon the instant belongs to yesterday's evening.
  const date = local.hour < 12 ? local.minus({ days: 1 }) : local;
  return date.toISODate() ?? new Date(instant).toISOString().slice(0, 10);
}

/** The night `days` nights after `night` (negative: before). */
export function addNights(night: string, days: number): string {
  const d = DateTime.fromISO(night, { zone: 'UTC' }).plus({ days });
  return d.toISODate() ?? night;
}

/** Local noon of the night's date to local noon of the next date, as instants (23, 24 or 25 hours). */
export function nightSpan(night: string, zone: string): { start: number; end: number } {
  const noon = noonOf(night, zone);
  return { start: noon.toMillis(), end: noon.plus({ days: 1 }).toMillis() };
}

/**
 * The night window of `night` as instants [start, end) in the site's zone, correct across DST:
 * the first time the local clock reads the window's start at or after local noon of that date,
 * until the first time after that it reads the window's end. On the night the clocks go forward
 * (Europe/Oslo, last Sunday of March) a 22:00–07:00 window lasts 8 hours; on the night they go back,
 * 10 hours. A 24-hour window (start = end) runs until the next night's start.
 */
export function nightWindowOf(night: string, window: NightWindow, zone: string): { start: number; end: number } {
  const start = windowStart(night, window, zone);
  // A 24-hour window never closes: it runs until the next night's window opens.
  const end = nightWindowEndFrom(start, window, zone) ?? windowStart(addNights(night, 1), window, zone);
  return { start, end };
}

function windowStart(night: string, window: NightWindow, zone: string): number {
  const noon = noonOf(night, zone);
  const startMinute = clockMinutes(window.start);
  // A start before noon (01:00) is on the next date.
  const day = startMinute < 12 * 60 ? noon.plus({ days: 1 }).startOf('day') : noon.startOf('day');
  return localTimeOn(day, startMinute);
}

/** The nights from `first` to `last` inclusive, oldest first. */
export function nightsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let night = first; night <= last; night = addNights(night, 1)) out.push(night);
  return out;
}
