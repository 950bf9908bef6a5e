import { verify } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe, topicMatches } from '../src/broker/auth.js';
import { CredentialCheckOverload, Credentials, hashPassword, type MqttIdentity } from '../src/broker/credentials.js';
import { redactUrl } from '../src/broker/external-transport.js';
import { PacketSizeTracker } from '../src/broker/packet-size-guard.js';
import { LogThrottle, RateLimiter } from '../src/broker/rate-limit.js';
import { MQTT_LIMIT_DEFAULTS, parseGatewayConfig } from '../src/config/gateway-config.js';

describe('rate limiter', () => {
  const clock = () => {
    let now = 0;
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };

  it('accepts a burst, then the sustained rate, and drops the QoS 0 rest', () => {
    const time = clock();
    const limiter = new RateLimiter({ messagesPerSecond: 20, burst: 100, disconnectAfter: 1000 }, time.now);
    const verdicts = Array.from({ length: 150 }, () => limiter.take('user:door', 0).action);
    expect(verdicts.filter((v) => v === 'accept')).toHaveLength(100);
    expect(verdicts.slice(100).every((v) => v === 'drop')).toBe(true);
    time.advance(1000); // 20 tokens back
    const next = Array.from({ length: 30 }, () => limiter.take('user:door', 0).action);
    expect(next.filter((v) => v === 'accept')).toHaveLength(20);
    // Another client has its own bucket.
    expect(limiter.take('user:bed', 0).action).toBe('accept');
  });

  it('holds QoS 1 messages back until their token is due, in order, instead of dropping them', () => {
    const time = clock();
    const limiter = new RateLimiter({ messagesPerSecond: 10, burst: 2, disconnectAfter: 1000 }, time.now);
    expect([limiter.take('k', 1), limiter.take('k', 1)]).toEqual([{ action: 'accept' }, { action: 'accept' }]);
    expect(limiter.take('k', 1)).toEqual({ action: 'delay', delayMs: 100, report: 1 });
    expect(limiter.take('k', 1)).toEqual({ action: 'delay', delayMs: 200 });
    time.advance(200); // both due now: the bucket is back at zero
    expect(limiter.take('k', 1)).toEqual({ action: 'delay', delayMs: 100 });
  });

  it('reports at most once per 10 s and disconnects a client that keeps flooding', () => {
    const time = clock();
    const limiter = new RateLimiter({ messagesPerSecond: 1, burst: 1, disconnectAfter: 50 }, time.now);
    expect(limiter.take('k', 0).action).toBe('accept');
    expect(limiter.take('k', 0)).toEqual({ action: 'drop', report: 1 });
    const drops = Array.from({ length: 47 }, () => limiter.take('k', 0));
    expect(drops.every((v) => v.action === 'drop' && v.report === undefined)).toBe(true);
    expect(limiter.take('k', 0)).toEqual({ action: 'drop' });
    expect(limiter.take('k', 0)).toEqual({ action: 'disconnect', over: 50 });
    // QoS 1: disconnected once that many would be waiting.
    const qos1 = new RateLimiter({ messagesPerSecond: 1, burst: 1, disconnectAfter: 5 }, () => 0);
    expect(Array.from({ length: 6 }, () => qos1.take('k', 1).action)).toEqual(['accept', 'delay', 'delay', 'delay', 'delay', 'disconnect']);
  });

  it('forgets only buckets that have refilled and calmed down', () => {
    const time = clock();
    const limiter = new RateLimiter({ messagesPerSecond: 10, burst: 10, disconnectAfter: 1000 }, time.now);
    for (let i = 0; i < 20; i++) limiter.take('flooder', 0);
    limiter.take('quiet', 0);
    time.advance(500);
    limiter.sweep();
    expect(limiter.size).toBe(2);
    time.advance(10_000);
    limiter.sweep();
    expect(limiter.size).toBe(0);
  });

  it('uses a per-device limit when one is given', () => {
    const limiter = new RateLimiter({ messagesPerSecond: 1, burst: 1, disconnectAfter: 1000 }, () => 0);
    const accepted = Array.from({ length: 600 }, () => limiter.take('user:bridge', 0, { messagesPerSecond: 100, burst: 500 }).action);
    expect(accepted.filter((v) => v === 'accept')).toHaveLength(500);
  });

  it('throttles log lines per key', () => {
    let now = 0;
    const throttle = new LogThrottle(10_000, () => now);
    expect([throttle.allow('a'), throttle.allow('a'), throttle.allow('b')]).toEqual([true, false, true]);
    now = 10_000;
    expect(throttle.allow('a')).toBe(true);
  });
});

