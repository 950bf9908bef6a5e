import type { AvailabilityPayload, BedStatePayload, DoorStatePayload } from '@nattevakt/protocol/sensor-payloads';
import type { SensorConfig, SensorKind } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';

/**
 * The Zigbee2MQTT devices the simulator can impersonate, with the fields their device pages
 * (zigbee2mqtt.io/devices) list and the gateway's fixtures in gateway/src/adapters/fixtures/zigbee2mqtt.
 */
export const ZIGBEE2MQTT_MODELS = {
  /** Tuya TS0601_bed_presence_sensor: a strap under the mattress; `illuminance` is really the raw pressure. */
  'tuya-ts0601-bed': { kind: 'bed', bedField: 'occupancy', battery: true, tamper: false },
  /** Tuya C3007: a pressure pad with the device's own low-battery flag. */
  'tuya-c3007': { kind: 'bed', bedField: 'pressure', battery: true, tamper: false },
  /** Tuya TS0601_TZE284_gnpflcoq mmWave presence sensor over the bed. */
  'tuya-mmwave-presence': { kind: 'bed', bedField: 'presence', battery: true, tamper: false },
  /** Aqara MCCGQ14LM door and window contact (`contact` true = closed). */
  'aqara-mccgq14lm': { kind: 'door', bedField: undefined, battery: true, tamper: false },
  /** Aqara MCCGQ11LM, the older contact, which also reports its own temperature. */
  'aqara-mccgq11lm': { kind: 'door', bedField: undefined, battery: true, tamper: false },
  /** Aoyan AY101Z door contact with a tamper switch and the device's own low-battery flag. */
  'aoyan-ay101z': { kind: 'door', bedField: undefined, battery: true, tamper: true },
} as const satisfies Record<
  string,
  { kind: SensorKind; bedField: 'occupancy' | 'pressure' | 'presence' | undefined; battery: boolean; tamper: boolean }
>;

export type Zigbee2mqttModel = keyof typeof ZIGBEE2MQTT_MODELS;
export const ZIGBEE2MQTT_MODEL_NAMES = Object.keys(ZIGBEE2MQTT_MODELS) as Zigbee2mqttModel[];

/** How one sensor talks: the native Nattevakt format, or a Zigbee device behind a Zigbee2MQTT bridge. */
export type SensorWire =
  | { format: 'native' }
  | {
      format: 'zigbee2mqtt';
      model: Zigbee2mqttModel;
      /** The device's friendly_name in Zigbee2MQTT; may contain '/'. */
      friendlyName: string;
      baseTopic: string;
      /** Zigbee2MQTT 1.x sent availability as the bare words online/offline; 2.x sends JSON. */
      legacyAvailability?: boolean;
    };

export const NATIVE: SensorWire = { format: 'native' };

/** What a sensor reports at one moment, whatever its format. */
export interface Reading {
  at: number;
  /** occupied (bed) or open (door). */
  value: boolean;
  battery: number;
  linkquality: number;
  tamper?: boolean;
}

/** A Zigbee2MQTT state payload: a JSON object with the device's fields. */
export type Zigbee2mqttPayload = Record<string, string | number | boolean | null>;

export interface WireMessage {
  topic: string;
  payload: BedStatePayload | DoorStatePayload | AvailabilityPayload | Zigbee2mqttPayload;
  retain?: boolean;
  /** Bytes to send instead of the JSON of `payload` (legacy availability, malformed messages). */
  raw?: string;
}

/** The topic and payload of a state report in the sensor's own format. */
export function encodeState(siteId: string, sensor: SensorConfig, wire: SensorWire, reading: Reading): WireMessage {
  if (wire.format === 'native') {
    const time = new Date(reading.at).toISOString();
    const common = { time, battery: reading.battery, linkquality: reading.linkquality };
    const withTamper = reading.tamper === undefined ? common : { ...common, tamper: reading.tamper };
    const payload: BedStatePayload | DoorStatePayload =
      sensor.kind === 'bed'
        ? { kind: 'bed', occupied: reading.value, ...withTamper }
        : { kind: 'door', open: reading.value, ...withTamper };
    return { topic: topics.sensorState(siteId, sensor.id), payload };
  }
  return { topic: `${wire.baseTopic}/${wire.friendlyName}`, payload: zigbee2mqttState(wire.model, reading) };
}

/** Battery voltage of a CR2032 / 2×AAA cell as these devices report it, roughly linear in the percentage. */
const voltage = (battery: number) => Math.round(2500 + battery * 5.2);

