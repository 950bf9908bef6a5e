import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { NightClock } from '../behaviour/night-clock.js';
import type { CompiledExpectation, CompiledForbidden, CompiledScenario } from './load-scenario.js';

/** One way the alarms raised differ from what the scenario says. */
export type Difference =
  | { kind: 'missing'; expectation: CompiledExpectation; closest?: AlarmDecision }
  | { kind: 'count'; expectation: CompiledExpectation; got: AlarmDecision[] }
  | { kind: 'forbidden'; forbidden: CompiledForbidden; alarm: AlarmDecision }
  | { kind: 'unexpected'; alarm: AlarmDecision };

type Who = { rule?: string; residentId?: string; sensorId?: string; roomId?: string; from: number; to: number };

const matches = (who: Who, alarm: AlarmDecision): boolean => {
  const raised = Date.parse(alarm.raisedAt);
  return (
    (who.rule === undefined || alarm.rule === who.rule) &&
    (who.residentId === undefined || alarm.residentId === who.residentId) &&
    (who.sensorId === undefined || alarm.sensorId === who.sensorId) &&
    (who.roomId === undefined || alarm.roomId === who.roomId) &&
    raised >= who.from &&
    raised <= who.to
  );
};

/**
 * Compares the alarms a gateway raised with the scenario: every expectation needs its alarms
 * (at least one, or exactly `count`), no alarm may match a `forbid` entry, and, unless
 * `otherAlarms: ignore`, every alarm must be one that some expectation names.
 */
export function compareAlarms(
  scenario: Pick<CompiledScenario, 'expectations' | 'forbidden' | 'otherAlarms'>,
  alarms: readonly AlarmDecision[],
): Difference[] {
  const differences: Difference[] = [];
  const explained = new Set<AlarmDecision>();
  for (const expectation of scenario.expectations) {
    const got = alarms.filter((alarm) => matches(expectation, alarm));
    for (const alarm of got) explained.add(alarm);
    if (got.length === 0) {
      const closest = closestTo(expectation, alarms);
      differences.push(closest === undefined ? { kind: 'missing', expectation } : { kind: 'missing', expectation, closest });
    } else if (expectation.count !== undefined && got.length !== expectation.count) {
      differences.push({ kind: 'count', expectation, got });
    }
  }
  for (const forbidden of scenario.forbidden) {
    for (const alarm of alarms) if (matches(forbidden, alarm)) differences.push({ kind: 'forbidden', forbidden, alarm });
  }
  if (scenario.otherAlarms === 'fail') {
    const forbiddenAlarms = new Set(differences.flatMap((d) => (d.kind === 'forbidden' ? [d.alarm] : [])));
    for (const alarm of alarms) if (!explained.has(alarm) && !forbiddenAlarms.has(alarm)) differences.push({ kind: 'unexpected', alarm });
  }
  return differences;
}

/** The alarm of the same rule and person nearest in time, to show next to a missing one. */
function closestTo(expectation: CompiledExpectation, alarms: readonly AlarmDecision[]): AlarmDecision | undefined {
  const middle = (expectation.from + expectation.to) / 2;
  const candidates = alarms.filter((alarm) =>
    matches({ ...expectation, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }, alarm),
  );
  return candidates.sort((a, b) => Math.abs(Date.parse(a.raisedAt) - middle) - Math.abs(Date.parse(b.raisedAt) - middle))[0];
}

/** "out-of-bed-too-long res-12 room-12 bed-12 at 03:50:00". */
export function describeAlarm(alarm: AlarmDecision, clock: NightClock): string {
  const who = [alarm.residentId, alarm.sensorId].filter((x) => x !== undefined).join(' ');
  return `${alarm.rule} ${who} at ${localTime(Date.parse(alarm.raisedAt), clock)}`;
}

function describeWho(who: Who, clock: NightClock): string {
  const parts = [who.rule ?? 'any alarm', who.residentId, who.sensorId, who.roomId].filter((x) => x !== undefined);
  return `${parts.join(' ')} between ${localTime(who.from, clock)} and ${localTime(who.to, clock)}`;
}

/** HH:MM:SS on the site's wall clock, with the UTC offset on a DST night where the hour repeats. */
export function localTime(instant: number, clock: NightClock): string {
  const { time } = clock.local(instant);
  const seconds = String(Math.floor((instant / 1000) % 60)).padStart(2, '0');
  const offset = new Intl.DateTimeFormat('en', { timeZone: clock.zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(instant))
    .find((p) => p.type === 'timeZoneName')?.value;
  const shown = `${time}:${seconds}`;
  return clock.isAmbiguous(instant) && offset !== undefined ? `${shown} (${offset})` : shown;
}

/** The differences as lines for a terminal: expected, and what was got instead. */
export function describeDifferences(differences: readonly Difference[], clock: NightClock): string[] {
  return differences.map((d) => {
    const line = (l: number | undefined) => (l === undefined ? '' : ` (line ${l})`);
    switch (d.kind) {
      case 'missing':
        return `missing     expected ${describeWho(d.expectation, clock)}${line(d.expectation.line)}; got ${
          d.closest === undefined ? 'no such alarm' : `the nearest at ${localTime(Date.parse(d.closest.raisedAt), clock)}`
        }`;
      case 'count':
        return `count       expected ${d.expectation.count} × ${describeWho(d.expectation, clock)}${line(d.expectation.line)}; got ${d.got.length}: ${d.got
          .map((a) => localTime(Date.parse(a.raisedAt), clock))
          .join(', ')}`;
      case 'forbidden':
        return `forbidden   got ${describeAlarm(d.alarm, clock)}, which must not be raised${line(d.forbidden.line)}`;
      case 'unexpected':
        return `unexpected  got ${describeAlarm(d.alarm, clock)}, which no expectation names`;
      default: {
        const exhaustive: never = d;
        throw new Error(`unknown difference ${JSON.stringify(exhaustive)}`);
      }
    }
  });
}
