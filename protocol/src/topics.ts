/**
 * MQTT topics of the native Nattevakt sensor format, version 1.
 *
 *   nattevakt/v1/{siteId}/sensors/{sensorId}/state         sensor → gateway   SensorStatePayload
 *   nattevakt/v1/{siteId}/sensors/{sensorId}/availability  sensor → gateway   AvailabilityPayload (retained)
 *   nattevakt/v1/{siteId}/clock                             simulator → gateway  SimulatedClockPayload
 *   nattevakt/v1/{siteId}/alarms                            gateway → on-site consumers  AlarmDecision
 *
 * See protocol/README.md for the full description a sensor vendor implements.
 */
import type { AlarmDecision } from './alarm.js';
import type { AvailabilityPayload, SensorStatePayload, SimulatedClockPayload } from './sensor-payloads.js';

export const TOPIC_ROOT = 'nattevakt/v1';

export const topics = {
  sensorState: (siteId: string, sensorId: string) => `${TOPIC_ROOT}/${siteId}/sensors/${sensorId}/state`,
  sensorAvailability: (siteId: string, sensorId: string) => `${TOPIC_ROOT}/${siteId}/sensors/${sensorId}/availability`,
  clock: (siteId: string) => `${TOPIC_ROOT}/${siteId}/clock`,
  alarms: (siteId: string) => `${TOPIC_ROOT}/${siteId}/alarms`,
  /** Subscription filter for everything sensors of one site publish. */
  sensorsOfSite: (siteId: string) => `${TOPIC_ROOT}/${siteId}/sensors/#`,
} as const;

/** Which payload travels on which native topic: the typed wire contract of the broker. */
export interface NativeTopicMap {
  'nattevakt/v1/{siteId}/sensors/{sensorId}/state': SensorStatePayload;
  'nattevakt/v1/{siteId}/sensors/{sensorId}/availability': AvailabilityPayload;
  'nattevakt/v1/{siteId}/clock': SimulatedClockPayload;
  'nattevakt/v1/{siteId}/alarms': AlarmDecision;
}

export type ParsedTopic =
  | { kind: 'state'; siteId: string; sensorId: string }
  | { kind: 'availability'; siteId: string; sensorId: string }
  | { kind: 'clock'; siteId: string }
  | { kind: 'alarms'; siteId: string };

const idLevel = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Parses a native topic; `null` for anything that is not exactly one of ours. */
export function parseNativeTopic(topic: string): ParsedTopic | null {
  const levels = topic.split('/');
  if (levels[0] !== 'nattevakt' || levels[1] !== 'v1') return null;
  const siteId = levels[2];
  if (siteId === undefined || !idLevel.test(siteId)) return null;
  if (levels.length === 4 && levels[3] === 'clock') return { kind: 'clock', siteId };
  if (levels.length === 4 && levels[3] === 'alarms') return { kind: 'alarms', siteId };
  if (levels.length === 6 && levels[3] === 'sensors') {
    const sensorId = levels[4];
    if (sensorId === undefined || !idLevel.test(sensorId)) return null;
    if (levels[5] === 'state') return { kind: 'state', siteId, sensorId };
    if (levels[5] === 'availability') return { kind: 'availability', siteId, sensorId };
  }
  return null;
}
