import type { WireMessage } from './sensors/wire-format.js';

/**
 * One MQTT message of a planned night, in the wire format a real sensor would send: the native
 * Nattevakt format, or Zigbee2MQTT's (a topic outside `nattevakt/`, which a bridge publishes).
 */
export interface ScheduledMessage extends WireMessage {
  /** When to publish it, epoch ms on the (simulated) site clock. */
  at: number;
  /** A line for the operator's log when this message marks a notable event ("Rom 7: døren åpnes"). */
  note?: string;
}

/** The bytes of a message on the wire. */
export const wireBytes = (message: WireMessage): string => message.raw ?? JSON.stringify(message.payload);
