import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SensorConfig } from '@nattevakt/protocol/site-config';
import { isDateTime, validator } from '@nattevakt/protocol/validation';
import { type TSchema, Type } from '@sinclair/typebox';
import type { Zigbee2mqttBedField, Zigbee2mqttConfig, Zigbee2mqttDevice } from '../config/gateway-config.js';
import { type DecodeContext, type DecodeResult, newEvent, rejected, type SensorAdapter } from './adapter.js';

/**
 * The adapter for Zigbee2MQTT (https://www.zigbee2mqtt.io): devices that a Zigbee2MQTT bridge
 * publishes on `<baseTopic>/<friendly name>`, mapped onto the site's sensors by the gateway
 * configuration's `zigbee2mqtt.devices`. Field meanings follow the Zigbee2MQTT device pages; see
 * gateway/README.md ("Zigbee2MQTT") for the supported models.
 */

/** Device state messages carry many fields we do not use; still, a larger one is not a sensor's. */
export const MAX_ZIGBEE2MQTT_PAYLOAD_BYTES = 4096;

/** Zigbee2MQTT publishes `null` for an attribute it has not received yet: the same as left out. */
const reported = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** Fields any device may report besides its state; types strict, unknown fields allowed. */
const telemetry = {
  battery: reported(Type.Number({ minimum: 0, maximum: 100 })),
  battery_low: reported(Type.Boolean()),
  linkquality: reported(Type.Integer({ minimum: 0, maximum: 255 })),
  tamper: reported(Type.Boolean()),
  // advanced.last_seen: ISO_8601 / ISO_8601_local strings, `epoch` ms, or `relative` ("3 minutes ago").
  last_seen: reported(Type.Union([Type.String({ maxLength: 64 }), Type.Integer({ minimum: 0, maximum: 8.64e15 })])),
};

const BED_FIELDS: readonly Zigbee2mqttBedField[] = ['occupancy', 'presence', 'pressure'];

const stateValidator = (fields: readonly string[]) =>
  validator(
    Type.Object({ ...Object.fromEntries(fields.map((f) => [f, reported(Type.Boolean())])), ...telemetry }, { additionalProperties: true }),
  );

/** One validator per thing a device can be mapped as, so a field is only type-checked where we read it. */
const stateValidators = {
  door: stateValidator(['contact']),
  bed: stateValidator(BED_FIELDS),
  occupancy: stateValidator(['occupancy']),
  presence: stateValidator(['presence']),
  pressure: stateValidator(['pressure']),
};

/** Z2M 2.x availability; 1.x sent the bare words `online` / `offline` (legacy_availability_payload). */
const availabilityPayload = validator(
  Type.Object({ state: Type.Union([Type.Literal('online'), Type.Literal('offline')]) }, { additionalProperties: true }),
);

type Fields = Record<string, unknown>;

/** A field with a value: present and not `null`. */
const has = (fields: Fields, key: string): boolean => fields[key] !== undefined && fields[key] !== null;
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);

type ParsedTopic = { type: 'ignored' } | { type: 'state' | 'availability'; name: string };

/** Splits `<baseTopic>/<rest>`; the bridge's own topics and command topics are not sensor messages. */
function parseTopic(rest: string, isDevice: (name: string) => boolean): ParsedTopic {
  // A configured name is matched first: friendly names may contain '/'.
  if (isDevice(rest)) return { type: 'state', name: rest };
  if (rest.endsWith('/availability')) return { type: 'availability', name: rest.slice(0, -'/availability'.length) };
  const levels = rest.split('/');
  if (levels[0] === 'bridge') return { type: 'ignored' };
  // `<name>/set`, `<name>/get` and the per-attribute forms `<name>/set/<attribute>`, `<name>/get/<attribute>`.
  const command = (level: string | undefined) => level === 'set' || level === 'get';
  if (levels.length > 1 && (command(levels.at(-1)) || (levels.length > 2 && command(levels.at(-2))))) return { type: 'ignored' };
  return { type: 'state', name: rest };
}

/** `last_seen` as evidence: kept when it is an instant, dropped when it is the `relative` form. */
function sensorTime(lastSeen: unknown): string | undefined {
  if (typeof lastSeen === 'number') return new Date(lastSeen).toISOString();
  if (typeof lastSeen === 'string' && lastSeen.length <= 40 && isDateTime(lastSeen)) return lastSeen;
  return undefined;
}

/** Which field says "someone is in the bed": the configured one, else the one the device sends. */
function bedState(fields: Fields, device: Zigbee2mqttDevice, sensorId: string): { occupied?: boolean } | { error: DecodeResult } {
  const sent = BED_FIELDS.filter((f) => has(fields, f));
  const configured = device.bedField;
  if (configured !== undefined) {
    const value = bool(fields[configured]);
    if (value !== undefined) return { occupied: value };
    // A mapping that names the wrong field would never report the bed state: say so on every message.
    const other = sent.find((f) => f !== configured);
    if (other !== undefined) {
      const detail = `device "${device.friendlyName}" sends ${other}, its zigbee2mqtt.devices entry says bedField ${configured}`;
      return { error: rejected('unsupported', detail, sensorId) };
    }
    return {};
  }
  if (sent.length > 1) {
    const detail = `device "${device.friendlyName}" sends ${sent.join(' and ')}; set bedField in its zigbee2mqtt.devices entry`;
    return { error: rejected('unsupported', detail, sensorId) };
  }
  const [field] = sent;
  const value = field === undefined ? undefined : bool(fields[field]);
  return value === undefined ? {} : { occupied: value };
}

