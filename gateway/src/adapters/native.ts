import {
  availabilityPayload,
  MAX_NATIVE_PAYLOAD_BYTES,
  sensorStatePayload,
  simulatedClockPayload,
} from '@nattevakt/protocol/sensor-payloads';
import { parseNativeTopic, TOPIC_ROOT, topics } from '@nattevakt/protocol/topics';
import { type DecodeContext, type DecodeResult, newEvent, rejected, type SensorAdapter } from './adapter.js';

/**
 * The adapter for the native Nattevakt format (protocol/README.md): one topic per sensor and
 * message kind, a small JSON object validated against the protocol's schema.
 */
export function decodeNative(topic: string, payload: Buffer, ctx: DecodeContext): DecodeResult {
  const parsed = parseNativeTopic(topic);
  if (parsed === null) return rejected('bad-topic', 'not a native Nattevakt topic');
  if (parsed.siteId !== ctx.siteId)
    return rejected('wrong-site', `topic is for site "${parsed.siteId}", this gateway serves "${ctx.siteId}"`);
  if (parsed.kind === 'alarms') return { type: 'ignored' }; // our own output
  if (payload.length > MAX_NATIVE_PAYLOAD_BYTES) {
    return rejected(
      'oversize',
      `${payload.length} bytes, at most ${MAX_NATIVE_PAYLOAD_BYTES}`,
      'sensorId' in parsed ? parsed.sensorId : undefined,
    );
  }
  const raw = payload.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return rejected('not-json', 'payload is not JSON', 'sensorId' in parsed ? parsed.sensorId : undefined);
  }

  if (parsed.kind === 'clock') {
    const clock = simulatedClockPayload.check(json);
    if (!clock.ok) return rejected('schema', clock.errors.join('; '));
    return { type: 'clock', time: Date.parse(clock.value.time), speed: clock.value.speed };
  }

  const sensor = ctx.sensor(parsed.sensorId);
  if (sensor === undefined) return rejected('unknown-sensor', 'no sensor with this id in the site configuration', parsed.sensorId);
  const event = newEvent(ctx, sensor, 'native', raw);

  if (parsed.kind === 'availability') {
    const availability = availabilityPayload.check(json);
    if (!availability.ok) return rejected('schema', availability.errors.join('; '), sensor.id);
    event.online = availability.value.state === 'online';
    return { type: 'event', event };
  }

  const state = sensorStatePayload.check(json);
  if (!state.ok) return rejected('schema', state.errors.join('; '), sensor.id);
  const value = state.value;
  if (value.kind !== sensor.kind)
    return rejected('wrong-kind', `payload is a ${value.kind} state, sensor is configured as ${sensor.kind}`, sensor.id);
  event.online = true;
  if (value.time !== undefined) event.sensorTime = value.time;
  if (value.battery !== undefined) event.battery = value.battery;
  if (value.linkquality !== undefined) event.linkquality = value.linkquality;
  if (value.tamper !== undefined) event.tamper = value.tamper;
  if (value.kind === 'bed') event.occupied = value.occupied;
  else event.open = value.open;
  return { type: 'event', event };
}

/** The native format as a pluggable adapter. */
export const nativeAdapter: SensorAdapter = {
  format: 'native',
  subscriptions: (siteId) => [topics.sensorsOfSite(siteId), topics.clock(siteId)],
  owns: (topic) => topic.startsWith(`${TOPIC_ROOT}/`),
  decode: decodeNative,
};
