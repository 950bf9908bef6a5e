import { DateTime } from 'luxon';
import type { NightWindow } from '../site-config.js';

/** Minutes since midnight of a wall-clock time `HH:MM`. */
export const clockMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

/** Minutes since local midnight of an instant in a time zone (DST-aware). */
export function localMinuteOfDay(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return local.hour * 60 + local.minute;
}

/**
 * The instant at which the local wall clock of `day`'s date first shows `minuteOfDay` or later.
 * On a normal day that is the time itself. When the clocks go back, a time that happens twice is
 * taken the first time. When they go forward, a time inside the skipped hour becomes the first
 * valid minute after it: 02:30 on 29 March 2026 in Europe/Oslo is 03:00 summer time.
 */
export function localTimeOn(day: DateTime, minuteOfDay: number): number {
  const hour = Math.floor(minuteOfDay / 60);
  const minute = minuteOfDay % 60;
  // luxon takes the earlier offset for a repeated time, and shifts a skipped time forward by the
  // size of the gap (02:30 → 03:30): step back to the moment the clock jumped.
  const candidate = day.set({ hour, minute, second: 0, millisecond: 0 });
  if (candidate.hour === hour && candidate.minute === minute) return candidate.toMillis();
  let jump = candidate.toMillis();
  while (DateTime.fromMillis(jump - 60_000, { zone: day.zone }).offset === candidate.offset) jump -= 60_000;
  return jump;
}

/**
 * The instants of `day`'s date at which the local clock reads `minuteOfDay`: one on most days,
 * two when the clocks go back through that time (its first and second pass), and for a skipped
 * time the one instant localTimeOn gives.
 */
function passesOn(day: DateTime, minuteOfDay: number): number[] {
  const first = localTimeOn(day, minuteOfDay);
  const later = DateTime.fromMillis(first + 3_600_000, { zone: day.zone });
  const second = later.hour * 60 + later.minute === minuteOfDay && later.day === day.day ? [later.toMillis()] : [];
  return [first, ...second];
}

/**
 * The first instant at or after `instant` at which the local clock reads `hhmm` (see localTimeOn).
 * With `everyPass`, the second pass of a time repeated when the clocks go back counts too (the
 * edges of a night window); without it a time happens once a day (a daily check).
 */
export function nextLocalTime(instant: number, hhmm: string, zone: string, everyPass = false): number {
  const day = DateTime.fromMillis(instant, { zone }).startOf('day');
  for (let d = 0; ; d++) {
    const passes = passesOn(day.plus({ days: d }), clockMinutes(hhmm));
    const found = (everyPass ? passes : passes.slice(0, 1)).find((t) => t >= instant);
    if (found !== undefined) return found;
  }
}

/** The last instant at or before `instant` at which the local clock read `hhmm`, once a day (see localTimeOn). */
export function previousLocalTime(instant: number, hhmm: string, zone: string): number {
  const day = DateTime.fromMillis(instant, { zone }).startOf('day');
  for (let d = 0; ; d--) {
    const candidate = localTimeOn(day.plus({ days: d }), clockMinutes(hhmm));
    if (candidate <= instant) return candidate;
  }
}

/** True when the instant falls inside the night window, read on the site's local clock. */
export function isInNightWindow(instant: number, window: NightWindow, zone: string): boolean {
  const now = localMinuteOfDay(instant, zone);
  const start = clockMinutes(window.start);
  const end = clockMinutes(window.end);
  if (start === end) return true; // a 24-hour window
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * The first instant at or after `instant` that lies inside the window: `instant` itself when it
 * already does, else the next local start time. On a DST spring-forward day a start time inside
 * the skipped hour moves to the first valid minute after it.
 */
export function nightWindowStartFrom(instant: number, window: NightWindow, zone: string): number {
  if (isInNightWindow(instant, window, zone)) return instant;
  return nextLocalTime(instant + 1, window.start, zone, true);
}

/**
 * When the window that `instant` lies in closes: the next local end time after `instant`, or null
 * for a 24-hour window (start = end), which never closes. On a DST spring-forward day an end time
 * inside the skipped hour is the moment the clock jumps past it.
 */
export function nightWindowEndFrom(instant: number, window: NightWindow, zone: string): number | null {
  if (clockMinutes(window.start) === clockMinutes(window.end)) return null;
  return nextLocalTime(instant + 1, window.end, zone, true);
}

/**
 * When `minutes` out of bed (or of an open door) have been counted inside the night window, for a
 * condition that started at `since`. Time counts only inside the window, and the minutes must fit
 * inside one window: counting starts at `since` if that is inside the window, else when the window
 * next opens; if the window closes first, counting starts again from zero when it next opens.
 * Null when the minutes can never fit (a threshold longer than the window: three windows are tried).
 */
export function dueAfterMinutesInWindow(since: number, minutes: number, window: NightWindow, zone: string): number | null {
  let start = nightWindowStartFrom(since, window, zone);
  for (let night = 0; night < 3; night++) {
    const due = start + minutes * 60_000;
    const end = nightWindowEndFrom(start, window, zone);
    if (end === null || due <= end) return due;
    // The window closed before the time ran out: counting starts again when it next opens.
    start = nightWindowStartFrom(end, window, zone);
  }
  return null;
}

/** Formats an instant as an ISO string in the site's zone, with its offset (for evidence and logs). */
export function toSiteIso(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: false }) ?? new Date(instant).toISOString();
}
