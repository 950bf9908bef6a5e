import type { Alarm } from '@nattevakt/protocol/alarm';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, login, oslo, type Stack, startStack } from './support/stack.js';

type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;

describe('a door opened at night, end to end', () => {
  let stack: Stack | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await stack?.stop();
    stack = undefined;
  });

  /** A nurse's tablet, logged in as `name`. */
  const cookies = new Map<string, string>();
  /** GET as the nurse logged in first (Kari). */
  const getJson = async (url: string) => (await fetch(url, { headers: { cookie: cookies.get('Kari') ?? '' } })).json();

  async function connectStaff(stack: Stack, name = 'Kari'): Promise<{ socket: StaffSocket; alarms: Alarm[]; heard: string[] }> {
    const cookie = await login(stack, { username: name.toLowerCase(), displayName: name });
    cookies.set(name, cookie);
    const socket: StaffSocket = io(`${stack.httpUrl}/staff`, {
      transports: ['websocket'],
      // Its own connection: the in-process gateway's Manager for this host carries no cookie.
      forceNew: true,
      extraHeaders: { cookie },
    });
    const alarms: Alarm[] = [];
    /** What the tablet heard, in order: `provisional <id>` and `<status> <id>`. */
    const heard: string[] = [];
    socket.on('alarm', (alarm) => {
      alarms.push(alarm);
      heard.push(`${alarm.status} ${alarm.id}`);
    });
    socket.on('provisionalAlarm', (decision) => heard.push(`provisional ${decision.id}`));
    cleanups.push(() => void socket.disconnect());
    await eventually('staff socket connected', () => socket.connected);
    return { socket, alarms, heard };
  }

  async function connectSensor(url: string) {
    const client = await mqtt.connectAsync(url, { clientId: 'door-7', protocolVersion: 4 });
    cleanups.push(() => client.endAsync());
    return client;
  }

  it('raises an alarm at 03:10 that a nurse acknowledges and resolves, seen by every tablet', async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00') });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
    const nurse = await connectStaff(stack);
    const colleague = await connectStaff(stack, 'Ola');
    const sensor = await connectSensor(stack.mqttUrl);

    await sensor.publishAsync(topics.sensorState('test', 'door-7'), JSON.stringify({ kind: 'door', open: true, battery: 90 }), { qos: 1 });

    const alarm = await eventually('alarm on the staff socket', () => nurse.alarms.find((a) => a.status === 'active'));
    expect(alarm).toMatchObject({
      rule: 'door-open-at-night',
      roomId: 'room-7',
      residentId: 'res-7',
      priority: 'high',
      residentName: 'Beboer 7',
      roomName: 'Rom 7',
    });
    expect(Date.parse(alarm.raisedAt)).toBe(oslo('2026-11-25T03:10:00'));
    // Told first the moment the gateway decided (provisional, before anything was stored), then stored.
    expect(nurse.heard).toEqual([`provisional ${alarm.id}`, `active ${alarm.id}`]);
    expect(colleague.heard).toEqual([`provisional ${alarm.id}`, `active ${alarm.id}`]);

    const acked = await nurse.socket.emitWithAck('acknowledge', { alarmId: alarm.id, by: 'Kari' });
    expect(acked).toMatchObject({ ok: true, alarm: { status: 'acknowledged', acknowledgedBy: 'Kari' } });
    await eventually('the colleague sees who is going', () =>
      colleague.alarms.find((a) => a.id === alarm.id && a.status === 'acknowledged' && a.acknowledgedBy === 'Kari'),
    );

    // A second nurse cannot take over an alarm someone is already going to.
    expect(await colleague.socket.emitWithAck('acknowledge', { alarmId: alarm.id, by: 'Ola' })).toEqual({
      ok: false,
      error: 'already-acknowledged:Kari',
    });

    // The door closes: the condition clears, but the alarm stays open until a nurse resolves it.
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), JSON.stringify({ kind: 'door', open: false }), { qos: 1 });
    const cleared = await eventually('condition cleared', () =>
      nurse.alarms.find((a) => a.id === alarm.id && a.conditionClearedAt !== null),
    );
    expect(cleared.status).toBe('acknowledged');

    const resolved = await nurse.socket.emitWithAck('resolve', { alarmId: alarm.id, by: 'Kari', outcome: 'assisted' });
    expect(resolved).toMatchObject({ ok: true, alarm: { status: 'resolved', outcome: 'assisted', resolvedBy: 'Kari' } });
    await eventually('the colleague sees it resolved', () => colleague.alarms.find((a) => a.id === alarm.id && a.status === 'resolved'));

    const open = (await getJson(`${stack.httpUrl}/api/alarms/open`)) as { alarms: Alarm[] };
    expect(open.alarms).toEqual([]);
    const history = (await getJson(`${stack.httpUrl}/api/alarms/${alarm.id}`)) as {
      audit: { action: string; actor: string }[];
    };
    expect(history.audit.map((a) => a.action)).toEqual(['raised', 'acknowledged', 'condition-cleared', 'resolved']);
    // Sequence numbers grow with every change, so a tablet can resync what it missed.
    const seqs = nurse.alarms.filter((a) => a.id === alarm.id).map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('raises nothing when the same door opens at 14:00', async () => {
    stack = await startStack({ start: oslo('2026-11-25T14:00:00') });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
    const nurse = await connectStaff(stack);
    const sensor = await connectSensor(stack.mqttUrl);
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), JSON.stringify({ kind: 'door', open: true }), { qos: 1 });

    // The event itself reaches the server (the board shows the door open) …
    const room = await eventually('room state', async () => {
      const ward = (await getJson(`${stack?.httpUrl}/api/ward`)) as {
        rooms: { roomId: string; door: { open: boolean | null } }[];
      };
      return ward.rooms.find((r) => r.roomId === 'room-7' && r.door.open === true);
    });
    expect(room).toBeDefined();
    // … but no care alarm was decided and none arrived (technical alarms about silent sensors may).
    const decided = (await stack.gateway.metrics.alarms.get()).values.filter((v) => v.labels.rule === 'door-open-at-night');
    expect(decided).toEqual([]);
    expect(nurse.alarms.filter((a) => a.priority !== 'technical')).toEqual([]);
  });

  it('raises out-of-bed-too-long when the simulated clock passes the threshold', async () => {
    stack = await startStack({ start: oslo('2026-11-25T02:00:00') });
    await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
    const nurse = await connectStaff(stack);
    const sensor = await connectSensor(stack.mqttUrl);
    await sensor.publishAsync(topics.sensorState('test', 'bed-12'), JSON.stringify({ kind: 'bed', occupied: false }), { qos: 1 });
    await sensor.publishAsync(
      topics.clock('test'),
      JSON.stringify({ time: new Date(oslo('2026-11-25T02:19:00')).toISOString(), speed: 60 }),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 200));
    // By 02:19 the door sensors have been silent past their 15 minutes: technical alarms, no care alarm yet.
    expect(nurse.alarms.filter((a) => a.priority !== 'technical')).toEqual([]);
    expect(nurse.alarms.map((a) => a.rule)).toContain('sensor-silent');
    await sensor.publishAsync(
      topics.clock('test'),
      JSON.stringify({ time: new Date(oslo('2026-11-25T02:20:00')).toISOString(), speed: 60 }),
      { qos: 1 },
    );
    const alarm = await eventually('out-of-bed alarm', () => nurse.alarms.find((a) => a.rule === 'out-of-bed-too-long'));
    expect(alarm).toMatchObject({ roomId: 'room-12', priority: 'medium', evidence: { thresholdMinutes: 20 } });
  });
});
