import { DateTime } from 'luxon';
import type { NightWindow } from '../site-config.js';

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

/** Minutes since local midnight of an instant in a time zone (DST-aware). */
export function localMinuteOfDay(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return local.hour * 60 + local.minute;
}

/** True when the instant falls inside the night window, read on the site's local clock. */
export function isInNightWindow(instant: number, window: NightWindow, zone: string): boolean {
  const now = localMinuteOfDay(instant, zone);
  const start = minutes(window.start);
  const end = minutes(window.end);
  if (start === end) return true; // a 24-hour window
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * The first instant at or after `instant` that lies inside the window: `instant` itself when it
 * already does, else the next local start time. On a DST spring-forward day a start time inside
 * the skipped hour moves to the first valid minute after it (luxon's rule).
 */
export function nightWindowStartFrom(instant: number, window: NightWindow, zone: string): number {
  if (isInNightWindow(instant, window, zone)) return instant;
  const start = minutes(window.start);
  const local = DateTime.fromMillis(instant, { zone });
  let candidate = local.set({ hour: Math.floor(start / 60), minute: start % 60, second: 0, millisecond: 0 });
  if (candidate.toMillis() <= instant) candidate = candidate.plus({ days: 1 });
  return candidate.toMillis();
}

/**
 * When the window that `instant` lies in closes: the next local end time after `instant`, or null
 * for a 24-hour window (start = end), which never closes. On a DST spring-forward day an end time
 * inside the skipped hour is read as the first valid minute after it (luxon's rule), up to an hour
 * late; callers that need the exact edge also check `isInNightWindow`.
 */
export function nightWindowEndFrom(instant: number, window: NightWindow, zone: string): number | null {
  const end = minutes(window.end);
  if (minutes(window.start) === end) return null;
  const local = DateTime.fromMillis(instant, { zone });
  let candidate = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (candidate.toMillis() <= instant) candidate = candidate.plus({ days: 1 });
  return candidate.toMillis();
}

/** Formats an instant as an ISO string in the site's zone, with its offset (for evidence and logs). */
export function toSiteIso(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toISO({ suppressMilliseconds: false }) ?? new Date(instant).toISOString();
}
