/**
 * Nights as the server counts them (protocol `rules/nights`): from local noon to the next local
 * noon in the site's time zone, so "tonight" on a board at 03:00 began yesterday at 12:00.
 * Done with Intl rather than a date library, to keep the board's first download small.
 */

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: number, timeZone: string | undefined): { year: number; month: number; day: number; hour: number; ms: number } {
  const key = timeZone ?? '';
  let format = offsetFormatters.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    };
    try {
      format = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat('en-GB', options);
    }
    offsetFormatters.set(key, format);
  }
  const parts = format.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const [year, month, day, hour, minute, second] = [part('year'), part('month'), part('day'), part('hour'), part('minute'), part('second')];
  return { year, month, day, hour, ms: Date.UTC(year, month - 1, day, hour, minute, second) };
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in ms. */
function offsetAt(instant: number, timeZone: string | undefined): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallClock(whole, timeZone).ms - whole;
}

/** The instant (epoch ms) the night that `instant` belongs to began: the last local noon at or before it. */
export function nightStartOf(instant: number, timeZone: string | undefined): number {
  const local = wallClock(instant, timeZone);
  const dayMs = Date.UTC(local.year, local.month - 1, local.day) - (local.hour < 12 ? 86_400_000 : 0);
  const noonAsUtc = dayMs + 12 * 3_600_000;
  // Local noon is UTC noon minus the offset; the offset is taken again at the result (a DST change overnight).
  const first = noonAsUtc - offsetAt(noonAsUtc, timeZone);
  return noonAsUtc - offsetAt(first, timeZone);
}
