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

const dateTimeFormatters = new Map<string, Intl.DateTimeFormat>();

/** "24.11.2026 03:12" in the site's time zone (admin lists, logs): the same in every language. */
export function formatDateTime(instant: string | number, timeZone: string | undefined): string {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  if (Number.isNaN(ms)) return '–';
  const key = timeZone ?? '';
  let format = dateTimeFormatters.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    };
    try {
      format = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat('en-GB', options);
    }
    dateTimeFormatters.set(key, format);
  }
  const parts = format.formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('day')}.${part('month')}.${part('year')} ${part('hour')}:${part('minute')}`;
}

/** Today's date (YYYY-MM-DD) in the site's time zone, for date fields that default to today. */
export function siteToday(timeZone: string | undefined, now = Date.now()): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).formatToParts(now);
  } catch {
    parts = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '01';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** A calendar date as stored (YYYY-MM-DD) written the Norwegian way, DD.MM.YYYY; anything else as it is. */
export function formatDay(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : date;
}
