/** Calendar dates (`YYYY-MM-DD`) in a site's time zone, for legal-basis dates and evaluation reminders. */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date at `instant` in the IANA time zone `zone` (DST included). */
export function localDate(instant: number, zone: string): string {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const utcDay = (date: string) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));

/** Whether `YYYY-MM-DD` names a day that exists (the schema's pattern lets 2026-02-30 through). */
export function isRealDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const d = new Date(utcDay(date));
  return d.toISOString().slice(0, 10) === date;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string): number => Math.round((utcDay(to) - utcDay(from)) / 86_400_000);
