/**
 * Hostile MQTT input against a real gateway broker with real MQTT clients, the gateway's uplink to
 * a real server: every native topic and payload (state, availability, clock) and Zigbee2MQTT's
 * (device state, availability). Each message is either taken (counted in
 * nattevakt_gateway_messages_total) or refused with a reason (nattevakt_gateway_rejected_messages_total,
 * nattevakt_gateway_mqtt_refused_total) — never both, never neither, never a crash — and after it
 * all, a valid door opening still reaches a nurse's Socket.IO client and everything stored is a
 * valid event that was taken. Authorization probes: a device publishing as another device.
 */
import type { Alarm } from '@nattevakt/protocol/alarm';
import { sensorEvent } from '@nattevakt/protocol/sensor-event';
import {
  availabilityPayload,
  MAX_NATIVE_PAYLOAD_BYTES,
  sensorStatePayload,
  simulatedClockPayload,
} from '@nattevakt/protocol/sensor-payloads';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { parseNativeTopic, topics } from '@nattevakt/protocol/topics';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, loginOverHttp, PASSWORD } from '../support/stack.js';
import {
  CONTROL,
  counter,
  DEVICE_PASSWORD,
  type FuzzStack,
  fcOptions,
  fuzzWard,
  OTHER_SITE,
  SITE,
  startFuzzStack,
  Z2M_DOOR,
} from './harness.js';

const ward = fuzzWard();
/** Every sensor but the control room's door is fair game. */
const FUZZED = ward.sensors.filter((s) => s.id !== CONTROL.sensorId);
const KNOWN = FUZZED.map((s) => s.id);
const kindOf = new Map(ward.sensors.map((s) => [s.id, s.kind]));

// ── payloads ──────────────────────────────────────────────────────────────────────────────────

const instant = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());

/** Valid native state payloads of either kind, with any optional fields. */
const validState = fc.oneof(
  fc.record(
    {
      kind: fc.constant('door'),
      open: fc.boolean(),
      time: instant,
      battery: fc.integer({ min: 0, max: 100 }),
      linkquality: fc.integer({ min: 0, max: 255 }),
      tamper: fc.boolean(),
    },
    { requiredKeys: ['kind', 'open'] },
  ),
  fc.record(
    {
      kind: fc.constant('bed'),
      occupied: fc.boolean(),
      time: instant,
      battery: fc.integer({ min: 0, max: 100 }),
      linkquality: fc.integer({ min: 0, max: 255 }),
      tamper: fc.boolean(),
    },
    { requiredKeys: ['kind', 'occupied'] },
  ),
);

/** Nested arrays or objects `depth` levels deep: a parser that recurses must not fall over. */
const deep = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** Everything a broken or hostile sensor may send, as bytes. */
const hostilePayload: fc.Arbitrary<Buffer> = fc
  .oneof(
    { arbitrary: validState.map((v) => JSON.stringify(v)), weight: 3 },
    // One field of a valid payload replaced by anything (wrong types, null, nested objects).
    {
      arbitrary: fc
        .tuple(validState, fc.constantFrom('kind', 'open', 'occupied', 'time', 'battery', 'linkquality', 'tamper', 'extra'), fc.anything())
        .map(([v, key, value]) => JSON.stringify({ ...v, [key]: value }) ?? 'null'),
      weight: 3,
    },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 2 }, // unicode, lone surrogates, NUL
    { arbitrary: deep, weight: 1 },
    // Just over and far over the adapter's 1 KiB (the broker's packet limit is 256 KiB).
    {
      arbitrary: fc
        .tuple(validState, fc.integer({ min: MAX_NATIVE_PAYLOAD_BYTES, max: 200_000 }))
        .map(([v, size]) => JSON.stringify({ ...v, pad: 'x'.repeat(size) })),
      weight: 1,
    },
    {
      arbitrary: fc.constantFrom(
        '',
        'null',
        'true',
        '"online"',
        'online',
        '{}',
        '[]',
        '{"state":"online"}',
        '{"state":"offline"}',
        '\u0000',
      ),
      weight: 2,
    },
  )
  .map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));

