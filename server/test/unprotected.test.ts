import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { UnprotectedView } from '@nattevakt/protocol/supervision';
import { afterEach, describe, expect, it } from 'vitest';
import { decision, Harness, ManualClock, T0 } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';

const event = (id: string, sensor: 'bed-1' | 'door-1', fields: Partial<SensorEvent>, at = T0 - 60_000): SensorEvent => ({
  id,
  siteId: 'demo',
  sensorId: sensor,
  sensorKind: sensor === 'bed-1' ? 'bed' : 'door',
  roomId: 'room-1',
  ...(sensor === 'bed-1' ? { residentId: 'res-1', occupied: true } : { open: false }),
  time: new Date(at).toISOString(),
  online: true,
  format: 'native',
  raw: '{}',
  ...fields,
});

describe.each(engines)('the unprotected-tonight list ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  it('lists every resident whose protection is weakened, and why, worst first', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const cookie = await loginAs(server, { username: 'kari', role: 'nurse' });
    const view = async () => {
      const answer = await server.app.inject({ method: 'GET', url: '/api/sites/demo/unprotected', headers: { cookie } });
      expect(answer.statusCode).toBe(200);
      return answer.json() as UnprotectedView;
    };
    const reasonsOf = async (residentId: string) => (await view()).residents.find((r) => r.residentId === residentId)?.reasons ?? [];

    // Armed, but neither sensor has ever reported.
    expect(await view()).toMatchObject({
      siteId: 'demo',
      residentCount: 1,
      armedCount: 1,
      today: '2026-11-25',
      generatedAt: new Date(T0).toISOString(),
    });
    expect(await reasonsOf('res-1')).toEqual([
      { code: 'sensor-never-seen', severity: 'unprotected', sensorId: 'bed-1', sensorKind: 'bed' },
      { code: 'sensor-never-seen', severity: 'unprotected', sensorId: 'door-1', sensorKind: 'door' },
    ]);

    // The bed mat reports with a low battery; the door sensor says it is offline.
    const gateway = await h.gateway(url);
    const ack = await gateway.socket.emitWithAck('batch', [
      { type: 'event', event: event('e1', 'bed-1', { battery: 12 }) },
      { type: 'event', event: event('e2', 'door-1', { online: false }) },
    ]);
    expect(ack).toMatchObject({ ok: true, accepted: 2 });
    expect(await reasonsOf('res-1')).toEqual([
      { code: 'low-battery', severity: 'weakened', sensorId: 'bed-1', sensorKind: 'bed', battery: 12 },
      {
        code: 'sensor-offline',
        severity: 'unprotected',
        sensorId: 'door-1',
        sensorKind: 'door',
        since: new Date(T0 - 60_000).toISOString(),
      },
    ]);

    // A fall-risk resident's bed mat silent for more than 60 minutes; the gateway's tamper alarm on the door.
    clock.advance(60 * 60_000);
    await gateway.raise(decision('t1', { rule: 'tamper', priority: 'technical', sensorId: 'door-1' }));
    const reasons = await reasonsOf('res-1');
    expect(reasons).toContainEqual({
      code: 'sensor-silent',
      severity: 'unprotected',
      sensorId: 'bed-1',
      sensorKind: 'bed',
      since: new Date(T0 - 60_000).toISOString(),
      minutes: 60,
    });
    expect(reasons).toContainEqual(
      expect.objectContaining({ code: 'technical-alarm', severity: 'weakened', sensorId: 'door-1', alarmId: 't1', rule: 'tamper' }),
    );

    // A new resident with a bed rule, no sensor and no legal basis; a paused plan for the first.
    await server.editor.createRoom('demo', { id: 'room-0', name: 'Rom 0' }, { id: 'a', name: 'Admin' });
    await server.editor.createResident(
      'demo',
      {
        id: 'res-0',
        name: 'Berit',
        roomId: 'room-0',
        plan: {
          nightWindow: { start: '22:00', end: '07:00' },
          rules: {
            doorOpenAtNight: { enabled: false, priority: 'high' },
            outOfBedTooLong: { enabled: false, minutes: 20, priority: 'low' },
            bedExit: { enabled: true, priority: 'high' },
          },
        },
      },
      { id: 'a', name: 'Admin' },
    );
    await server.supervision.pause(
      'demo',
      'res-1',
      { reason: 'på sykehus', until: new Date(clock.now() + 86_400_000).toISOString() },
      { id: 'a', name: 'Admin' },
    );
    const all = await view();
    expect(all).toMatchObject({ residentCount: 2, armedCount: 0 });
    expect(all.residents.map((r) => [r.residentId, r.protection, r.armed, r.planState])).toEqual([
      ['res-0', 'none', false, 'active'],
      ['res-1', 'none', false, 'paused'],
    ]);
    expect(all.residents[0]?.reasons).toEqual([
      { code: 'no-legal-basis', severity: 'unprotected' },
      { code: 'sensor-missing', severity: 'unprotected', sensorKind: 'bed' },
    ]);
    expect(all.residents[1]?.reasons[0]).toEqual({
      code: 'plan-paused',
      severity: 'unprotected',
      reason: 'på sykehus',
      since: new Date(clock.now()).toISOString(),
      until: new Date(clock.now() + 86_400_000).toISOString(),
    });

    // Fixed: consent, resume, fresh reports from both sensors, the tamper alarm resolved.
    await server.supervision.resume('demo', 'res-1', {}, { id: 'a', name: 'Admin' });
    await gateway.socket.emitWithAck('batch', [
      { type: 'event', event: event('e3', 'bed-1', { battery: 90 }, clock.now()) },
      { type: 'event', event: event('e4', 'door-1', { online: true }, clock.now()) },
    ]);
    await server.alarms.resolve({ alarmId: 't1', by: 'Tor', outcome: 'false-alarm' });
    expect((await view()).residents.map((r) => r.residentId)).toEqual(['res-0']);
  });
});
