import type { TechnicalRule } from '../types.js';

/** The sensor reports tampering (casing opened, taken off its mount): it may no longer see the bed or door. Cleared when it stops. */
export const tamper: TechnicalRule = {
  id: 'tamper',
  onEvent(ctx, event) {
    if (event.tamper === true) ctx.raise('tamper', { since: ctx.now, eventIds: [event.id] });
    if (event.tamper === false) ctx.clear('tamper', event.id);
  },
  onTick() {},
  deadline: () => null,
};
