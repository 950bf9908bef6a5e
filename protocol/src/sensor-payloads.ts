import { type Static, Type } from '@sinclair/typebox';
import { Battery, Instant, LinkQuality } from './ids.js';
import { validator } from './validation.js';

/** Fields every native state message may carry besides its state. */
const common = {
  time: Type.Optional(Instant),
  battery: Type.Optional(Battery),
  linkquality: Type.Optional(LinkQuality),
  tamper: Type.Optional(Type.Boolean()),
};

/** A bed sensor (pressure mat or strap): `occupied` is true while someone lies in the bed. */
export const BedStatePayload = Type.Object(
  { kind: Type.Literal('bed'), occupied: Type.Boolean(), ...common },
  { additionalProperties: false },
);
/** A door contact: `open` is true while the door is open. */
export const DoorStatePayload = Type.Object(
  { kind: Type.Literal('door'), open: Type.Boolean(), ...common },
  { additionalProperties: false },
);

export const SensorStatePayload = Type.Union([BedStatePayload, DoorStatePayload]);
export type SensorStatePayload = Static<typeof SensorStatePayload>;
export type BedStatePayload = Static<typeof BedStatePayload>;
export type DoorStatePayload = Static<typeof DoorStatePayload>;

/** Retained availability message, also published by the broker as the sensor's last will. */
export const AvailabilityPayload = Type.Object(
  { state: Type.Union([Type.Literal('online'), Type.Literal('offline')]) },
  { additionalProperties: false },
);
export type AvailabilityPayload = Static<typeof AvailabilityPayload>;

/** Simulated site clock, published only by the simulator to a gateway in simulated-clock mode. */
export const SimulatedClockPayload = Type.Object(
  { time: Instant, speed: Type.Number({ minimum: 0, maximum: 100000 }) },
  { additionalProperties: false },
);
export type SimulatedClockPayload = Static<typeof SimulatedClockPayload>;

/** Upper bound on a native payload; a larger message is rejected before JSON parsing. */
export const MAX_NATIVE_PAYLOAD_BYTES = 1024;

export const sensorStatePayload = validator(SensorStatePayload);
export const availabilityPayload = validator(AvailabilityPayload);
export const simulatedClockPayload = validator(SimulatedClockPayload);
