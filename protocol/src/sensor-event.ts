import { type Static, Type } from '@sinclair/typebox';
import { Battery, Id, Instant, LinkQuality } from './ids.js';
import { SensorKind } from './site-config.js';
import { validator } from './validation.js';

/**
 * A normalized sensor event, whatever wire format it came in. Decided on by the gateway's rules,
 * streamed to the server and stored in the time series. `id` is assigned once by the gateway,
 * so re-delivery after a lost acknowledgement is ingested once (idempotent by id).
 */
export const SensorEvent = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    siteId: Id,
    sensorId: Id,
    sensorKind: SensorKind,
    roomId: Id,
    residentId: Type.Optional(Id),
    /** When the gateway received it, on the site clock: what rules decide on. */
    time: Instant,
    /** The sensor's own timestamp, if it sent one: kept as evidence, never trusted for rules. */
    sensorTime: Type.Optional(Instant),
    occupied: Type.Optional(Type.Boolean()),
    open: Type.Optional(Type.Boolean()),
    online: Type.Optional(Type.Boolean()),
    battery: Type.Optional(Battery),
    linkquality: Type.Optional(LinkQuality),
    tamper: Type.Optional(Type.Boolean()),
    /** The sensor's own low-battery flag (Zigbee2MQTT `battery_low`), when it reports one. */
    batteryLow: Type.Optional(Type.Boolean()),
    format: Type.Union([Type.Literal('native'), Type.Literal('zigbee2mqtt')]),
    /** The payload as received, for audit. */
    raw: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);
export type SensorEvent = Static<typeof SensorEvent>;
export const sensorEvent = validator(SensorEvent);
