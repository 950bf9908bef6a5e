import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SensorConfig } from '@nattevakt/protocol/site-config';

/** Why a message was refused; each reason is a label on the rejection counter. */
export type RejectReason =
  | 'oversize'
  | 'bad-topic'
  | 'wrong-site'
  | 'not-json'
  | 'schema'
  | 'unknown-sensor'
  | 'wrong-kind'
  | 'unsupported';

export type DecodeResult =
  | { type: 'event'; event: SensorEvent }
  | { type: 'clock'; time: number; speed: number }
  | { type: 'ignored' }
  | { type: 'rejected'; reason: RejectReason; detail: string; sensorId?: string };

export interface DecodeContext {
  siteId: string;
  /** The configured sensor with this id. */
  sensor(sensorId: string): SensorConfig | undefined;
  /** Site-clock time of receipt, epoch ms. */
  now: number;
  newId(): string;
}

/**
 * One sensor wire format: which topics it owns and how a message becomes a normalized
 * SensorEvent. Adding a vendor format means adding one file that implements this.
 */
export interface SensorAdapter {
  readonly format: SensorEvent['format'];
  /** MQTT subscription filters the gateway must listen on for this format. */
  subscriptions(siteId: string): string[];
  /** True when this adapter owns the topic. */
  owns(topic: string): boolean;
  decode(topic: string, payload: Buffer, ctx: DecodeContext): DecodeResult;
}

export const rejected = (reason: RejectReason, detail: string, sensorId?: string): DecodeResult => ({
  type: 'rejected',
  reason,
  detail,
  sensorId,
});

/**
 * A new event with the fields every message of `sensor` has, in the order they are serialized; the
 * adapter adds what the message says by assignment. Not `{ ...base, online, … }`: in Node 20's V8 a
 * spread followed by a new property gives every event a hidden class of its own, allocated and
 * collected in the old generation, on every message (bench/README.md, "GC pauses on the hot path").
 */
export function newEvent(ctx: DecodeContext, sensor: SensorConfig, format: SensorEvent['format'], raw: string): SensorEvent {
  const id = ctx.newId();
  const time = new Date(ctx.now).toISOString();
  const { id: sensorId, kind: sensorKind, roomId, residentId } = sensor;
  return residentId === undefined
    ? { id, siteId: ctx.siteId, sensorId, sensorKind, roomId, time, format, raw }
    : { id, siteId: ctx.siteId, sensorId, sensorKind, roomId, residentId, time, format, raw };
}
