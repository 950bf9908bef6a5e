import type { Rule, RuleContext } from './engine.js';
import { isInNightWindow, nightWindowEndFrom, nightWindowStartFrom } from './night-window.js';

type Ctx = Pick<RuleContext, 'config' | 'resident' | 'state'>;

/** How many night windows to try before deciding the threshold can never be reached. */
const MAX_NIGHTS = 3;

/**
 * When the out-of-bed alarm is due: N minutes out of bed counted inside the night window only,
 * so a resident who sits in the lounge at 21:00 is not alarmed the moment the window opens.
 * The N minutes must fit inside one window; if the window closes first, counting starts again
 * when it next opens. Null when nothing is due: bed occupied or unknown, rule off, alarm already
 * raised, or a threshold longer than the window itself.
 */
function dueAt(ctx: Ctx): number | null {
  const { plan } = ctx.resident;
  const rule = plan.rules.outOfBedTooLong;
  if (!plan.armed || !rule.enabled) return null;
  const { bed } = ctx.state;
  if (bed.occupied !== false || bed.since === null) return null;
  if (ctx.state.open.has('out-of-bed-too-long')) return null;
  const zone = ctx.config.site.timezone;
  let start = nightWindowStartFrom(bed.since, plan.nightWindow, zone);
  for (let night = 0; night < MAX_NIGHTS; night++) {
    const due = start + rule.minutes * 60_000;
    const end = nightWindowEndFrom(start, plan.nightWindow, zone);
    if (end === null || (due <= end && isInNightWindow(due - 1, plan.nightWindow, zone))) return due;
    // The window closed before the time ran out: counting starts again when it next opens.
    start = nightWindowStartFrom(end, plan.nightWindow, zone);
  }
  return null;
}

/**
 * Out of bed longer than N minutes in the night window: the resident with fall risk who got
 * up and has not come back. Cleared when the bed is occupied again.
 */
export const outOfBedTooLong: Rule = {
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
    ctx.raise('out-of-bed-too-long', bed.sensorId ?? '', bed.since ?? ctx.now, bed.eventId ? [bed.eventId] : [], {
      thresholdMinutes: plan.rules.outOfBedTooLong.minutes,
      nightWindow: plan.nightWindow,
    });
  },
  deadline(ctx) {
    return dueAt(ctx);
  },
};
