import type { TechnicalDeadlineContext, TechnicalRule } from '../types.js';

/**
 * The pending silence alarm: due `silentMinutes` after the sensor was last heard, or after the
 * engine started watching it if it was never heard (a sensor dead when the gateway starts is
 * caught too). Nothing is due while the sensor is reported offline: sensor-offline says it already.
 */
function pending(ctx: Pick<TechnicalDeadlineContext, 'state' | 'settings'>, lastNow: number | null) {
  const { state } = ctx;
  if (state.open.has('sensor-silent') || state.online === false) return null;
  const since = state.heard?.at ?? state.watchedSince;
  if (since === null) return lastNow === null ? null : { due: lastNow, since: lastNow }; // new: start watching now
  return { due: since + ctx.settings.silentMinutes * 60_000, since };
}

/**
 * No message from a sensor for too long. Native sensors send a heartbeat at least every 10
 * minutes; Zigbee2MQTT marks a battery sensor offline only after 25 hours, and until then a dead
 * sensor protects nobody without anyone knowing. Cleared by the next message from the sensor.
 */
export const sensorSilent: TechnicalRule = {
  id: 'sensor-silent',
  onEvent(ctx, event) {
    if (event.online !== false) ctx.clear('sensor-silent', event.id);
  },
  onTick(ctx) {
    ctx.state.watchedSince ??= ctx.now;
    const silent = pending(ctx, ctx.now);
    if (silent === null || ctx.now < silent.due) return;
    const { heard } = ctx.state;
    ctx.raise('sensor-silent', {
      since: silent.since,
      eventIds: heard === null ? [] : [heard.eventId],
      evidence: { setting: { minutes: ctx.settings.silentMinutes } },
    });
  },
  deadline: (ctx) => pending(ctx, ctx.lastNow)?.due ?? null,
};
