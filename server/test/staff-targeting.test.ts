import type { EscalationAlert } from '@nattevakt/protocol/socket-events';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/auth-service.js';
import { SESSION_TTL_MS } from '../src/auth/auth-service.js';
import { decision, eventually, Harness, ManualClock, type StaffSocket, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs, PASSWORD } from './support/login.js';

describe.each(engines)('who hears what on /staff ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  async function tablet(url: string, cookie: string) {
    const socket: StaffSocket = io(`${url}/staff`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie },
    });
    h.onClose(() => socket.disconnect());
    const escalations: EscalationAlert[] = [];
    const alarmLevels: number[] = [];
    let disconnected = false;
    socket.on('escalation', (alert) => escalations.push(alert));
    socket.on('alarm', (alarm) => alarmLevels.push(alarm.escalationLevel));
    socket.on('disconnect', () => {
      disconnected = true;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, escalations, alarmLevels, disconnected: () => disconnected };
  }
  const person = async (server: Parameters<typeof loginAs>[0], username: string, role: Role) => loginAs(server, { username, role });

  it('re-alerts every nurse at level 1 and only the nurse in charge at level 2; every board still gets the alarm change', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const nurse = await tablet(url, await person(server, 'kari', 'nurse'));
    const inCharge = await tablet(url, await person(server, 'liv', 'nurse_in_charge'));
    const technician = await tablet(url, await person(server, 'tor', 'technician'));
    await (await h.gateway(url)).raise(decision('e1', { priority: 'high' }));
    await eventually('raised on both', () => nurse.alarmLevels.length === 1 && inCharge.alarmLevels.length === 1);

    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(1);
    await eventually('level 1 alert to every nurse', () => nurse.escalations.length === 1 && inCharge.escalations.length === 1);
    expect(nurse.escalations[0]).toMatchObject({ level: 1, notified: 'all-nurses', alarm: { id: 'e1', escalationLevel: 1 } });

    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(1);
    await eventually('level 2 alert to the nurse in charge', () => inCharge.escalations.length === 2);
    expect(inCharge.escalations[1]).toMatchObject({ level: 2, notified: 'nurse-in-charge', alarm: { id: 'e1', escalationLevel: 2 } });
    // The nurse's board shows the change (no hole in its sequence) but is not alerted again.
    await eventually('level 2 change on the nurse board', () => nurse.alarmLevels.includes(2));
    await sleep(100);
    expect(nurse.escalations.map((e) => e.level)).toEqual([1]);
    // A technician reads the board but is never alerted to care alarms.
    expect(technician.escalations).toEqual([]);
  });

  it('sends level 2 to every nurse when no nurse in charge is online: never to nobody', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const nurse = await tablet(url, await person(server, 'kari', 'nurse'));
    await (await h.gateway(url)).raise(decision('e2', { priority: 'high' }));
    await eventually('raised', () => nurse.alarmLevels.length === 1);
    clock.advance(60_000);
    await server.escalations.runDue();
    clock.advance(60_000);
    await server.escalations.runDue();
    await eventually('level 2 to every nurse', () => nurse.escalations.find((e) => e.level === 2));
    expect(nurse.escalations.map((e) => `${e.level}:${e.notified}`)).toEqual(['1:all-nurses', '2:all-nurses']);
  });

  it('disconnects a live tablet when its session expires, and when its user is disabled', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const earlyCookie = await person(server, 'kari', 'nurse');
    const early = await tablet(url, earlyCookie);
    clock.advance(SESSION_TTL_MS / 2);
    const later = await tablet(url, await person(server, 'liv', 'nurse'));

    clock.advance(SESSION_TTL_MS / 2);
    expect(await server.sessionExpiry.runDue()).toBe(1);
    await eventually('expired session disconnected', () => early.disconnected());
    await sleep(100);
    expect(later.disconnected()).toBe(false);
    // The expired session cannot connect again either.
    await expect(tablet(url, earlyCookie)).rejects.toThrow('login required');

    const liv = await server.auth.upsertUser({ username: 'liv', displayName: 'liv', role: 'nurse', password: PASSWORD, sites: ['demo'] });
    expect(await server.auth.disableUser(liv.id)).toBe(true);
    await eventually('disabled user disconnected', () => later.disconnected());
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'x-nattevakt': '1' },
      payload: { username: 'liv', password: PASSWORD },
    });
    expect(login.statusCode).toBe(401);
    expect(await server.auth.enableUser(liv.id)).toBe(true);
    expect((await person(server, 'liv', 'nurse')).startsWith('nattevakt_session=')).toBe(true);
  });
});
