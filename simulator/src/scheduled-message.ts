import type { AvailabilityPayload, SensorStatePayload } from '@nattevakt/protocol/sensor-payloads';

/** One MQTT message of a planned night, in the native wire format a real sensor would send. */
export interface ScheduledMessage {
  /** When to publish it, epoch ms on the (simulated) site clock. */
  at: number;
  topic: string;
  payload: SensorStatePayload | AvailabilityPayload;
  retain?: boolean;
  /** A line for the operator's log when this message marks a notable event ("Rom 7: døren åpnes"). */
  note?: string;
}
