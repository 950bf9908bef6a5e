import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SensorConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { NightClock } from '../src/behaviour/night-clock.js';
import { parseRecording, planReplay } from '../src/replay.js';
import { wireBytes } from '../src/scheduled-message.js';
import { type SensorFault, sensorStream } from '../src/sensors/sensor-stream.js';
import { encodeState, type SensorWire, ZIGBEE2MQTT_MODEL_NAMES, ZIGBEE2MQTT_MODELS } from '../src/sensors/wire-format.js';

const clock = new NightClock('2026-11-24', 'Europe/Oslo');
const from = clock.at('01:00');
const to = clock.at('03:00');
const MINUTE = 60_000;
const door: SensorConfig = { id: 'door-1', kind: 'door', roomId: 'room-1' };
const bed: SensorConfig = { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' };

const stream = (sensor: SensorConfig, faults: SensorFault[] = [], wire?: SensorWire, changes = [{ at: clock.at('21:00'), value: true }]) =>
  sensorStream({ siteId: 'demo', sensor, changes, faults, seed: 1, clock, from, to, ...(wire !== undefined ? { wire } : {}) });

describe('a sensor stream', () => {
  it('announces itself, then sends a heartbeat at least every 10 minutes', () => {
    const messages = stream(bed);
    expect(messages[0]).toMatchObject({
      at: from,
      topic: 'nattevakt/v1/demo/sensors/bed-1/availability',
      payload: { state: 'online' },
      retain: true,
    });
    expect(messages[1]).toMatchObject({ at: from, payload: { kind: 'bed', occupied: true } });
    for (let i = 2; i < messages.length; i++) expect((messages[i]?.at ?? 0) - (messages[i - 1]?.at ?? 0)).toBeLessThanOrEqual(10 * MINUTE);
    expect((to - (messages.at(-1)?.at ?? 0)) / MINUTE).toBeLessThanOrEqual(10);
  });

  it('goes silent for a while and comes back with a report', () => {
    const silent = { from: clock.at('01:30'), until: clock.at('02:10') };
    const messages = stream(door, [{ type: 'silent', ...silent }]);
    expect(messages.filter((m) => m.at >= silent.from && m.at < silent.until)).toEqual([]);
    expect(messages.find((m) => m.at >= silent.until)?.at).toBe(silent.until);
  });

  it('is reported offline (retained) and online again, silent in between', () => {
    const offline = { from: clock.at('01:30'), until: clock.at('02:00') };
    const messages = stream(door, [{ type: 'offline', ...offline }]);
    const availability = messages.filter((m) => m.topic.endsWith('/availability')).map((m) => [m.at, m.payload, m.retain]);
    expect(availability).toEqual([
      [from, { state: 'online' }, true],
      [offline.from, { state: 'offline' }, true],
      [offline.until, { state: 'online' }, true],
    ]);
    expect(messages.filter((m) => m.topic.endsWith('/state') && m.at >= offline.from && m.at < offline.until)).toEqual([]);
  });

  it('reports a battery reading from its moment on, draining on', () => {
    const messages = stream(door, [{ type: 'battery', at: clock.at('02:00'), percent: 14 }]);
    const battery = messages.filter((m) => m.topic.endsWith('/state')).map((m) => [m.at, (m.payload as { battery: number }).battery]);
    expect(battery.filter(([at]) => (at as number) >= clock.at('02:00')).every(([, b]) => b === 14)).toBe(true);
    expect(battery.filter(([at]) => (at as number) < clock.at('02:00')).every(([, b]) => (b as number) > 30)).toBe(true);
  });

  it('flaps: more than the rule’s 10 changes a minute, then back to the real state', () => {
    const messages = stream(bed, [{ type: 'flapping', from: clock.at('02:00'), until: clock.at('02:02'), changesPerMinute: 20 }]);
    const states = messages.filter((m) => m.topic.endsWith('/state') && m.at >= clock.at('02:00') && m.at <= clock.at('02:02'));
    const occupied = states.map((m) => (m.payload as { occupied: boolean }).occupied);
    const changes = occupied.filter((value, i) => i > 0 && value !== occupied[i - 1]).length;
    expect(changes).toBeGreaterThanOrEqual(38);
    expect(
      messages
        .filter((m) => m.at > clock.at('02:02'))
        .every((m) => m.topic.endsWith('/availability') || (m.payload as { occupied: boolean }).occupied),
    ).toBe(true);
  });

  it('carries the tamper switch while the case is open', () => {
    const messages = stream(door, [{ type: 'tamper', from: clock.at('01:15'), until: clock.at('01:20') }]);
    const tamper = messages.filter((m) => m.topic.endsWith('/state')).map((m) => [m.at, (m.payload as { tamper?: boolean }).tamper]);
    expect(tamper).toContainEqual([clock.at('01:15'), true]);
    expect(tamper).toContainEqual([clock.at('01:20'), false]);
  });

  it('sends malformed messages as raw bytes', () => {
    const messages = stream(bed, [{ type: 'malformed', at: clock.at('01:10'), variant: 'not-json' }]);
    const bad = messages.find((m) => m.raw !== undefined);
    expect(bad?.at).toBe(clock.at('01:10'));
    expect(() => JSON.parse(wireBytes(bad as NonNullable<typeof bad>))).toThrow();
  });
});

describe('Zigbee2MQTT models', () => {
  const reading = { at: clock.at('02:00'), value: true, battery: 12, linkquality: 80, tamper: true };

  it('put the state in the field the gateway reads for each model', () => {
    for (const model of ZIGBEE2MQTT_MODEL_NAMES) {
      const { kind, bedField } = ZIGBEE2MQTT_MODELS[model];
      const sensor = kind === 'bed' ? bed : door;
      const { topic, payload } = encodeState(
        'demo',
        sensor,
        { format: 'zigbee2mqtt', model, friendlyName: 'avd2/rom1', baseTopic: 'zigbee2mqtt' },
        reading,
      );
      expect(topic).toBe('zigbee2mqtt/avd2/rom1');
      const fields = payload as Record<string, unknown>;
      // Zigbee2MQTT's contact is true while closed: an open door is contact false.
      if (kind === 'door') expect(fields.contact, model).toBe(false);
      else expect(fields[bedField as string], model).toBe(true);
      expect(fields.battery).toBe(12);
    }
  });

  it('sends the device’s own low-battery flag and tamper switch where the model has them', () => {
    const ay101z = encodeState(
      'demo',
      door,
      { format: 'zigbee2mqtt', model: 'aoyan-ay101z', friendlyName: 'd', baseTopic: 'z' },
      reading,
    ).payload;
    expect(ay101z).toMatchObject({ battery_low: true, tamper: true });
    const aqara = encodeState(
      'demo',
      door,
      { format: 'zigbee2mqtt', model: 'aqara-mccgq14lm', friendlyName: 'd', baseTopic: 'z' },
      reading,
    ).payload;
    expect(aqara).not.toHaveProperty('tamper');
  });

  it('uses Zigbee2MQTT 1.x bare availability words when asked', () => {
    const messages = stream(door, [], {
      format: 'zigbee2mqtt',
      model: 'aqara-mccgq11lm',
      friendlyName: 'rom1/dør',
      baseTopic: 'zigbee2mqtt',
      legacyAvailability: true,
    });
    expect(messages[0]).toMatchObject({ topic: 'zigbee2mqtt/rom1/dør/availability', raw: 'online', retain: true });
  });
});

describe('replay of an export', () => {
  const base = { siteId: 'demo', roomId: 'room-1', residentId: 'res-1' };
  const events: SensorEvent[] = [
    {
      ...base,
      id: 'e1',
      sensorId: 'bed-1',
      sensorKind: 'bed',
      time: '2026-11-25T02:00:00.000Z',
      online: true,
      format: 'native',
      raw: '{"state":"online"}',
    },
    {
      ...base,
      id: 'e2',
      sensorId: 'bed-1',
      sensorKind: 'bed',
      time: '2026-11-25T02:00:00.000Z',
      occupied: true,
      format: 'native',
      raw: '{"kind":"bed","occupied":true}',
    },
    {
      ...base,
      id: 'e3',
      sensorId: 'door-1',
      sensorKind: 'door',
      time: '2026-11-25T02:10:00.000Z',
      open: true,
      format: 'zigbee2mqtt',
      raw: '{"contact":false,"battery":90}',
    },
    {
      ...base,
      id: 'e4',
      sensorId: 'door-2',
      sensorKind: 'door',
      time: '2026-11-25T02:11:00.000Z',
      open: true,
      battery: 80,
      format: 'zigbee2mqtt',
      raw: '{"contact":false,"battery":80}',
    },
  ];

  it('publishes each event again at its site time, with its bytes, on the topic of its format', () => {
    const recording = parseRecording(
      `${JSON.stringify({ events: events.slice(0, 2) })}\n${JSON.stringify({ events: [...events.slice(1)] })}\n`,
    );
    const plan = planReplay(recording, { zigbee2mqtt: { devices: [{ friendlyName: 'avd2/rom1/dør', sensorId: 'door-1' }] } });
    expect(plan.messages.map((m) => [new Date(m.at).toISOString(), m.topic, wireBytes(m), m.retain ?? false])).toEqual([
      ['2026-11-25T02:00:00.000Z', 'nattevakt/v1/demo/sensors/bed-1/availability', '{"state":"online"}', true],
      ['2026-11-25T02:00:00.000Z', 'nattevakt/v1/demo/sensors/bed-1/state', '{"kind":"bed","occupied":true}', false],
      ['2026-11-25T02:10:00.000Z', 'zigbee2mqtt/avd2/rom1/dør', '{"contact":false,"battery":90}', false],
      // No device mapping for door-2: the same reading in the native format.
      ['2026-11-25T02:11:00.000Z', 'nattevakt/v1/demo/sensors/door-2/state', '{"kind":"door","open":true,"battery":80}', false],
    ]);
    expect(plan.converted).toBe(1);
  });

  it('refuses a recording that is not an export, naming the event', () => {
    expect(() => parseRecording('{"events":[{"id":"x"}]}')).toThrow(/document 1, \/events\/0: /);
    expect(() => parseRecording('{"alarms":[]}')).toThrow(/expected \{"events": \[\.\.\.\]\}/);
  });
});
