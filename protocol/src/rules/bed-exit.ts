import { PLAN_DEFAULTS } from '../site-config.js';
import { evidenceOf, graceSeconds, unloadedSince } from './bed.js';
import { isInNightWindow } from './night-window.js';
import type { CareDeadlineContext, CareRule } from './types.js';

/**
 * The pending bed-exit alarm: due `delaySeconds` after the resident left the bed, but never
 * before the bed grace has passed, so turning over or sitting on the edge raises nothing. Only
 * an exit that starts inside the night window counts: by day, getting up is normal.
 */
function pending(ctx: Pick<CareDeadlineContext, 'config' | 'resident' | 'state'>) {
  const { plan } = ctx.resident;
  const rule = plan.rules.bedExit;
  if (!plan.armed || !rule?.enabled) return null;
  const since = unloadedSince(ctx.state);
  if (since === null || ctx.state.open.has('bed-exit')) return null;
  if (!isInNightWindow(since, plan.nightWindow, ctx.config.site.timezone)) return null;
  const delaySeconds = rule.delaySeconds ?? PLAN_DEFAULTS.bedExitDelaySeconds;
  const grace = graceSeconds(plan);
  return { due: since + Math.max(delaySeconds, grace) * 1000, since, rule, delaySeconds, grace };
}

/**
 * Left the bed at night: for residents at fall risk, where a nurse should be there before the
 * resident is on their feet and walking. Cleared when the bed is occupied again.
 */
export const bedExit: CareRule = {
  id: 'bed-exit',
  onEvent(ctx, event) {
    if (event.sensorKind === 'bed' && event.occupied === true) ctx.clear('bed-exit', event.id);
  },
  onTick(ctx) {
    const exit = pending(ctx);
    if (exit === null || ctx.now < exit.due) return;
    const { bed } = ctx.state;
    ctx.raise('bed-exit', {
      sensorId: bed.sensorId ?? '',
      priority: exit.rule.priority,
      since: exit.since,
      eventIds: evidenceOf(bed.eventId),
      evidence: {
        nightWindow: { ...ctx.resident.plan.nightWindow },
        setting: { delaySeconds: exit.delaySeconds, graceSeconds: exit.grace },
      },
    });
  },
  deadline: (ctx) => pending(ctx)?.due ?? null,
};
