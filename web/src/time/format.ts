/**
 * Clock times on the site's own time zone, whatever zone the tablet is set to. The pieces are
 * assembled by hand so that every language shows the same 24-hour "03:10".
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined, seconds: boolean): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${seconds}`;
  let found = formatters.get(key);
  if (!found) {
    const options: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (seconds) options.second = '2-digit';
    try {
      found = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch {
      // An unknown zone name must not take the board down; the tablet's own zone is the best guess.
      found = new Intl.DateTimeFormat('en-GB', options);
    }
    formatters.set(key, found);
  }
  return found;
}

export function formatClock(instant: string | number, timeZone: string | undefined, seconds = false): string {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  if (Number.isNaN(ms)) return '--:--';
  const parts = formatter(timeZone, seconds).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return seconds ? `${part('hour')}:${part('minute')}:${part('second')}` : `${part('hour')}:${part('minute')}`;
}

/** Whole minutes from `since` to `now`, never negative (clocks of gateway and server may differ). */
export function minutesSince(since: string | null, now: number): number | null {
  if (since === null) return null;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) return null;
  return Math.max(0, Math.floor((now - ms) / 60_000));
}
