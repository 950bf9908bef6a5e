import { describe, expect, it } from 'vitest';
import { availabilityPayload, MAX_NATIVE_PAYLOAD_BYTES, sensorStatePayload, simulatedClockPayload } from './sensor-payloads.js';

/** The errors of a payload that must fail. */
const errorsOf = (check: { ok: true } | { ok: false; errors: string[] }): string[] => {
  if (check.ok) throw new Error('expected the payload to be rejected');
  return check.errors;
};

describe('sensor state payloads', () => {
  it.each([
    ['bed, minimal', { kind: 'bed', occupied: true }],
    ['bed, left', { kind: 'bed', occupied: false }],
    ['door, minimal', { kind: 'door', open: false }],
    ['door, every field', { kind: 'door', open: true, time: '2026-11-25T03:10:00+01:00', battery: 91, linkquality: 120, tamper: false }],
    ['bed, UTC time with milliseconds', { kind: 'bed', occupied: true, time: '2026-11-25T02:10:00.123Z' }],
    ['bounds of battery and link quality', { kind: 'bed', occupied: true, battery: 0, linkquality: 255 }],
    ['upper bound of battery', { kind: 'bed', occupied: true, battery: 100, linkquality: 0 }],
  ])('accepts %s', (_what, payload) => {
    expect(sensorStatePayload.check(payload)).toEqual({ ok: true, value: payload });
    expect(sensorStatePayload.is(payload)).toBe(true);
  });

  it('accepts what the README example sends', () => {
    const wire = '{"kind":"door","open":true,"time":"2026-11-25T03:10:00+01:00","battery":91}';
    expect(sensorStatePayload.check(JSON.parse(wire)).ok).toBe(true);
  });

  it.each([
    ['a state of the wrong type', { kind: 'door', open: 'yes' }, '/open: Expected boolean'],
    ['a number for a boolean', { kind: 'bed', occupied: 1 }, '/occupied: Expected boolean'],
    ['the other kind’s field', { kind: 'bed', open: true }, '/occupied: Expected required property'],
    ['a missing state', { kind: 'door' }, '/open: Expected required property'],
    ['a missing kind', { open: true }, '/kind: Expected required property, one of "bed", "door"'],
    ['an unknown kind', { kind: 'window', open: true }, '/kind: Expected one of "bed", "door"'],
    ['an unknown field', { kind: 'door', open: true, contact: false }, '/contact: Unexpected property'],
    ['battery above 100', { kind: 'door', open: true, battery: 101 }, '/battery: Expected integer to be less or equal to 100'],
    ['battery below 0', { kind: 'door', open: true, battery: -1 }, '/battery: Expected integer to be greater or equal to 0'],
    ['a fractional battery', { kind: 'door', open: true, battery: 50.5 }, '/battery: Expected integer'],
    ['battery as a string', { kind: 'door', open: true, battery: '91' }, '/battery: Expected integer'],
    [
      'link quality above 255',
      { kind: 'bed', occupied: true, linkquality: 256 },
      '/linkquality: Expected integer to be less or equal to 255',
    ],
    ['tamper as a string', { kind: 'bed', occupied: true, tamper: 'no' }, '/tamper: Expected boolean'],
    [
      'a time without offset',
      { kind: 'door', open: true, time: '2026-11-25T03:10:00' },
      "/time: Expected string to match 'date-time' format",
    ],
    [
      'a time without seconds',
      { kind: 'door', open: true, time: '2026-11-25T03:10+01:00' },
      "/time: Expected string to match 'date-time' format",
    ],
    [
      'a time with a space',
      { kind: 'door', open: true, time: '2026-11-25 03:10:00Z' },
      "/time: Expected string to match 'date-time' format",
    ],
    ['30 February', { kind: 'door', open: true, time: '2026-02-30T03:10:00Z' }, "/time: Expected string to match 'date-time' format"],
    ['hour 24', { kind: 'door', open: true, time: '2026-11-25T24:00:00Z' }, "/time: Expected string to match 'date-time' format"],
    ['epoch seconds as time', { kind: 'door', open: true, time: 1764040200 }, '/time: Expected string'],
  ])('rejects %s with a readable error', (_what, payload, error) => {
    const errors = errorsOf(sensorStatePayload.check(payload));
    expect(errors).toContain(error);
    expect(errors.join()).not.toContain('union');
    expect(sensorStatePayload.is(payload)).toBe(false);
  });

  it.each([
    ['a string', 'open'],
    ['null', null],
    ['an array', [{ kind: 'door', open: true }]],
    ['a number', 1],
  ])('rejects %s instead of an object', (_what, payload) => {
    expect(errorsOf(sensorStatePayload.check(payload))).toEqual(['/: Expected object']);
  });

  it('reports at most five errors', () => {
    const payload = { kind: 'door', open: 1, battery: -1, linkquality: 300, tamper: 'no', time: 5, a: 1, b: 2 };
    expect(errorsOf(sensorStatePayload.check(payload))).toHaveLength(5);
  });

  it('keeps the size limit small', () => {
    expect(MAX_NATIVE_PAYLOAD_BYTES).toBe(1024);
    const biggest = {
      kind: 'door',
      open: false,
      time: '2026-11-25T03:10:00.123456789+01:00',
      battery: 100,
      linkquality: 255,
      tamper: false,
    };
    expect(Buffer.byteLength(JSON.stringify(biggest))).toBeLessThan(MAX_NATIVE_PAYLOAD_BYTES);
  });
});

describe('availability payload', () => {
  it.each([[{ state: 'online' }], [{ state: 'offline' }]])('accepts %j', (payload) => {
    expect(availabilityPayload.check(payload)).toEqual({ ok: true, value: payload });
  });

  it.each([
    ['an unknown state', { state: 'gone' }, '/state: Expected one of "online", "offline"'],
    ['an upper-case state', { state: 'OFFLINE' }, '/state: Expected one of "online", "offline"'],
    ['a missing state', {}, '/state: Expected required property'],
    ['an extra field', { state: 'online', since: 1 }, '/since: Unexpected property'],
    ['the legacy plain-text form', 'offline', '/: Expected object'],
  ])('rejects %s', (_what, payload, error) => {
    expect(errorsOf(availabilityPayload.check(payload))).toContain(error);
  });
});

describe('simulated clock payload', () => {
  it('accepts a time and a speed', () => {
    expect(simulatedClockPayload.check({ time: '2026-11-25T03:10:00+01:00', speed: 60 }).ok).toBe(true);
    expect(simulatedClockPayload.check({ time: '2026-11-25T03:10:00+01:00', speed: 0 }).ok).toBe(true);
  });

  it('rejects a negative or absurd speed and a bad time', () => {
    expect(errorsOf(simulatedClockPayload.check({ time: '2026-11-25T03:10:00+01:00', speed: -1 }))).toEqual([
      '/speed: Expected number to be greater or equal to 0',
    ]);
    expect(errorsOf(simulatedClockPayload.check({ time: '2026-11-25T03:10:00+01:00', speed: 1e6 }))[0]).toMatch(/^\/speed/);
    expect(errorsOf(simulatedClockPayload.check({ time: 'now', speed: 1 }))[0]).toMatch(/^\/time/);
  });
});
