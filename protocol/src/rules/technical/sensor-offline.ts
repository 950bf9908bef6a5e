import type { TechnicalRule } from '../types.js';

/**
 * The sensor (or the broker, by its last will, or Zigbee2MQTT) reports it offline: it protects
 * nobody until it is back. Cleared when it reports online again. A state message without
 * `online: true` does not clear it: Zigbee2MQTT replays cached states even for a dead device.
 */
export const sensorOffline: TechnicalRule = {
  id: 'sensor-offline',
  onEvent(ctx, event) {
    if (event.online === false) ctx.raise('sensor-offline', { since: ctx.now, eventIds: [event.id] });
    if (event.online === true) ctx.clear('sensor-offline', event.id);
  },
  onTick() {},
  deadline: () => null,
};
