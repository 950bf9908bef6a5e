import type { SensorConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { decodeNative } from './native.js';

const sensors: Record<string, SensorConfig> = {
  'bed-1': { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
  'door-1': { id: 'door-1', kind: 'door', roomId: 'room-1' },
};
let n = 0;
const ctx = { siteId: 'demo', sensor: (id: string) => sensors[id], now: Date.parse('2026-11-25T02:10:00Z'), newId: () => `e${++n}` };
const decode = (topic: string, payload: unknown) =>
  decodeNative(topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), ctx);

describe('native adapter', () => {
  it('normalizes a bed state with battery and link quality', () => {
    const result = decode('nattevakt/v1/demo/sensors/bed-1/state', {
      kind: 'bed',
      occupied: false,
      battery: 80,
      linkquality: 120,
      time: '2026-11-25T03:09:58+01:00',
    });
    expect(result).toMatchObject({
      type: 'event',
      event: {
        sensorId: 'bed-1',
        sensorKind: 'bed',
        roomId: 'room-1',
        residentId: 'res-1',
        occupied: false,
        battery: 80,
        linkquality: 120,
        online: true,
        sensorTime: '2026-11-25T03:09:58+01:00',
        time: '2026-11-25T02:10:00.000Z',
        format: 'native',
      },
    });
  });

  it('normalizes a door state and availability', () => {
    expect(decode('nattevakt/v1/demo/sensors/door-1/state', { kind: 'door', open: true })).toMatchObject({
      type: 'event',
      event: { open: true, roomId: 'room-1' },
    });
    const offline = decode('nattevakt/v1/demo/sensors/door-1/availability', { state: 'offline' });
    expect(offline).toMatchObject({ type: 'event', event: { online: false } });
    expect(offline.type === 'event' && offline.event.open).toBeUndefined();
  });

  it('writes the fields in one order, optional ones only when sent (the outbox keeps each event as this JSON)', () => {
    const base = ['id', 'siteId', 'sensorId', 'sensorKind', 'roomId'];
    const keys = (result: ReturnType<typeof decode>) => (result.type === 'event' ? Object.keys(result.event) : result);
    const bed = { kind: 'bed', occupied: true, tamper: false, battery: 80, time: '2026-11-25T03:09:58+01:00' };
    expect(keys(decode('nattevakt/v1/demo/sensors/bed-1/state', bed))).toEqual([
      ...base,
      'residentId',
      'time',
      'format',
      'raw',
      'online',
      'sensorTime',
      'battery',
      'tamper',
      'occupied',
    ]);
    expect(keys(decode('nattevakt/v1/demo/sensors/door-1/state', { kind: 'door', open: false }))).toEqual([
      ...base,
      'time',
      'format',
      'raw',
      'online',
      'open',
    ]);
    expect(keys(decode('nattevakt/v1/demo/sensors/door-1/availability', { state: 'online' }))).toEqual([
      ...base,
      'time',
      'format',
      'raw',
      'online',
    ]);
  });

  it('keeps the raw payload for audit', () => {
    const raw = '{"kind":"door","open":false}';
    expect(decode('nattevakt/v1/demo/sensors/door-1/state', raw)).toMatchObject({ event: { raw } });
  });

  it.each([
    ['not json', 'nattevakt/v1/demo/sensors/door-1/state', '{"kind":', 'not-json'],
    ['a wrong type', 'nattevakt/v1/demo/sensors/door-1/state', { kind: 'door', open: 'yes' }, 'schema'],
    ['an unknown field', 'nattevakt/v1/demo/sensors/door-1/state', { kind: 'door', open: true, colour: 'red' }, 'schema'],
    ['a battery over 100', 'nattevakt/v1/demo/sensors/bed-1/state', { kind: 'bed', occupied: true, battery: 140 }, 'schema'],
    ['an unknown sensor', 'nattevakt/v1/demo/sensors/bed-99/state', { kind: 'bed', occupied: true }, 'unknown-sensor'],
    ['a door payload from a bed sensor', 'nattevakt/v1/demo/sensors/bed-1/state', { kind: 'door', open: true }, 'wrong-kind'],
    ['another site', 'nattevakt/v1/other/sensors/bed-1/state', { kind: 'bed', occupied: true }, 'wrong-site'],
    ['a foreign topic', 'zigbee2mqtt/bed-1', { occupancy: true }, 'bad-topic'],
    ['an oversize payload', 'nattevakt/v1/demo/sensors/bed-1/state', 'x'.repeat(5000), 'oversize'],
  ])('rejects %s with a reason', (_what, topic, payload, reason) => {
    const result = decode(topic, payload);
    expect(result).toMatchObject({ type: 'rejected', reason });
    expect(result.type === 'rejected' && result.detail.length).toBeGreaterThan(0);
  });

  it('reads the simulated clock and ignores its own alarm topic', () => {
    expect(decode('nattevakt/v1/demo/clock', { time: '2026-11-25T02:20:00Z', speed: 60 })).toEqual({
      type: 'clock',
      time: Date.parse('2026-11-25T02:20:00Z'),
      speed: 60,
    });
    expect(decode('nattevakt/v1/demo/alarms', {})).toEqual({ type: 'ignored' });
  });
});
