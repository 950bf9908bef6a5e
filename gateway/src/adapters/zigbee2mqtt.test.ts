import { readFileSync } from 'node:fs';
import { sensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SensorConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseGatewayConfig, type Zigbee2mqttConfig } from '../config/gateway-config.js';
import type { DecodeResult } from './adapter.js';
import { nativeAdapter } from './native.js';
import { AdapterRegistry } from './registry.js';
import { MAX_ZIGBEE2MQTT_PAYLOAD_BYTES, zigbee2mqttAdapter } from './zigbee2mqtt.js';

/** A fixture as the bridge sends it: JSON compact on one line, plain text without the file's newline. */
function fixture(name: string): string {
  const text = readFileSync(new URL(`./fixtures/zigbee2mqtt/${name}`, import.meta.url), 'utf8');
  return name.endsWith('.json') ? JSON.stringify(JSON.parse(text)) : text.replace(/\n$/, '');
}

const UNICODE_NAME = 'Avdeling 2/Rom 8 – Åsgård/dør';

const sensors: Record<string, SensorConfig> = {
  'door-7': { id: 'door-7', kind: 'door', roomId: 'room-7' },
  'bed-7': { id: 'bed-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
  'mat-7': { id: 'mat-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
  'radar-7': { id: 'radar-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
  'door-8': { id: 'door-8', kind: 'door', roomId: 'room-8' },
  'door-9': { id: 'door-9', kind: 'door', roomId: 'room-9' },
};

const config: Zigbee2mqttConfig = {
  baseTopic: 'zigbee2mqtt',
  devices: [
    { friendlyName: 'ward2/r7/door', sensorId: 'door-7' },
    { friendlyName: 'ward2/r7/bed', sensorId: 'bed-7', bedField: 'occupancy' },
    { friendlyName: 'ward2/r7/mat', sensorId: 'mat-7', bedField: 'pressure' },
    { friendlyName: 'ward2/r7/radar', sensorId: 'radar-7' },
    { friendlyName: UNICODE_NAME, sensorId: 'door-8' },
    { friendlyName: '0x00158d0001e8a1b2', sensorId: 'door-9' },
    { friendlyName: 'ward2/r9/door', sensorId: 'door-99' },
  ],
};
const adapter = zigbee2mqttAdapter(config);

let n = 0;
const ctx = { siteId: 'demo', sensor: (id: string) => sensors[id], now: Date.parse('2026-11-25T02:10:00Z'), newId: () => `e${++n}` };
const decode = (topic: string, payload: string | Buffer): DecodeResult =>
  adapter.decode(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, ctx);

/** The event of a result, checked against the protocol's SensorEvent schema: what the rules and server get. */
function eventOf(result: DecodeResult) {
  if (result.type !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  const checked = sensorEvent.check(result.event);
  if (!checked.ok) throw new Error(`not a valid SensorEvent: ${checked.errors.join('; ')}`);
  return result.event;
}

describe('zigbee2mqtt adapter: device state per model', () => {
  it.each([
    [
      'Aqara MCCGQ11LM door opened (contact false)',
      'ward2/r7/door',
      'aqara-mccgq11lm-door-open.json',
      { sensorId: 'door-7', sensorKind: 'door', open: true, battery: 100, linkquality: 87, sensorTime: '2026-11-25T03:09:58+01:00' },
    ],
    [
      'Aqara MCCGQ14LM door closed (contact true)',
      'ward2/r7/door',
      'aqara-mccgq14lm-door-closed.json',
      { open: false, battery: 97, linkquality: 87, sensorTime: '2026-11-25T02:09:58.123Z' },
    ],
    [
      'a door contact named by IEEE address, tampered with a low battery',
      '0x00158d0001e8a1b2',
      'aoyan-ay101z-door-tamper-battery-low.json',
      { sensorId: 'door-9', open: false, tamper: true, batteryLow: true, battery: 12, linkquality: 33 },
    ],
    [
      'Tuya TS0601_bed_presence_sensor occupied',
      'ward2/r7/bed',
      'tuya-ts0601-bed-presence-occupied.json',
      { sensorId: 'bed-7', sensorKind: 'bed', residentId: 'res-7', occupied: true, battery: 90, linkquality: 64 },
    ],
    [
      'Tuya TS0601_bed_presence_sensor empty, last_seen as epoch',
      'ward2/r7/bed',
      'tuya-ts0601-bed-presence-empty.json',
      { occupied: false, sensorTime: '2026-11-25T02:09:58.000Z' },
    ],
    [
      'Tuya C3007 pad pressed',
      'ward2/r7/mat',
      'tuya-c3007-pad-pressed.json',
      { sensorId: 'mat-7', occupied: true, batteryLow: false, battery: 88 },
    ],
    [
      'Tuya C3007 pad released, fractional battery rounded',
      'ward2/r7/mat',
      'tuya-c3007-pad-released.json',
      { occupied: false, battery: 88 },
    ],
    [
      'mmWave presence sensor (bed field found by itself)',
      'ward2/r7/radar',
      'tuya-ts0601-gnpflcoq-mmwave-presence.json',
      { sensorId: 'radar-7', occupied: true, battery: 100, linkquality: 156 },
    ],
    [
      'a cached state with nulls for unreported attributes',
      'ward2/r7/door',
      'cached-state-with-nulls.json',
      { open: true, linkquality: 87 },
    ],
  ])('%s', (_what, name, file, expected) => {
    const event = eventOf(decode(`zigbee2mqtt/${name}`, fixture(file)));
    expect(event).toMatchObject({
      siteId: 'demo',
      time: '2026-11-25T02:10:00.000Z',
      format: 'zigbee2mqtt',
      raw: fixture(file),
      ...expected,
    });
    // A state message is not proof of life: Zigbee2MQTT replays cached state for dead devices.
    expect(event.online).toBeUndefined();
  });

  it('ignores the bed strap illuminance (raw pressure) and other unknown fields', () => {
    const event = eventOf(decode('zigbee2mqtt/ward2/r7/bed', fixture('tuya-ts0601-bed-presence-occupied.json')));
    expect(Object.keys(event).sort()).toEqual(
      [
        'battery',
        'format',
        'id',
        'linkquality',
        'occupied',
        'raw',
        'residentId',
        'roomId',
        'sensorId',
        'sensorKind',
        'siteId',
        'time',
      ].sort(),
    );
  });

  it('turns a state without the state field into a battery and signal update only', () => {
    const event = eventOf(decode('zigbee2mqtt/ward2/r7/door', fixture('battery-only.json')));
    expect(event).toMatchObject({ battery: 62, linkquality: 40 });
    expect(event.open).toBeUndefined();
    expect(event.occupied).toBeUndefined();
    expect(event.sensorTime).toBeUndefined(); // last_seen "5 minutes ago" (relative) is no instant
    const bed = eventOf(decode('zigbee2mqtt/ward2/r7/mat', '{"battery_low":true,"voltage":2300}'));
    expect(bed).toMatchObject({ batteryLow: true });
    expect(bed.occupied).toBeUndefined();
  });
});

describe('zigbee2mqtt adapter: field order', () => {
  it('writes the fields in one order, optional ones only when sent (the outbox keeps each event as this JSON)', () => {
    const base = ['id', 'siteId', 'sensorId', 'sensorKind', 'roomId'];
    const tail = ['time', 'format', 'raw'];
    const door = eventOf(decode('zigbee2mqtt/0x00158d0001e8a1b2', fixture('aoyan-ay101z-door-tamper-battery-low.json')));
    expect(Object.keys(door)).toEqual([...base, ...tail, 'battery', 'batteryLow', 'linkquality', 'tamper', 'open']);
    const bed = eventOf(decode('zigbee2mqtt/ward2/r7/bed', '{"occupancy":true,"last_seen":1764036598000}'));
    expect(Object.keys(bed)).toEqual([...base, 'residentId', ...tail, 'sensorTime', 'occupied']);
    const online = eventOf(decode('zigbee2mqtt/ward2/r7/bed/availability', 'online'));
    expect(Object.keys(online)).toEqual([...base, 'residentId', ...tail, 'online']);
  });
});

describe('zigbee2mqtt adapter: availability', () => {
  it.each([
    ['legacy online', 'availability-legacy-online.txt', true],
    ['legacy offline', 'availability-legacy-offline.txt', false],
    ['Z2M 2.x online', 'availability-z2m2-online.json', true],
    ['Z2M 2.x offline', 'availability-z2m2-offline.json', false],
  ])('reads the %s form', (_what, file, online) => {
    const event = eventOf(decode('zigbee2mqtt/ward2/r7/bed/availability', fixture(file)));
    expect(event).toMatchObject({ sensorId: 'bed-7', online, format: 'zigbee2mqtt' });
    expect(event.occupied).toBeUndefined();
    expect(event.battery).toBeUndefined();
  });

  it('reads availability for a friendly name with slashes and unicode', () => {
    expect(decode(`zigbee2mqtt/${UNICODE_NAME}/availability`, '{"state":"offline"}')).toMatchObject({
      type: 'event',
      event: { sensorId: 'door-8', online: false },
    });
  });
});

describe('zigbee2mqtt adapter: topics that are not sensor messages', () => {
  it.each([
    ['bridge state', 'zigbee2mqtt/bridge/state', fixture('bridge-state.json')],
    ['bridge event', 'zigbee2mqtt/bridge/event', fixture('bridge-event-device-announce.json')],
    ['a large retained bridge/devices list', 'zigbee2mqtt/bridge/devices', JSON.stringify([{ exposes: 'x'.repeat(20_000) }])],
    ['a bridge response', 'zigbee2mqtt/bridge/response/device/options', '{"status":"ok","data":{},"transaction":"1"}'],
    ['a /set command echo', 'zigbee2mqtt/ward2/r7/bed/set', fixture('set-echo-sensitivity.json')],
    ['a /get command', 'zigbee2mqtt/ward2/r7/mat/get', '{"battery":""}'],
    ['a per-attribute /set', 'zigbee2mqtt/ward2/r7/bed/set/sensitivity', 'high'],
    ['a /set for a device we do not map', 'zigbee2mqtt/hallway/lamp/set', '{"state":"ON"}'],
  ])('ignores %s', (_what, topic, payload) => {
    expect(decode(topic, payload)).toEqual({ type: 'ignored' });
  });
});

describe('zigbee2mqtt adapter: rejections', () => {
  it.each([
    ['malformed JSON', 'ward2/r7/door', fixture('malformed.txt'), 'not-json', 'door-7'],
    ['a contact that is a string', 'ward2/r7/door', fixture('wrong-type-contact-string.json'), 'schema', 'door-7'],
    ['a battery that is a string', 'ward2/r7/door', fixture('wrong-type-battery-string.json'), 'schema', 'door-7'],
    ['an occupancy that is a number', 'ward2/r7/bed', fixture('wrong-type-occupancy-number.json'), 'schema', 'bed-7'],
    ['a link quality over 255', 'ward2/r7/door', fixture('out-of-range-linkquality.json'), 'schema', 'door-7'],
    ['a battery over 100', 'ward2/r7/mat', fixture('out-of-range-battery.json'), 'schema', 'mat-7'],
    ['a last_seen that is a boolean', 'ward2/r7/door', fixture('wrong-type-last-seen.json'), 'schema', 'door-7'],
    ['a state that is not an object', 'ward2/r7/door', fixture('not-an-object.json'), 'schema', 'door-7'],
    ['an unknown availability state', 'ward2/r7/door/availability', fixture('availability-bad-state.json'), 'schema', 'door-7'],
    ['availability that is neither word nor JSON', 'ward2/r7/door/availability', 'ONLINE!', 'not-json', 'door-7'],
    ['a friendly name not in the mapping', 'hallway/lamp', '{"state":"ON"}', 'unknown-sensor', undefined],
    ['availability of an unmapped device', 'hallway/lamp/availability', 'online', 'unknown-sensor', undefined],
    ['a mapping to a sensor the site lacks', 'ward2/r9/door', '{"contact":true}', 'unknown-sensor', 'door-99'],
    ['a door payload for a bed sensor', 'ward2/r7/bed', fixture('aqara-mccgq14lm-door-closed.json'), 'wrong-kind', 'bed-7'],
    ['a door payload for a sensor mapped without bedField', 'ward2/r7/radar', '{"contact":false}', 'wrong-kind', 'radar-7'],
    ['a bed payload for a door sensor', 'ward2/r7/door', fixture('tuya-c3007-pad-pressed.json'), 'wrong-kind', 'door-7'],
    [
      'a bed field other than the configured one',
      'ward2/r7/mat',
      fixture('tuya-ts0601-bed-presence-occupied.json'),
      'unsupported',
      'mat-7',
    ],
    ['two bed fields with no bedField to choose', 'ward2/r7/radar', '{"presence":true,"occupancy":false}', 'unsupported', 'radar-7'],
    [
      'an oversize payload',
      'ward2/r7/door',
      JSON.stringify({ contact: false, pad: 'x'.repeat(MAX_ZIGBEE2MQTT_PAYLOAD_BYTES) }),
      'oversize',
      'door-7',
    ],
  ])('rejects %s with a reason', (_what, name, payload, reason, sensorId) => {
    const result = decode(`zigbee2mqtt/${name}`, payload);
    expect(result).toMatchObject({ type: 'rejected', reason, sensorId });
    expect(result.type === 'rejected' && result.detail.length).toBeGreaterThan(0);
  });

  it('says which field is wrong', () => {
    expect(decode('zigbee2mqtt/ward2/r7/door', fixture('wrong-type-contact-string.json'))).toMatchObject({
      detail: expect.stringContaining('/contact'),
    });
    expect(decode('zigbee2mqtt/ward2/r7/mat', fixture('out-of-range-battery.json'))).toMatchObject({
      detail: expect.stringContaining('/battery'),
    });
  });

  it('accepts exactly the size limit', () => {
    const base = '{"contact":false,"pad":""}';
    const payload = base.replace('""', `"${'x'.repeat(MAX_ZIGBEE2MQTT_PAYLOAD_BYTES - base.length)}"`);
    expect(Buffer.byteLength(payload)).toBe(MAX_ZIGBEE2MQTT_PAYLOAD_BYTES);
    expect(decode('zigbee2mqtt/ward2/r7/door', payload).type).toBe('event');
  });
});

describe('zigbee2mqtt adapter: friendly names', () => {
  it('matches a unicode name whatever its normal form on the wire', () => {
    const nfc = `zigbee2mqtt/${UNICODE_NAME.normalize('NFC')}`;
    const nfd = `zigbee2mqtt/${UNICODE_NAME.normalize('NFD')}`;
    expect(nfd).not.toBe(nfc);
    for (const topic of [nfc, nfd]) {
      expect(eventOf(decode(topic, fixture('aqara-mccgq11lm-door-open.json')))).toMatchObject({ sensorId: 'door-8', open: true });
    }
  });

  it('does not match a name that only looks alike', () => {
    expect(decode('zigbee2mqtt/Avdeling 2/Rom 8 – Asgard/dør', '{"contact":false}')).toMatchObject({ reason: 'unknown-sensor' });
    expect(decode('zigbee2mqtt/ward2/R7/door', '{"contact":false}')).toMatchObject({ reason: 'unknown-sensor' });
  });
});

describe('zigbee2mqtt adapter: subscriptions and ownership', () => {
  it('subscribes to the base topic only when devices are mapped', () => {
    expect(adapter.subscriptions('demo')).toEqual(['zigbee2mqtt/#']);
    expect(zigbee2mqttAdapter().subscriptions('demo')).toEqual([]);
    expect(zigbee2mqttAdapter({ baseTopic: 'zigbee2mqtt', devices: [] }).subscriptions('demo')).toEqual([]);
  });

  it('follows a custom base topic', () => {
    const custom = zigbee2mqttAdapter({ baseTopic: 'z2m/ward2', devices: [{ friendlyName: 'r7/door', sensorId: 'door-7' }] });
    expect(custom.subscriptions('demo')).toEqual(['z2m/ward2/#']);
    expect(custom.owns('z2m/ward2/r7/door')).toBe(true);
    expect(custom.owns('zigbee2mqtt/r7/door')).toBe(false);
    expect(custom.owns('z2m/ward2')).toBe(false);
    expect(custom.decode('z2m/ward2/r7/door', Buffer.from('{"contact":false}'), ctx)).toMatchObject({ event: { open: true } });
  });

  it('sits next to the native adapter in the registry', () => {
    const registry = new AdapterRegistry([nativeAdapter, adapter]);
    expect(registry.subscriptions('demo')).toEqual(['nattevakt/v1/demo/sensors/#', 'nattevakt/v1/demo/clock', 'zigbee2mqtt/#']);
    expect(registry.decode('zigbee2mqtt/ward2/r7/door', Buffer.from('{"contact":false}'), ctx)).toMatchObject({
      event: { format: 'zigbee2mqtt', open: true },
    });
    expect(registry.decode('nattevakt/v1/demo/sensors/door-7/state', Buffer.from('{"kind":"door","open":true}'), ctx)).toMatchObject({
      event: { format: 'native', open: true },
    });
    expect(registry.decode('tasmota/tele/x/SENSOR', Buffer.from('{}'), ctx)).toMatchObject({ reason: 'bad-topic' });
  });
});

describe('zigbee2mqtt configuration', () => {
  const parse = (zigbee2mqtt: unknown) => parseGatewayConfig({ version: 1, siteId: 'demo', zigbee2mqtt });

  it('defaults to the standard base topic and no devices', () => {
    expect(parseGatewayConfig({ version: 1, siteId: 'demo' }).zigbee2mqtt).toEqual({ baseTopic: 'zigbee2mqtt', devices: [] });
    expect(parse({ devices: [{ friendlyName: 'ward2/r7/door', sensorId: 'door-7' }] }).zigbee2mqtt).toEqual({
      baseTopic: 'zigbee2mqtt',
      devices: [{ friendlyName: 'ward2/r7/door', sensorId: 'door-7' }],
    });
    expect(parse({ baseTopic: 'z2m' }).zigbee2mqtt).toEqual({ baseTopic: 'z2m', devices: [] });
  });

  it.each([
    ['a section that is not an object', 'zigbee2mqtt', /\/zigbee2mqtt: Expected object/],
    ['an unknown bed field', { devices: [{ friendlyName: 'a', sensorId: 'bed-1', bedField: 'illuminance' }] }, /bedField.*"occupancy"/],
    ['a wildcard in a friendly name', { devices: [{ friendlyName: 'ward2/+/door', sensorId: 'door-7' }] }, /friendlyName/],
    ['an empty topic level', { devices: [{ friendlyName: 'ward2//door', sensorId: 'door-7' }] }, /friendlyName/],
    ['a sensor id that is no id', { devices: [{ friendlyName: 'a', sensorId: 'Door 7' }] }, /sensorId/],
    ['an unknown setting', { devices: [], base_topic: 'x' }, /base_topic/],
    ['the native topic root as base topic', { baseTopic: 'nattevakt' }, /baseTopic.*collides/],
    ['a name under the bridge topic', { devices: [{ friendlyName: 'bridge/state', sensorId: 'door-7' }] }, /bridge, \/set/],
    ['a name ending in /availability', { devices: [{ friendlyName: 'r7/availability', sensorId: 'door-7' }] }, /bridge, \/set/],
    [
      'a friendly name mapped twice',
      {
        devices: [
          { friendlyName: 'r7/door', sensorId: 'door-7' },
          { friendlyName: 'r7/door', sensorId: 'door-8' },
        ],
      },
      /devices\/1\/friendlyName: "r7\/door" is already mapped by device 0/,
    ],
    [
      'a sensor mapped twice',
      {
        devices: [
          { friendlyName: 'r7/door', sensorId: 'door-7' },
          { friendlyName: 'r7/door2', sensorId: 'door-7' },
        ],
      },
      /devices\/1\/sensorId/,
    ],
  ])('refuses %s, naming the setting', (_what, section, message) => {
    expect(() => parse(section)).toThrow(ConfigError);
    expect(() => parse(section)).toThrow(message);
  });
});