function decodeState(json: unknown, device: Zigbee2mqttDevice, sensor: SensorConfig, event: SensorEvent): DecodeResult {
  const kind = sensor.kind;
  const check = stateValidators[kind === 'door' ? 'door' : (device.bedField ?? 'bed')].check(json);
  if (!check.ok) return rejected('schema', check.errors.join('; '), sensor.id);
  const fields = check.value as Fields;

  // A payload with the other kind's state and not this kind's: the mapping points at the wrong device.
  const bedFields = device.bedField === undefined ? BED_FIELDS : [device.bedField];
  if (kind === 'bed' && has(fields, 'contact') && !bedFields.some((f) => has(fields, f)))
    return rejected('wrong-kind', `payload is a door contact state, sensor ${sensor.id} is configured as a bed sensor`, sensor.id);
  if (kind === 'door' && !has(fields, 'contact') && BED_FIELDS.some((f) => has(fields, f)))
    return rejected('wrong-kind', `payload is a bed or presence state, sensor ${sensor.id} is configured as a door sensor`, sensor.id);

  let state: { occupied?: boolean; open?: boolean } = {};
  if (kind === 'door') {
    // Zigbee2MQTT's contact is true while the magnet is near, i.e. the door is closed.
    const contact = bool(fields.contact);
    if (contact !== undefined) state = { open: !contact };
  } else {
    const bed = bedState(fields, device, sensor.id);
    if ('error' in bed) return bed.error;
    state = bed;
  }

  const time = sensorTime(fields.last_seen);
  const { battery, linkquality } = fields;
  const batteryLow = bool(fields.battery_low);
  const tamper = bool(fields.tamper);
  if (time !== undefined) event.sensorTime = time;
  if (typeof battery === 'number') event.battery = Math.round(battery);
  if (batteryLow !== undefined) event.batteryLow = batteryLow;
  if (typeof linkquality === 'number') event.linkquality = linkquality;
  if (tamper !== undefined) event.tamper = tamper;
  if (state.occupied !== undefined) event.occupied = state.occupied;
  if (state.open !== undefined) event.open = state.open;
  // Not `online: true`: Zigbee2MQTT replays its cached state on start-up even for a dead device,
  // so only the availability topic says whether the device is reachable.
  return { type: 'event', event };
}

function decodeAvailability(raw: string, sensorId: string, event: SensorEvent): DecodeResult {
  const text = raw.trim();
  if (text === 'online' || text === 'offline') {
    event.online = text === 'online';
    return { type: 'event', event };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return rejected('not-json', 'availability is neither online/offline nor JSON', sensorId);
  }
  const availability = availabilityPayload.check(json);
  if (!availability.ok) return rejected('schema', availability.errors.join('; '), sensorId);
  event.online = availability.value.state === 'online';
  return { type: 'event', event };
}

const DEFAULT_CONFIG: Zigbee2mqttConfig = { baseTopic: 'zigbee2mqtt', devices: [] };

/** The Zigbee2MQTT format as a pluggable adapter for the configured devices. */
export function zigbee2mqttAdapter(config: Zigbee2mqttConfig = DEFAULT_CONFIG): SensorAdapter {
  const prefix = `${config.baseTopic}/`;
  // Topics arrive as the bridge's UTF-8; compare names in one Unicode normal form (å typed as a + ring).
  const devices = new Map(config.devices.map((d) => [d.friendlyName.normalize('NFC'), d]));

  function decode(topic: string, payload: Buffer, ctx: DecodeContext): DecodeResult {
    if (!topic.startsWith(prefix)) return rejected('bad-topic', `not below the Zigbee2MQTT base topic ${config.baseTopic}`);
    const parsed = parseTopic(topic.slice(prefix.length).normalize('NFC'), (name) => devices.has(name));
    if (parsed.type === 'ignored') return parsed;
    const device = devices.get(parsed.name);
    if (device === undefined)
      return rejected('unknown-sensor', `no zigbee2mqtt.devices entry with friendlyName ${JSON.stringify(parsed.name.slice(0, 200))}`);
    if (payload.length > MAX_ZIGBEE2MQTT_PAYLOAD_BYTES)
      return rejected('oversize', `${payload.length} bytes, at most ${MAX_ZIGBEE2MQTT_PAYLOAD_BYTES}`, device.sensorId);
    const sensor = ctx.sensor(device.sensorId);
    if (sensor === undefined)
      return rejected(
        'unknown-sensor',
        `zigbee2mqtt device is mapped to sensor ${device.sensorId}, which the site configuration lacks`,
        device.sensorId,
      );

    const raw = payload.toString('utf8');
    // The adapter's fields follow by assignment (see newEvent).
    const event = newEvent(ctx, sensor, 'zigbee2mqtt', raw);
    if (parsed.type === 'availability') return decodeAvailability(raw, sensor.id, event);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return rejected('not-json', 'payload is not JSON', sensor.id);
    }
    return decodeState(json, device, sensor, event);
  }

  return {
    format: 'zigbee2mqtt',
    // Nothing to listen to without devices: a site without Zigbee2MQTT never sees its traffic.
    subscriptions: () => (devices.size > 0 ? [`${config.baseTopic}/#`] : []),
    owns: (topic) => topic.startsWith(prefix),
    decode,
  };
}