function zigbee2mqttState(model: Zigbee2mqttModel, r: Reading): Zigbee2mqttPayload {
  const last_seen = new Date(r.at).toISOString();
  switch (model) {
    case 'tuya-ts0601-bed':
      return {
        battery: r.battery,
        illuminance: Math.round(r.value ? 2400 + ((r.at / 1000) % 900) : (r.at / 1000) % 30),
        interval_time: 10,
        linkquality: r.linkquality,
        occupancy: r.value,
        presence_delay: 30,
        presence_time: 5,
        sensitivity: 'middle',
        work_state: r.value ? 'presence' : 'none',
        last_seen,
      };
    case 'tuya-c3007':
      return {
        battery: r.battery,
        battery_low: r.battery <= 15,
        pressure: r.value,
        voltage: voltage(r.battery),
        linkquality: r.linkquality,
      };
    case 'tuya-mmwave-presence':
      return {
        battery: r.battery,
        fading_time: 30,
        illuminance: 3,
        linkquality: r.linkquality,
        presence: r.value,
        sensitivity: 7,
        last_seen,
      };
    case 'aqara-mccgq14lm':
      return { battery: r.battery, contact: !r.value, linkquality: r.linkquality, voltage: voltage(r.battery), last_seen };
    case 'aqara-mccgq11lm':
      return {
        battery: r.battery,
        contact: !r.value,
        device_temperature: 22,
        linkquality: r.linkquality,
        power_outage_count: 5,
        temperature: 22,
        voltage: voltage(r.battery),
        last_seen,
      };
    case 'aoyan-ay101z':
      return {
        battery: r.battery,
        battery_low: r.battery <= 15,
        contact: !r.value,
        tamper: r.tamper ?? false,
        voltage: voltage(r.battery),
        linkquality: r.linkquality,
      };
    default: {
      const exhaustive: never = model;
      throw new Error(`unknown Zigbee2MQTT model ${String(exhaustive)}`);
    }
  }
}

/** The retained availability message: the native topic, or Zigbee2MQTT's `<name>/availability`. */
export function encodeAvailability(siteId: string, sensor: SensorConfig, wire: SensorWire, online: boolean): WireMessage {
  const payload: AvailabilityPayload = { state: online ? 'online' : 'offline' };
  if (wire.format === 'native') return { topic: topics.sensorAvailability(siteId, sensor.id), payload, retain: true };
  const topic = `${wire.baseTopic}/${wire.friendlyName}/availability`;
  return wire.legacyAvailability === true ? { topic, payload, retain: true, raw: payload.state } : { topic, payload, retain: true };
}

export type MalformedVariant = 'not-json' | 'schema' | 'wrong-kind' | 'oversize' | 'unknown-sensor';
export const MALFORMED_VARIANTS: readonly MalformedVariant[] = ['not-json', 'schema', 'wrong-kind', 'oversize', 'unknown-sensor'];

/**
 * A message the gateway must refuse without harm: cut-off JSON, a wrong field type, the other
 * kind's state, a payload over the size limit, or a sensor the site does not have.
 */
export function encodeMalformed(siteId: string, sensor: SensorConfig, wire: SensorWire, variant: MalformedVariant): WireMessage {
  const state = wire.format === 'native' ? topics.sensorState(siteId, sensor.id) : `${wire.baseTopic}/${wire.friendlyName}`;
  const native = wire.format === 'native';
  switch (variant) {
    case 'not-json':
      return { topic: state, payload: {}, raw: native ? '{"kind":"bed","occupied":tr' : '{"contact":fal' };
    case 'schema':
      return {
        topic: state,
        payload: {},
        raw: native ? `{"kind":"${sensor.kind}","occupied":"yes","open":"yes"}` : '{"contact":"open","occupancy":1}',
      };
    case 'wrong-kind': {
      const raw = native
        ? sensor.kind === 'bed'
          ? '{"kind":"door","open":true}'
          : '{"kind":"bed","occupied":false}'
        : sensor.kind === 'bed'
          ? '{"contact":false,"battery":90}'
          : '{"occupancy":false,"battery":90}';
      return { topic: state, payload: {}, raw };
    }
    case 'oversize':
      return { topic: state, payload: {}, raw: JSON.stringify({ kind: sensor.kind, padding: 'x'.repeat(8192) }) };
    case 'unknown-sensor':
      return {
        topic: native ? topics.sensorState(siteId, 'no-such-sensor') : `${wire.baseTopic}/no/such/device`,
        payload: {},
        raw: native ? '{"kind":"door","open":true}' : '{"contact":false}',
      };
    default: {
      const exhaustive: never = variant;
      throw new Error(`unknown malformed variant ${String(exhaustive)}`);
    }
  }
}

/** The gateway configuration's `zigbee2mqtt.devices` entry for a simulated Zigbee device. */
export function zigbee2mqttDeviceEntry(
  sensorId: string,
  wire: Extract<SensorWire, { format: 'zigbee2mqtt' }>,
): { friendlyName: string; sensorId: string; bedField?: 'occupancy' | 'pressure' | 'presence' } {
  const bedField = ZIGBEE2MQTT_MODELS[wire.model].bedField;
  return bedField === undefined ? { friendlyName: wire.friendlyName, sensorId } : { friendlyName: wire.friendlyName, sensorId, bedField };
}
