import { evidenceOf, graceSeconds, unloadedSince } from './bed.js';
import { dueAfterMinutesInWindow } from './night-window.js';
import type { CareDeadlineContext, CareRule } from './types.js';

/**
 * When the out-of-bed alarm is due: N minutes out of bed counted inside the night window only,
 * so a resident who sits in the lounge at 21:00 is not alarmed the moment the window opens (see
 * dueAfterMinutesInWindow). Never before the bed grace has passed: a mat unloaded for a few
 * seconds is someone turning over, not someone up. Null when nothing is due: bed occupied or
 * unknown, rule off, alarm already raised, or a threshold longer than the window itself.
 */
function dueAt(ctx: Pick<CareDeadlineContext, 'config' | 'resident' | 'state'>): number | null {
  const { plan } = ctx.resident;
  const rule = plan.rules.outOfBedTooLong;
  if (!plan.armed || !rule.enabled) return null;
  const since = unloadedSince(ctx.state);
  if (since === null || ctx.state.open.has('out-of-bed-too-long')) return null;
  const due = dueAfterMinutesInWindow(since, rule.minutes, plan.nightWindow, ctx.config.site.timezone);
  return due === null ? null : Math.max(due, since + graceSeconds(plan) * 1000);
}

/**
 * Out of bed longer than N minutes in the night window: the resident with fall risk who got
 * up and has not come back. Cleared when the bed is occupied again.
 */
export const outOfBedTooLong: CareRule = {
  id: 'out-of-bed-too-long',
  onEvent(ctx, event) {
    if (event.sensorKind === 'bed' && event.occupied === true) ctx.clear('out-of-bed-too-long', event.id);
  },
  onTick(ctx) {
    const due = dueAt(ctx);
    if (due === null || ctx.now < due) return;
    // Raised even when the tick comes late (gateway restarted): late help beats none.
    const { plan } = ctx.resident;
    const { bed } = ctx.state;
    const { minutes, priority } = plan.rules.outOfBedTooLong;
    ctx.raise('out-of-bed-too-long', {
      sensorId: bed.sensorId ?? '',
      priority,
      since: bed.since ?? ctx.now,
      eventIds: evidenceOf(bed.eventId),
      evidence: { thresholdMinutes: minutes, nightWindow: { ...plan.nightWindow }, setting: { minutes } },
    });
  },
  deadline: dueAt,
};
