import type { Rule, RuleContext } from './engine.js';
import { isInNightWindow, nightWindowStartFrom } from './night-window.js';

type Ctx = Pick<RuleContext, 'config' | 'resident' | 'state'>;

/**
 * When the out-of-bed alarm is due: N minutes out of bed counted inside the night window only,
 * so a resident who sits in the lounge at 21:00 is not alarmed the moment the window opens.
 */
function dueAt(ctx: Ctx): number | null {
  const { plan } = ctx.resident;
  const rule = plan.rules.outOfBedTooLong;
  if (!plan.armed || !rule.enabled) return null;
  const { bed } = ctx.state;
  if (bed.occupied !== false || bed.since === null) return null;
  if (ctx.state.open.has('out-of-bed-too-long')) return null;
  const zone = ctx.config.site.timezone;
  let due = nightWindowStartFrom(bed.since, plan.nightWindow, zone) + rule.minutes * 60_000;
  // If the window closed before the time ran out, counting starts again when it next opens.
  for (let i = 0; i < 3 && !isInNightWindow(due - 1, plan.nightWindow, zone); i++) {
    due = nightWindowStartFrom(due, plan.nightWindow, zone) + rule.minutes * 60_000;
  }
  return due;
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
