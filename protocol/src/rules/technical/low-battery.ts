import type { TechnicalRule } from '../types.js';

/**
 * Low battery, with hysteresis so that a level wobbling around the limit does not flap: raised at
 * or below `lowBatteryPercent` (or when the sensor raises its own low-battery flag), cleared only
 * at or above `batteryClearPercent` (the battery was replaced). Levels in between change nothing.
 * A sensor that only sends the flag clears when the flag goes false.
 */
export const lowBattery: TechnicalRule = {
  id: 'low-battery',
  onEvent(ctx, event) {
    const { battery, batteryLow } = event;
    const { lowBatteryPercent, batteryClearPercent } = ctx.settings;
    const low = (battery !== undefined && battery <= lowBatteryPercent) || batteryLow === true;
    if (low) {
      ctx.raise('low-battery', {
        since: ctx.now,
        eventIds: [event.id],
        evidence: { setting: { percent: lowBatteryPercent }, ...(battery !== undefined ? { value: battery } : {}) },
      });
      return;
    }
    const replaced = battery !== undefined ? battery >= batteryClearPercent : batteryLow === false;
    if (replaced) ctx.clear('low-battery', event.id);
  },
  onTick() {},
  deadline: () => null,
};