describe('packet size tracker', () => {
  /** An MQTT fixed header: type byte and Remaining Length (MQTT 3.1.1 §2.2.3). */
  const header = (type: number, remaining: number): Buffer => {
    const bytes = [type];
    do {
      let byte = remaining % 128;
      remaining = Math.floor(remaining / 128);
      if (remaining > 0) byte |= 0x80;
      bytes.push(byte);
    } while (remaining > 0);
    return Buffer.from(bytes);
  };
  const packet = (remaining: number) => Buffer.concat([header(0x30, remaining), Buffer.alloc(remaining, 0x61)]);

  it('follows packets across and within chunks and stays quiet while they are small enough', () => {
    const tracker = new PacketSizeTracker(1024);
    const stream = Buffer.concat([packet(10), packet(1021), packet(0), packet(200), Buffer.from([0xc0, 0x00])]);
    for (let i = 0; i < stream.length; i += 7) expect(tracker.feed(stream.subarray(i, i + 7))).toBeNull();
  });

  it('reports an oversize packet from its header alone, before the body arrives', () => {
    const tracker = new PacketSizeTracker(16_384);
    expect(tracker.feed(packet(100))).toBeNull();
    const big = header(0x30, 16_382); // 1 + 2 header bytes + 16 382 = 16 385
    expect(tracker.feed(big.subarray(0, 2))).toBeNull();
    expect(tracker.feed(big.subarray(2))).toBe(16_385);
  });

  it('treats a Remaining Length longer than four bytes as malformed', () => {
    expect(new PacketSizeTracker(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('access rules', () => {
  const site = {
    siteId: 'demo',
    acceptClock: true,
    demoFilters: ['nattevakt/v1/demo/sensors/#', 'nattevakt/v1/demo/clock', 'zigbee2mqtt/#'],
  };
  const sensor: MqttIdentity = { role: 'sensor', username: 'door-7', sensorIds: new Set(['door-7']) };
  const bridge: MqttIdentity = { role: 'bridge', username: 'z2m', prefix: 'zigbee2mqtt' };
  const consumer: MqttIdentity = { role: 'consumer', username: 'panel' };
  const simulator: MqttIdentity = { role: 'simulator', username: 'sim' };
  const anonymous: MqttIdentity = { role: 'anonymous' };

  it.each([
    [sensor, 'nattevakt/v1/demo/sensors/door-7/state', true],
    [sensor, 'nattevakt/v1/demo/sensors/door-7/availability', true],
    [sensor, 'nattevakt/v1/demo/sensors/door-7/other', false],
    [sensor, 'nattevakt/v1/demo/sensors/door-8/state', false],
    [sensor, 'nattevakt/v1/other/sensors/door-7/state', false],
    [sensor, 'nattevakt/v1/demo/clock', false],
    [sensor, 'nattevakt/v1/demo/alarms', false],
    [bridge, 'zigbee2mqtt/ward/door', true],
    [bridge, 'zigbee2mqtt', true],
    [bridge, 'zigbee2mqttx/door', false],
    [bridge, 'nattevakt/v1/demo/sensors/door-7/state', false],
    [consumer, 'nattevakt/v1/demo/sensors/door-7/state', false],
    [simulator, 'nattevakt/v1/demo/sensors/door-8/state', true],
    [simulator, 'nattevakt/v1/demo/clock', true],
    [simulator, 'nattevakt/v1/demo/alarms', false],
    [simulator, 'nattevakt/v1/demo/alarms/x', false],
    [simulator, '$SYS/anything', false],
    [anonymous, 'nattevakt/v1/demo/sensors/door-7/state', true],
    [anonymous, 'zigbee2mqtt/ward/door', true],
    [anonymous, 'nattevakt/v1/demo/alarms', false],
    [anonymous, 'other/topic', false],
  ] as const)('%o publishing %s: %s', (identity, topic, allowed) => {
    expect(mayPublish(identity, topic, site)).toBe(allowed);
  });

  it('accepts the clock only from a simulator (or in demo mode) and only with the simulated clock', () => {
    const systemClock = { ...site, acceptClock: false };
    expect(mayPublish(simulator, 'nattevakt/v1/demo/clock', systemClock)).toBe(false);
    expect(mayPublish(anonymous, 'nattevakt/v1/demo/clock', systemClock)).toBe(false);
    expect(mayPublish(anonymous, 'nattevakt/v1/demo/clock', site)).toBe(true);
  });

  it.each([
    [sensor, 'nattevakt/v1/demo/sensors/door-7/#', true],
    [sensor, 'nattevakt/v1/demo/sensors/door-7/set', true],
    [sensor, 'nattevakt/v1/demo/sensors/+/#', false],
    [sensor, 'nattevakt/v1/demo/sensors/door-8/#', false],
    [sensor, '#', false],
    [bridge, 'zigbee2mqtt/#', true],
    [bridge, 'zigbee2mqtt/+/set', true],
    [bridge, '+/#', false],
    [consumer, 'nattevakt/v1/demo/alarms', true],
    [consumer, 'nattevakt/v1/demo/alarms/#', true],
    [consumer, 'nattevakt/v1/demo/sensors/#', false],
    [consumer, 'nattevakt/v1/demo/#', false],
    [consumer, '#', false],
    [consumer, '$SYS/#', false],
    [anonymous, 'nattevakt/v1/demo/#', true],
    [anonymous, 'zigbee2mqtt/#', true],
    [anonymous, '#', false],
  ] as const)('%o subscribing %s: %s', (identity, filter, allowed) => {
    expect(maySubscribe(identity, filter, site)).toBe(allowed);
  });

  it('matches topic filters as MQTT does', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
    expect(topicMatches('a/b/c', 'a/b')).toBe(false);
  });
});

describe('credentials', () => {
  it('hashes with argon2id and checks each role, refusing wrong passwords and unknown names', async () => {
    const passwordHash = await hashPassword('correct horse battery staple');
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verify(passwordHash, 'correct horse battery staple')).toBe(true);
    const credentials = new Credentials({
      devices: [
        { username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] },
        { username: 'z2m', passwordHash, role: 'bridge', prefix: 'zigbee2mqtt' },
      ],
      users: [{ username: 'old', password: 'plain-password' }],
    });
    expect(credentials.anonymous).toBe(false);
    expect(await credentials.check('door-7', Buffer.from('correct horse battery staple'))).toMatchObject({
      role: 'sensor',
      username: 'door-7',
    });
    expect(await credentials.check('z2m', Buffer.from('correct horse battery staple'))).toEqual({
      role: 'bridge',
      username: 'z2m',
      prefix: 'zigbee2mqtt',
      rateLimit: undefined,
    });
    expect(await credentials.check('door-7', Buffer.from('wrong'))).toBeNull();
    expect(await credentials.check('nobody', Buffer.from('correct horse battery staple'))).toBeNull();
    expect(await credentials.check('old', Buffer.from('plain-password'))).toEqual({ role: 'legacy', username: 'old' });
    expect(await credentials.check('old', Buffer.from('plain-passwore'))).toBeNull();
  });

  it('refuses checks beyond its queue instead of piling up argon2 work', async () => {
    const passwordHash = await hashPassword('correct horse battery staple');
    const credentials = new Credentials(
      { devices: [{ username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] }], users: [] },
      { concurrency: 1, queue: 2 },
    );
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => credentials.check('door-7', Buffer.from('wrong'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(2);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(CredentialCheckOverload);
    // The queue drains: a later check runs normally.
    expect(await credentials.check('door-7', Buffer.from('correct horse battery staple'))).not.toBeNull();
  });
});

describe('mqtt configuration', () => {
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$q3wq9dYxL+2Y6YQm6cS3P5f5cS3P5f5cS3P5f5cS3P4';
  const parse = (mqtt: unknown) => parseGatewayConfig({ version: 1, siteId: 'demo', mqtt });

  it("accepts the demo's and the tests' configurations with every default filled", () => {
    expect(parse({ host: '127.0.0.1', port: 1884, users: [] }).mqtt).toEqual({
      mode: 'embedded',
      host: '127.0.0.1',
      port: 1884,
      devices: [],
      users: [],
      limits: MQTT_LIMIT_DEFAULTS,
    });
    expect(parse({ port: 0 }).mqtt.limits).toEqual(MQTT_LIMIT_DEFAULTS);
    expect(parseGatewayConfig({ version: 1, siteId: 'demo' }).mqtt.port).toBe(1883);
    expect(parse({ port: 0, limits: { burst: 500 } }).mqtt.limits).toEqual({ ...MQTT_LIMIT_DEFAULTS, burst: 500 });
  });

  it('accepts devices of every role, TLS only, and external mode', () => {
    const config = parse({
      port: null,
      tls: { port: 8883, certFile: 'cert.pem', keyFile: 'key.pem' },
      devices: [
        { username: 'door-7', passwordHash: hash, role: 'sensor', sensorIds: ['door-7'] },
        { username: 'z2m', passwordHash: hash, role: 'bridge', prefix: 'zigbee2mqtt', rateLimit: { messagesPerSecond: 200, burst: 1000 } },
        { username: 'panel', passwordHash: hash, role: 'consumer' },
        { username: 'sim', passwordHash: hash, role: 'simulator' },
      ],
    });
    expect(config.mqtt.devices.map((d) => d.role)).toEqual(['sensor', 'bridge', 'consumer', 'simulator']);
    expect(parse({ mode: 'external', external: { url: 'mqtt://127.0.0.1:1883' } }).mqtt.mode).toBe('external');
  });

  it.each([
    [{ mode: 'external' }, /mqtt\/external: required/],
    [{ port: null }, /mqtt\/port: null disables plain MQTT/],
    [{ devices: [{ username: 'x', passwordHash: 'secret', role: 'consumer' }] }, /passwordHash/],
    [{ devices: [{ username: 'x', passwordHash: hash, role: 'sensor' }] }, /sensorIds/],
    [
      { devices: [{ username: 'x', passwordHash: hash, role: 'admin' }] },
      /role: Expected one of "sensor", "bridge", "consumer", "simulator"/,
    ],
    [{ devices: [{ username: 'x', passwordHash: hash, role: 'bridge', prefix: 'nattevakt/v1' }] }, /prefix: "nattevakt\/v1" would reach/],
    [{ devices: [{ username: 'x', passwordHash: hash, role: 'bridge', prefix: 'z2m/#' }] }, /prefix/],
    [
      { devices: [{ username: 'x', passwordHash: hash, role: 'consumer' }], users: [{ username: 'x', password: '12345678' }] },
      /users\/0\/username: "x" is already used by \/mqtt\/devices\/0/,
    ],
    [{ port: 0, limits: { maxPacketBytes: 10 } }, /maxPacketBytes/],
  ])('refuses %j', (mqtt, message) => {
    expect(() => parse(mqtt)).toThrow(message);
  });
});

describe('external transport', () => {
  it('shows its endpoint without credentials', () => {
    expect(redactUrl('mqtt://gateway:s3cret@broker.local:1883')).toBe('mqtt://broker.local:1883');
    expect(redactUrl('mqtts://broker.local:8883')).toBe('mqtts://broker.local:8883');
  });
});