const bytes = fc.oneof(
  hostilePayload,
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
);

/** Sensor ids: configured, unknown but well-formed, and ill-formed (no MQTT wildcards: clients refuse those). */
const sensorId = fc.oneof(
  { arbitrary: fc.constantFrom(...KNOWN), weight: 4 },
  { arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), weight: 1 },
  {
    arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).filter((s) => !/[/+#]/.test(s) && !s.includes('\u0000')),
    weight: 1,
  },
);

/** Native messages: well-formed ones for configured sensors, and anything on any sensor topic. */
const nativeMessage: fc.Arbitrary<[string, Buffer]> = fc.oneof(
  {
    arbitrary: fc
      .constantFrom(...FUZZED)
      .chain((sensor) =>
        validState
          .map((v) => ({ ...v, kind: sensor.kind, ...(sensor.kind === 'door' ? { open: true } : { occupied: true }) }))
          .map((v) => [topics.sensorState(SITE, sensor.id), Buffer.from(JSON.stringify(v))] as [string, Buffer]),
      ),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...KNOWN), fc.constantFrom('online', 'offline'))
      .map(([id, state]) => [topics.sensorAvailability(SITE, id), Buffer.from(JSON.stringify({ state }))] as [string, Buffer]),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(sensorId, fc.constantFrom('state', 'availability'), bytes)
      .map(
        ([id, kind, payload]) =>
          [kind === 'state' ? topics.sensorState(SITE, id) : topics.sensorAvailability(SITE, id), payload] as [string, Buffer],
      ),
    weight: 6,
  },
);

// ── the oracle: the protocol's own schemas say what a gateway must take ─────────────────────────

function nativeShouldBeTaken(topic: string, payload: Buffer): boolean {
  const parsed = parseNativeTopic(topic);
  if (parsed === null || parsed.siteId !== SITE || !('sensorId' in parsed) || !kindOf.has(parsed.sensorId)) return false;
  if (payload.length > MAX_NATIVE_PAYLOAD_BYTES) return false;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return false;
  }
  if (parsed.kind === 'availability') return availabilityPayload.check(json).ok;
  const state = sensorStatePayload.check(json);
  return state.ok && state.value.kind === kindOf.get(parsed.sensorId);
}

