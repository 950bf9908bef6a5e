import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, LOCAL_FEED_TOKEN, login, oslo, type Stack, startStack } from './support/stack.js';

interface LocalAlarm {
  id: string;
  status: string;
  acknowledgedBy: string | null;
  conditionClearedAt: string | null;
}

describe("the gateway's own list of open alarms", () => {
  let stack: Stack | undefined;
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await stack?.stop();
    stack = undefined;
  });

  /** Nurse Kari's board on the server's `/staff`, connected. */
  async function nurseKari(on: Stack): Promise<Socket<StaffServerToClient, StaffClientToServer>> {
    const cookie = await login(on, { username: 'kari', displayName: 'Kari' });
    const staff: Socket<StaffServerToClient, StaffClientToServer> = io(`${on.httpUrl}/staff`, {
      transports: ['websocket'],
      // Its own connection: the in-process gateway's Manager for this host carries no cookie.
      forceNew: true,
      extraHeaders: { cookie },
    });
    cleanups.push(() => staff.disconnect());
    await eventually('staff connected', () => staff.connected);
    return staff;
  }

  it("tells the site's tablets where the gateway's feed is, and nobody else", async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00'), localFeedUrl: 'http://10.0.4.2:9101' });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
    const nurse = await login(stack, { username: 'kari', displayName: 'Kari' });
    const ward = async (cookie: string) => fetch(`${stack?.httpUrl}/api/ward?site=test`, { headers: { cookie } });
    const view = await eventually('feed announced', async () => {
      const body = (await (await ward(nurse)).json()) as { localFeed?: { url: string; token: string } };
      return body.localFeed;
    });
    expect(view).toEqual({ url: 'http://10.0.4.2:9101', token: LOCAL_FEED_TOKEN });
    const stranger = await login(stack, { username: 'ola', displayName: 'Ola', sites: ['elsewhere'] });
    const refused = await ward(stranger);
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(LOCAL_FEED_TOKEN);
  });

  it('follows raise, acknowledge, condition cleared and resolve, on a retained topic and on the authenticated local feed', async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00') });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);

    const feed = io(`${stack.gatewayUrl}/local`, { auth: { token: LOCAL_FEED_TOKEN }, transports: ['websocket'], forceNew: true });
    cleanups.push(() => feed.disconnect());
    let snapshot: LocalAlarm[] = [];
    feed.on('snapshot', (open: LocalAlarm[]) => {
      snapshot = open;
    });
    await eventually('feed connected', () => feed.connected);

    const intruder = io(`${stack.gatewayUrl}/local`, {
      auth: { token: 'wrong-token-wrong-token' },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    cleanups.push(() => intruder.disconnect());
    const refused = await new Promise<string>((resolve) => intruder.once('connect_error', (error) => resolve(error.message)));
    expect(refused).toBe('unauthorized');

    const sensor = await mqtt.connectAsync(stack.mqttUrl);
    cleanups.push(() => sensor.endAsync());
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    const [raised] = await eventually('alarm on the local feed', () => (snapshot.length === 1 ? snapshot : undefined));
    expect(raised).toMatchObject({ status: 'active', acknowledgedBy: null });

    // A nurse takes it on the server; the gateway's list shows who is going.
    const staff = await nurseKari(stack);
    await staff.emitWithAck('acknowledge', { alarmId: raised?.id ?? '', by: 'Kari' });
    await eventually('acknowledged on the feed', () => snapshot[0]?.acknowledgedBy === 'Kari');

    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":false}', { qos: 1 });
    await eventually('condition cleared on the feed', () => snapshot[0]?.conditionClearedAt !== null);

    // On-site systems that subscribe later still get the current list (retained).
    const consumer = await mqtt.connectAsync(stack.mqttUrl);
    cleanups.push(() => consumer.endAsync());
    const retained: LocalAlarm[][] = [];
    consumer.on('message', (_topic, payload) => retained.push(JSON.parse(payload.toString()) as LocalAlarm[]));
    await consumer.subscribeAsync(`${topics.alarms('test')}/active`, { qos: 1 });
    await eventually('retained open alarms', () => retained.at(-1)?.[0]?.acknowledgedBy === 'Kari');

    await staff.emitWithAck('resolve', { alarmId: raised?.id ?? '', by: 'Kari', outcome: 'assisted' });
    await eventually('resolved alarm leaves the feed', () => snapshot.length === 0);
    await eventually('and the retained list', () => retained.at(-1)?.length === 0);
  });

  it('on the feed every change goes at once, and the whole list, coalesced, at most once a second', async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00') });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
    const feed = io(`${stack.gatewayUrl}/local`, { auth: { token: LOCAL_FEED_TOKEN }, transports: ['websocket'], forceNew: true });
    cleanups.push(() => feed.disconnect());
    const snapshots: { at: number; open: LocalAlarm[] }[] = [];
    const changes: LocalAlarm[] = [];
    feed.on('snapshot', (open: LocalAlarm[]) => void snapshots.push({ at: Date.now(), open }));
    feed.on('alarm', (changed: LocalAlarm) => void changes.push(changed));
    await eventually('feed connected (with its first snapshot)', () => snapshots.length === 1);

    const staff = await nurseKari(stack);
    const sensor = await mqtt.connectAsync(stack.mqttUrl);
    cleanups.push(() => sensor.endAsync());
    // Raised, condition cleared, acknowledged and resolved as fast as it goes.
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    const raised = await eventually('raised on the feed', () => changes.find((c) => c.status === 'active'));
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":false}', { qos: 1 });
    await staff.emitWithAck('acknowledge', { alarmId: raised.id, by: 'Kari' });
    await staff.emitWithAck('resolve', { alarmId: raised.id, by: 'Kari', outcome: 'assisted' });
    await eventually('resolved on the feed', () => changes.some((c) => c.status === 'resolved'));
    // Each change in its order (the server's echo of a change the gateway made itself repeats it).
    const states = changes.map((c) =>
      c.status === 'resolved' ? 'resolved' : c.acknowledgedBy ? 'acknowledged' : c.conditionClearedAt ? 'cleared' : c.status,
    );
    expect(states.filter((state, i) => state !== states[i - 1])).toEqual(['active', 'cleared', 'acknowledged', 'resolved']);
    // The list catches up with the last change, never more than once a second.
    await eventually('the list is empty again', () => snapshots.at(-1)?.open.length === 0);
    const gaps = snapshots.slice(2).map((s, i) => s.at - (snapshots[i + 1]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);
    // Six changes (with the echoes) in well under a second: the connect snapshot and one or two more.
    expect(snapshots.length).toBeLessThanOrEqual(3);
  });
});
