import { isInNightWindow } from './night-window.js';
import type { CareRule } from './types.js';

/**
 * Door opened during the night window: the resident with dementia walking out at 03:00.
 * Raised on the closed → open transition (an unknown previous state counts as closed, so the
 * first message after a gateway restart still alarms); cleared when the door closes.
 */
export const doorOpenAtNight: CareRule = {
  id: 'door-open-at-night',
  onEvent(ctx, event) {
    if (event.sensorKind !== 'door' || event.open === undefined) return;
    if (!event.open) {
      ctx.clear('door-open-at-night', event.id);
      return;
    }
    if (ctx.state.door.open === true) return; // a repeat of "open" (heartbeat) is no new opening
    const { plan } = ctx.resident;
    if (!plan.armed || !plan.rules.doorOpenAtNight.enabled) return;
    if (!isInNightWindow(ctx.now, plan.nightWindow, ctx.config.site.timezone)) return;
    ctx.raise('door-open-at-night', {
      sensorId: event.sensorId,
      priority: plan.rules.doorOpenAtNight.priority,
      since: ctx.now,
      eventIds: [event.id],
      evidence: { nightWindow: { ...plan.nightWindow } },
    });
  },
  onTick() {},
  deadline() {
    return null;
  },
};
