import type { AlarmReport, NightAlarm } from '@nattevakt/protocol/night-summary';
import { nightOf } from '@nattevakt/protocol/rules/nights';
import { percentile } from '../alarms/delivery.js';

/**
 * Whether an alarm took a nurse to the room for a reason: a care alarm after which the nurse
 * assisted (or did something that needed a note), or one still open (someone is on the way or
 * should be). Technical alarms are the technician's; a false alarm or a resident back by
 * themselves needed no check.
 */
export const neededPhysicalCheck = (a: NightAlarm) =>
  a.priority !== 'technical' && (a.outcome === 'assisted' || a.outcome === 'other' || a.status !== 'resolved');

function percentiles(values: number[]): AlarmReport['responseMs'] {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
}

/**
 * The nurse in charge's report over `nights` (oldest first): alarms per night and per rule,
 * response time p50/p90 (received → acknowledged, nearest rank), the share of false alarms per
 * rule among the alarms resolved with an outcome, and the nights in which no alarm needed a
 * physical check (among the nights the site was watched).
 */
export function buildAlarmReport(
  base: { siteId: string; residentId: string | null; timeZone: string },
  nights: readonly string[],
  alarms: readonly NightAlarm[],
  /** Nights the site was watched (summaries exist): a night without data proves nothing. */
  watched: ReadonlySet<string>,
): AlarmReport {
  const byNight = new Map(nights.map((night) => [night, [] as NightAlarm[]]));
  for (const a of alarms) byNight.get(nightOf(Date.parse(a.raisedAt), base.timeZone))?.push(a);
  const counted = [...byNight.values()].flat();
  const byRule = new Map<string, NightAlarm[]>();
  for (const a of counted) byRule.set(a.rule, [...(byRule.get(a.rule) ?? []), a]);
  const response = (list: NightAlarm[]) => percentiles(list.flatMap((a) => (a.responseMs === null ? [] : [a.responseMs])));
  const nightRows = [...byNight.entries()].map(([night, list]) => {
    const rules: Record<string, number> = {};
    for (const a of list) rules[a.rule] = (rules[a.rule] ?? 0) + 1;
    const physicalChecks = list.filter(neededPhysicalCheck).length;
    const isWatched = watched.has(night) || list.length > 0;
    return {
      night,
      watched: isWatched,
      alarms: list.length,
      byRule: rules,
      physicalChecks,
      noPhysicalCheckNeeded: isWatched && physicalChecks === 0,
    };
  });
  return {
    siteId: base.siteId,
    residentId: base.residentId,
    from: nights[0] ?? '',
    to: nights.at(-1) ?? '',
    timeZone: base.timeZone,
    alarms: counted.length,
    responseMs: response(counted),
    nights: nightRows,
    rules: [...byRule.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, list]) => {
        const withOutcome = list.filter((a) => a.outcome !== null).length;
        const falseAlarms = list.filter((a) => a.outcome === 'false-alarm').length;
        return {
          rule: rule as NightAlarm['rule'],
          alarms: list.length,
          withOutcome,
          falseAlarms,
          falseAlarmShare: withOutcome === 0 ? null : falseAlarms / withOutcome,
          responseMs: response(list),
        };
      }),
    nightsWithoutPhysicalCheck: nightRows.filter((n) => n.noPhysicalCheckNeeded).length,
  };
}
