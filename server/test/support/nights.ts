/** Two recorded nights on a small site in Europe/Oslo, stored through the real services, for the report and relative suites. */
import type { AlarmDecision, Outcome } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { Clock } from '../../src/alarms/escalation.js';
import { type AppOptions, buildApp, type NattevaktServer } from '../../src/app.js';
import type { TestEngine } from './databases.js';

/** Epoch ms of a wall-clock time in Oslo (UTC+1 in November). */
export const oslo = (date: string, time: string) => Date.parse(`${date}T${time}+01:00`);

export class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export const site = (id = 'demo'): SiteConfig => ({
  version: 1,
  site: { id, name: `Site ${id}`, timezone: 'Europe/Oslo' },
  rooms: [
    { id: 'room-1', name: 'Rom 1' },
    { id: 'room-2', name: 'Rom 2' },
  ],
  residents: [
    {
      id: 'res-1',
      name: 'Astrid H.',
      roomId: 'room-1',
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
        },
      },
    },
    {
      id: 'res-2',
      name: 'Bjarne K.',
      roomId: 'room-2',
      plan: {
        armed: true,
        nightWindow: { start: '23:00', end: '06:00' },
        rules: {
          doorOpenAtNight: { enabled: false, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 30, priority: 'medium' },
        },
      },
    },
  ],
  sensors: [
    { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
    { id: 'door-1', kind: 'door', roomId: 'room-1' },
    { id: 'bed-2', kind: 'bed', roomId: 'room-2', residentId: 'res-2' },
  ],
});

let n = 0;
const bed = (sensorId: string, residentId: string, time: number, occupied: boolean): SensorEvent => ({
  id: `evt-${++n}`,
  siteId: 'demo',
  sensorId,
  sensorKind: 'bed',
  roomId: sensorId === 'bed-1' ? 'room-1' : 'room-2',
  residentId,
  time: new Date(time).toISOString(),
  occupied,
  online: true,
  format: 'native',
  raw: JSON.stringify({ occupied }),
});
const door = (time: number, open: boolean): SensorEvent => ({
  id: `evt-${++n}`,
  siteId: 'demo',
  sensorId: 'door-1',
  sensorKind: 'door',
  roomId: 'room-1',
  time: new Date(time).toISOString(),
  open,
  format: 'native',
  raw: JSON.stringify({ open }),
});

/** The night of 24 November for Astrid (res-1): in bed from 21:41, up once 03:12–03:18, the door opened at 03:13, up for the day at 07:10. */
export const NIGHT_24 = (): SensorEvent[] => [
  bed('bed-1', 'res-1', oslo('2026-11-24', '18:00'), false),
  bed('bed-1', 'res-1', oslo('2026-11-24', '21:41'), true),
  bed('bed-1', 'res-1', oslo('2026-11-25', '01:00'), false),
  bed('bed-1', 'res-1', oslo('2026-11-25', '01:00') + 10_000, true),
  bed('bed-1', 'res-1', oslo('2026-11-25', '03:12'), false),
  door(oslo('2026-11-25', '03:13'), true),
  door(oslo('2026-11-25', '03:14'), false),
  bed('bed-1', 'res-1', oslo('2026-11-25', '03:18'), true),
  bed('bed-1', 'res-1', oslo('2026-11-25', '07:10'), false),
  // Bjarne slept through.
  bed('bed-2', 'res-2', oslo('2026-11-24', '22:30'), true),
  bed('bed-2', 'res-2', oslo('2026-11-25', '06:30'), false),
];

/** The nurse who answered every alarm; her name must never reach a relative. */
export const NURSE_NAME = 'Kari Nordmann';

async function alarm(
  server: NattevaktServer,
  clock: ManualClock,
  id: string,
  rule: AlarmDecision['rule'],
  raised: number,
  ackAfterMs: number,
  outcome: Outcome,
): Promise<void> {
  clock.set(raised + 1000);
  await server.alarms.raise(
    {
      id,
      siteId: 'demo',
      residentId: 'res-1',
      roomId: 'room-1',
      sensorId: rule.startsWith('door') ? 'door-1' : 'bed-1',
      rule,
      priority: rule.startsWith('door') ? 'high' : 'medium',
      raisedAt: new Date(raised).toISOString(),
      decidedAt: new Date(raised + 100).toISOString(),
      evidence: { eventIds: [`${id}-e`], since: new Date(raised - 60_000).toISOString() },
    },
    'demo',
  );
  clock.set(raised + 1500);
  await server.delivery.delivered({ alarmId: id, seq: 1, device: 'tablet-1' });
  clock.set(raised + 1000 + ackAfterMs);
  await server.alarms.acknowledge({ alarmId: id, by: NURSE_NAME });
  clock.set(raised + 1000 + ackAfterMs + 5 * 60_000);
  await server.alarms.resolve({ alarmId: id, by: NURSE_NAME, outcome, ...(outcome === 'other' ? { note: 'x' } : {}) });
}

/**
 * A server on `engine` with sites `demo` and `other`, the night of the 24th's events, and three
 * alarms for Astrid: two in the night of the 23rd (a false alarm answered in 60 s, one where she
 * was helped, answered in 120 s) and one in the night of the 24th (the door at 03:13, answered in
 * 40 s, back by herself). The clock ends at 09:00 on the 25th.
 */
export async function recordedNights(engine: TestEngine, options: Partial<AppOptions> = {}) {
  const clock = new ManualClock(oslo('2026-11-23', '12:00'));
  const server = await buildApp({ ...(await engine.store()), clock, retention: { intervalMs: 0 }, ...options });
  await server.sites.save(site('demo'));
  await server.sites.save(site('other'));
  await server.timeSeries.write(NIGHT_24());
  await alarm(server, clock, 'alarm-23a', 'door-open-at-night', oslo('2026-11-24', '02:00'), 60_000, 'false-alarm');
  await alarm(server, clock, 'alarm-23b', 'out-of-bed-too-long', oslo('2026-11-24', '04:00'), 120_000, 'assisted');
  await alarm(server, clock, 'alarm-24', 'door-open-at-night', oslo('2026-11-25', '03:13') + 1000, 40_000, 'back-by-themselves');
  clock.set(oslo('2026-11-25', '09:00'));
  return { server, clock };
}
