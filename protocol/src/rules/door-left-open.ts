import { evidenceOf } from './bed.js';
import { dueAfterMinutesInWindow } from './night-window.js';
import type { CareDeadlineContext, CareRule } from './types.js';

/** The pending door-left-open alarm: due after `minutes` open, counted inside the night window as for out-of-bed-too-long. */
function pending(ctx: Pick<CareDeadlineContext, 'config' | 'resident' | 'state'>) {
  const { plan } = ctx.resident;
  const rule = plan.rules.doorLeftOpen;
  if (!plan.armed || !rule?.enabled) return null;
  const { door } = ctx.state;
  if (door.open !== true || door.since === null || ctx.state.open.has('door-left-open')) return null;
  const due = dueAfterMinutesInWindow(door.since, rule.minutes, plan.nightWindow, ctx.config.site.timezone);
  return due === null ? null : { due, since: door.since, rule };
}

/**
 * The door has stood open for N minutes in the night window: a resident who slips out through a
 * door that is already open raises no "door opened" alarm, so an open door at night needs a
 * look. Cleared when the door closes.
 */
export const doorLeftOpen: CareRule = {
  id: 'door-left-open',
  onEvent(ctx, event) {
    if (event.sensorKind === 'door' && event.open === false) ctx.clear('door-left-open', event.id);
  },
  onTick(ctx) {
    const open = pending(ctx);
    if (open === null || ctx.now < open.due) return;
    const { door } = ctx.state;
    ctx.raise('door-left-open', {
      sensorId: door.sensorId ?? '',
      priority: open.rule.priority,
      since: open.since,
      eventIds: evidenceOf(door.eventId),
      evidence: { nightWindow: { ...ctx.resident.plan.nightWindow }, setting: { minutes: open.rule.minutes } },
    });
  },
  deadline: (ctx) => pending(ctx)?.due ?? null,
};
