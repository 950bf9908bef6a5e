import { evidenceOf, graceSeconds } from './bed.js';
import { nextLocalTime, previousLocalTime } from './night-window.js';
import type { CareDeadlineContext, CareRule } from './types.js';

/** The rule's settings while it is on: armed plan, rule enabled. */
const active = (ctx: Pick<CareDeadlineContext, 'resident'>) => {
  const { plan } = ctx.resident;
  return plan.armed && plan.rules.notInBedBy?.enabled ? plan.rules.notInBedBy : null;
};

/**
 * When the next check acts. At the daily check time T the resident should be in bed: an unload
 * that started at or before T and lasted the grace means "not in bed". An unload still inside
 * its grace at T is decided when the grace ends.
 */
function dueAt(ctx: CareDeadlineContext): number | null {
  const rule = active(ctx);
  if (rule === null || ctx.state.open.has('not-in-bed-by')) return null;
  const from = ctx.state.notInBedByFrom;
  if (from === null) return ctx.lastNow; // switched on since the last call: start checking now
  const check = nextLocalTime(from, rule.time, ctx.config.site.timezone);
  const { bed } = ctx.state;
  const grace = graceSeconds(ctx.resident.plan) * 1000;
  if (bed.occupied === false && bed.since !== null && bed.since <= check && bed.since + grace > check) return bed.since + grace;
  return check;
}

/**
 * Not in bed by a set time of night (Tunstall's "not in bed by"): a resident who has not gone to
 * bed by, say, 23:00 may be wandering, or may have fallen. Checked once a day at that local time,
 * from the moment the rule is on. A bed whose state is unknown at that time raises nothing (the
 * sensor-silent alarm covers a dead mat). Cleared when the bed is occupied again.
 */
export const notInBedBy: CareRule = {
  id: 'not-in-bed-by',
  onEvent(ctx, event) {
    if (event.sensorKind === 'bed' && event.occupied === true) ctx.clear('not-in-bed-by', event.id);
  },
  onTick(ctx) {
    const rule = active(ctx);
    const { state, now } = ctx;
    if (rule === null) {
      state.notInBedByFrom = null; // checks that pass while the rule is off are skipped
      return;
    }
    state.notInBedByFrom ??= now;
    if (state.open.has('not-in-bed-by')) return;
    const zone = ctx.config.site.timezone;
    if (nextLocalTime(state.notInBedByFrom, rule.time, zone) > now) return;
    // Only the latest check that has passed matters (a tick that comes a day late decides once).
    const check = previousLocalTime(now, rule.time, zone);
    state.notInBedByFrom = check;
    const { bed } = state;
    if (bed.occupied === false && bed.since !== null && bed.since <= check) {
      if (bed.since + graceSeconds(ctx.resident.plan) * 1000 > now) return; // maybe only turning over: wait for the grace
      ctx.raise('not-in-bed-by', {
        sensorId: bed.sensorId ?? '',
        priority: rule.priority,
        since: bed.since,
        eventIds: evidenceOf(bed.eventId),
        evidence: { setting: { time: rule.time } },
      });
    }
    state.notInBedByFrom = check + 1; // this check is done: the next one is tomorrow's
  },
  deadline: dueAt,
};