describe('hostile MQTT input against a real gateway', () => {
  let stack: FuzzStack;
  /** What the properties generated, printed at the end: a fuzz run that only ever hits one branch proves little. */
  const tally: Record<string, number> = {};
  const count = (what: string) => {
    tally[what] = (tally[what] ?? 0) + 1;
  };
  const clients: MqttClient[] = [];
  const connect = async (username: string, password = DEVICE_PASSWORD) => {
    const client = await mqtt.connectAsync(stack.mqttUrl, {
      username,
      password,
      clientId: `${username}-${clients.length}`,
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  /** Messages taken, refused by an adapter, refused by the broker. */
  const counts = async () => ({
    taken: await counter(stack.gateway.metrics.messages),
    rejected: await counter(stack.gateway.metrics.rejected),
    refused: await counter(
      // The broker's counter lives on the gateway's registry.
      {
        get: async () =>
          (await stack.gateway.metrics.registry.getSingleMetric('nattevakt_gateway_mqtt_refused_total')?.get()) ?? { values: [] },
      },
    ),
  });
  /** The client's connection (the broker closes it on an over-size packet or a forbidden topic). */
  let sim: MqttClient;
  const simulator = async () => {
    if (!sim?.connected) sim = await connect('sim');
    return sim;
  };
  /**
   * Publishes with QoS 1 and waits for the PUBACK (the gateway handles a message before it
   * acknowledges it) or for the connection to be closed by the broker.
   */
  const publish = async (client: MqttClient, topic: string, payload: Buffer): Promise<'acked' | 'closed'> => {
    const closed = new Promise<'closed'>((r) => client.once('close', () => r('closed')));
    return Promise.race([client.publishAsync(topic, payload, { qos: 1 }).then(() => 'acked' as const), closed]);
  };

  beforeAll(async () => {
    stack = await startFuzzStack();
  });
  afterAll(async () => {
    process.stderr.write(`[fuzz mqtt] ${JSON.stringify(tally)}\n`);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await stack?.stop();
  });

  it('native state and availability: each message taken exactly when the protocol schema says so, else refused with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(nativeMessage, async ([topic, payload]) => {
        const before = await counts();
        const outcome = await publish(await simulator(), topic, payload);
        const after = await counts();
        const taken = after.taken - before.taken;
        const refused = after.rejected - before.rejected + (after.refused - before.refused);
        count(`native ${outcome} ${taken ? 'taken' : 'refused'}`);
        if (outcome === 'closed') {
          // Only a packet over the broker's size limit closes a simulator's connection, and it is counted.
          expect(after.refused - before.refused, `${topic}: connection closed without a counted refusal`).toBe(1);
          expect(taken).toBe(0);
          return;
        }
        expect({ taken, refused }, `${topic} ${payload.subarray(0, 80).toString()}`).toEqual(
          nativeShouldBeTaken(topic, payload) ? { taken: 1, refused: 0 } : { taken: 0, refused: 1 },
        );
      }),
      fcOptions(),
    );
  });

  it('the simulated clock: a bad clock message is refused and counted; a good one only ever moves the clock forward', async () => {
    // Valid times stay inside the same night, so the alarms checked at the end are still night alarms.
    const start = stack.clock.now();
    const goodClock = fc
      .tuple(fc.integer({ min: 0, max: 20 * 60_000 }), fc.double({ min: 0, max: 100_000, noNaN: true }))
      .map(([offset, speed]) => JSON.stringify({ time: new Date(start + offset).toISOString(), speed }));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          goodClock,
          bytes.map((b) => b.toString('utf8')),
        ),
        async (text) => {
          const clockBefore = stack.clock.now();
          const before = await counts();
          const outcome = await publish(await simulator(), topics.clock(SITE), Buffer.from(text, 'utf8'));
          const after = await counts();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          const valid = Buffer.byteLength(text) <= MAX_NATIVE_PAYLOAD_BYTES && simulatedClockPayload.check(json).ok;
          count(`clock ${outcome} ${valid ? 'valid' : 'invalid'}`);
          if (outcome === 'closed') return;
          expect(after.taken - before.taken).toBe(0);
          if (!valid) {
            expect(after.rejected - before.rejected, `clock ${text.slice(0, 80)}`).toBe(1);
            expect(stack.clock.now()).toBe(clockBefore);
          } else {
            const time = Date.parse((json as { time: string }).time);
            expect(stack.clock.now()).toBe(Math.max(clockBefore, time));
          }
        },
      ),
      fcOptions(),
    );
  });

  it('Zigbee2MQTT device state and availability: taken or refused with a reason, never both, never neither', async () => {
    const z2m = await connect('z2m');
    const name = fc.oneof(
      { arbitrary: fc.constant(Z2M_DOOR), weight: 4 },
      {
        arbitrary: fc
          .stringMatching(/^[a-z0-9_-]{1,12}(\/[a-z0-9_-]{1,8}){0,2}$/)
          .filter((n) => !/^bridge(\/|$)|\/(set|get)(\/|$)|\/availability$/.test(n)),
        weight: 1,
      },
    );
    const z2mState = fc.record(
      {
        contact: fc.oneof(fc.boolean(), fc.constant(null), fc.anything()),
        battery: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.anything()),
        linkquality: fc.integer({ min: -10, max: 300 }),
        voltage: fc.integer(),
        last_seen: fc.oneof(instant, fc.integer(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const z2mPayload = fc.oneof(
      z2mState.map((s) => Buffer.from(JSON.stringify(s) ?? 'null')),
      bytes,
      fc.constantFrom('online', 'offline', '{"state":"online"}', '{"state":"offline"}', '{"state":"maybe"}').map((s) => Buffer.from(s)),
    );
    await fc.assert(
      fc.asyncProperty(name, fc.boolean(), z2mPayload, async (device, availability, payload) => {
        const topic = `zigbee2mqtt/${device}${availability ? '/availability' : ''}`;
        const before = await counts();
        const outcome = await publish(z2m.connected ? z2m : await connect('z2m'), topic, payload);
        const after = await counts();
        count(`z2m ${outcome} ${after.taken > before.taken ? 'taken' : 'refused'}`);
        if (outcome === 'closed') {
          expect(after.refused - before.refused).toBe(1);
          return;
        }
        const taken = after.taken - before.taken;
        const refused = after.rejected - before.rejected;
        expect(taken + refused, `${topic} ${payload.subarray(0, 80).toString()}: taken ${taken}, refused ${refused}`).toBe(1);
        if (device !== Z2M_DOOR) expect(refused, 'an unknown device is refused').toBe(1);
      }),
      fcOptions(),
    );
  });

  it('a device cannot publish as another device, nor the bridge as a native sensor: refused, counted, and nothing of it stored', async () => {
    const refusals = () => counts().then((c) => c.refused);
    const door1 = await connect('door-1');
    const before = await refusals();
    const takenBefore = (await counts()).taken;
    expect(await publish(door1, topics.sensorState(SITE, 'door-7'), Buffer.from('{"kind":"door","open":true}'))).toBe('closed');
    const z2m = await connect('z2m');
    expect(await publish(z2m, topics.sensorState(SITE, 'door-7'), Buffer.from('{"kind":"door","open":true}'))).toBe('closed');
    const door1Again = await connect('door-1');
    expect(await publish(door1Again, topics.clock(SITE), Buffer.from(JSON.stringify({ time: new Date().toISOString(), speed: 1 })))).toBe(
      'closed',
    );
    expect(await refusals()).toBe(before + 3);
    expect((await counts()).taken).toBe(takenBefore);
    // A sensor may not read the site's alarms, nor another sensor's topics: SUBACK 0x80.
    const door1Third = await connect('door-1');
    const granted = await door1Third.subscribeAsync([topics.alarms(SITE), 'nattevakt/v1/fuzz/sensors/door-7/#', '#'], { qos: 1 }).then(
      (all) => all.map((g) => g.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted ?? Promise.reject(error),
    );
    expect(granted).toEqual([128, 128, 128]);
    // A wrong password gets no connection at all.
    await expect(mqtt.connectAsync(stack.mqttUrl, { username: 'door-1', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow();
  });

  it('a flooding sensor is throttled and cut off; another sensor in the same second still raises its alarm at a nurse, which a nurse of another site neither sees nor can act on', async () => {
    await stack.server.auth.upsertUser({ username: 'fuzz-nurse', displayName: 'Fuzz', role: 'nurse', password: PASSWORD, sites: [SITE] });
    const cookie = await loginOverHttp(stack.httpUrl, 'fuzz-nurse', PASSWORD);
    const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`${stack.httpUrl}/staff`, {
      transports: ['websocket'],
      forceNew: true,
      extraHeaders: { cookie },
    });
    const alarms: Alarm[] = [];
    let refusedWith = '';
    staff.on('connect_error', (error) => {
      refusedWith = error.message;
    });
    staff.on('alarm', (alarm) => alarms.push(alarm));
    try {
      await eventually(`the nurse connected ${refusedWith}`, () => staff.connected, 10_000).catch(() => {
        throw new Error(`the nurse could not connect: ${refusedWith}`);
      });
      const flooder = await connect('door-1');
      const control = await connect(CONTROL.sensorId);
      const refusedBefore = (await counts()).refused;
      // 1,000 garbage messages as fast as the socket takes them, QoS 0.
      for (let i = 0; i < 1000 && flooder.connected; i++)
        flooder.publish(topics.sensorState(SITE, 'door-1'), `garbage ${i} ¤ ✓ \u0000`, { qos: 0 });
      await control.publishAsync(topics.sensorState(SITE, CONTROL.sensorId), '{"kind":"door","open":false}', { qos: 1 });
      await control.publishAsync(topics.sensorState(SITE, CONTROL.sensorId), '{"kind":"door","open":true}', { qos: 1 });
      const alarm = await eventually(
        `the door alarm at the nurse (got ${JSON.stringify(alarms.map((a) => [a.rule, a.sensorId, a.status]))})`,
        () => alarms.find((a) => a.rule === 'door-open-at-night' && a.sensorId === CONTROL.sensorId && a.status === 'active'),
        10_000,
      );
      expect(alarm).toMatchObject({ roomId: CONTROL.roomId, residentId: CONTROL.residentId });

      // A nurse of another site neither sees this alarm nor can act on it.
      await stack.server.auth.upsertUser({
        username: 'other-nurse',
        displayName: 'Other',
        role: 'nurse',
        password: PASSWORD,
        sites: [OTHER_SITE],
      });
      const otherCookie = await loginOverHttp(stack.httpUrl, 'other-nurse', PASSWORD);
      const other: Socket<StaffServerToClient, StaffClientToServer> = io(`${stack.httpUrl}/staff`, {
        transports: ['websocket'],
        forceNew: true,
        extraHeaders: { cookie: otherCookie },
      });
      const seenByOther: Alarm[] = [];
      other.on('alarm', (a) => seenByOther.push(a));
      try {
        await eventually('the other nurse connected', () => other.connected, 10_000);
        for (const command of ['acknowledge', 'resolve'] as const) {
          const result = await other.emitWithAck(command, { alarmId: alarm.id, by: 'Other', outcome: 'false-alarm' } as never);
          expect(result.ok, `${command} by a nurse of another site`).toBe(false);
        }
        await control.publishAsync(topics.sensorState(SITE, CONTROL.sensorId), '{"kind":"door","open":false}', { qos: 1 });
        await eventually('the door closing reached our nurse', () => alarms.some((a) => a.id === alarm.id && a.seq > alarm.seq), 10_000);
        expect(
          seenByOther.filter((a) => a.siteId === SITE),
          'alarms of another site on her tablet',
        ).toEqual([]);
        const unchanged = alarms.filter((a) => a.id === alarm.id).at(-1);
        expect(unchanged?.status, 'the alarm after her attempts').toBe('active');
      } finally {
        other.disconnect();
      }
      await eventually('the flood counted as dropped or cut off', async () => (await counts()).refused > refusedBefore, 5_000);
      const reasons = (await stack.gateway.metrics.registry.getSingleMetric('nattevakt_gateway_mqtt_refused_total')?.get())?.values ?? [];
      expect(
        reasons
          .filter((v) => v.labels.reason === 'rate-limited' || v.labels.reason === 'flood-disconnect')
          .reduce((s, v) => s + v.value, 0),
      ).toBeGreaterThan(0);
    } finally {
      staff.disconnect();
    }
  });

  it('after it all: the outbox drains, every stored event is a valid event that was taken, none stored twice', async () => {
    const cookie = await loginOverHttp(stack.httpUrl, 'fuzz-nurse', PASSWORD);
    // Every message taken is stored, or folded as a report that changed nothing (docs/adr/0005), and counted.
    const taken = (await counts()).taken - (await counter(stack.gateway.metrics.reportsFolded));
    const read = async () => {
      const range = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=10000';
      const response = await fetch(`${stack.httpUrl}/api/sites/${SITE}/events?${range}`, { headers: { cookie } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { events: unknown[] }).events;
    };
    const events = await eventually(
      'every taken message stored (or folded)',
      async () => ((await read()).length === taken ? read() : undefined),
      20_000,
    );
    const invalid = events.filter((e) => !sensorEvent.check(e).ok);
    expect(invalid, 'stored events that do not pass the SensorEvent schema').toEqual([]);
    const ids = events.map((e) => (e as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stack.gateway.metrics.registry).toBeDefined();
  });
});
