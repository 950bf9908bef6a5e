import { describe, expect, it } from 'vitest';
import { parseNativeTopic, TOPIC_ROOT, topics } from './topics.js';

describe('topics', () => {
  it('builds the native topics', () => {
    expect(TOPIC_ROOT).toBe('nattevakt/v1');
    expect(topics.sensorState('demo', 'door-7')).toBe('nattevakt/v1/demo/sensors/door-7/state');
    expect(topics.sensorAvailability('demo', 'door-7')).toBe('nattevakt/v1/demo/sensors/door-7/availability');
    expect(topics.clock('demo')).toBe('nattevakt/v1/demo/clock');
    expect(topics.alarms('demo')).toBe('nattevakt/v1/demo/alarms');
    expect(topics.sensorsOfSite('demo')).toBe('nattevakt/v1/demo/sensors/#');
  });

  it('parses every topic it builds back to its parts', () => {
    expect(parseNativeTopic(topics.sensorState('demo', 'door-7'))).toEqual({ kind: 'state', siteId: 'demo', sensorId: 'door-7' });
    expect(parseNativeTopic(topics.sensorAvailability('solbakken-2', 'bed-12'))).toEqual({
      kind: 'availability',
      siteId: 'solbakken-2',
      sensorId: 'bed-12',
    });
    expect(parseNativeTopic(topics.clock('demo'))).toEqual({ kind: 'clock', siteId: 'demo' });
    expect(parseNativeTopic(topics.alarms('demo'))).toEqual({ kind: 'alarms', siteId: 'demo' });
  });

  it('accepts ids of 1 and 64 characters', () => {
    expect(parseNativeTopic('nattevakt/v1/a/sensors/0/state')).toEqual({ kind: 'state', siteId: 'a', sensorId: '0' });
    const long = `s${'x'.repeat(63)}`;
    expect(parseNativeTopic(`nattevakt/v1/demo/sensors/${long}/state`)).toEqual({ kind: 'state', siteId: 'demo', sensorId: long });
  });

  it.each([
    ['a wildcard subscription filter', 'nattevakt/v1/demo/sensors/#'],
    ['a single-level wildcard as sensor', 'nattevakt/v1/demo/sensors/+/state'],
    ['a single-level wildcard as site', 'nattevakt/v1/+/clock'],
    ['a multi-level wildcard as message', 'nattevakt/v1/demo/sensors/door-7/#'],
    ['an extra level', 'nattevakt/v1/demo/sensors/door-7/state/extra'],
    ['a trailing slash', 'nattevakt/v1/demo/sensors/door-7/state/'],
    ['a leading slash', '/nattevakt/v1/demo/sensors/door-7/state'],
    ['a missing level', 'nattevakt/v1/demo/sensors/state'],
    ['an upper-case sensor id', 'nattevakt/v1/demo/sensors/Door-7/state'],
    ['an upper-case site id', 'nattevakt/v1/Demo/sensors/door-7/state'],
    ['an id starting with a dash', 'nattevakt/v1/demo/sensors/-door/state'],
    ['an id with an underscore', 'nattevakt/v1/demo/sensors/door_7/state'],
    ['an id of 65 characters', `nattevakt/v1/demo/sensors/${'x'.repeat(65)}/state`],
    ['an empty sensor id', 'nattevakt/v1/demo/sensors//state'],
    ['an empty site id', 'nattevakt/v1//clock'],
    ['another version', 'nattevakt/v2/demo/sensors/door-7/state'],
    ['another root', 'zigbee2mqtt/demo/sensors/door-7/state'],
    ['an upper-case root', 'Nattevakt/v1/demo/sensors/door-7/state'],
    ['the root alone', 'nattevakt/v1'],
    ['an unknown message type', 'nattevakt/v1/demo/sensors/door-7/set'],
    ['an unknown site topic', 'nattevakt/v1/demo/status'],
    ['clock with an extra level', 'nattevakt/v1/demo/clock/now'],
    ['a $SYS topic', '$SYS/broker/uptime'],
    ['the empty string', ''],
  ])('rejects %s', (_what, topic) => {
    expect(parseNativeTopic(topic)).toBeNull();
  });
});
