import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemClock } from '../clock.js';
import { EventBus } from '../event-bus.js';
import { RuleRuntime } from './rule-runtime.js';

const site: SiteConfig = {
  version: 1,
  site: { id: 'demo', name: 'Demo', timezone: 'Europe/Oslo' },
  rooms: [
    { id: 'r1', name: 'Rom 1' },
    { id: 'r2', name: 'Rom 2' },
  ],
  residents: ['r1', 'r2'].map((room, i) => ({
    id: `p${i + 1}`,
    name: `P${i + 1}`,
    roomId: room,
    plan: {
      armed: true,
      nightWindow: { start: '22:00', end: '07:00' },
      rules: {
        doorOpenAtNight: { enabled: true, priority: 'high' as const },
        outOfBedTooLong: { enabled: true, minutes: i === 0 ? 20 : 5, priority: 'medium' as const },
      },
    },
  })),
  sensors: [
    { id: 'bed-1', kind: 'bed', roomId: 'r1', residentId: 'p1' },
    { id: 'bed-2', kind: 'bed', roomId: 'r2', residentId: 'p2' },
  ],
};

let n = 0;
const bed = (sensorId: string, occupied: boolean): SensorEvent => ({
  id: `e${++n}`,
  siteId: 'demo',
  sensorId,
  sensorKind: 'bed',
  roomId: sensorId === 'bed-1' ? 'r1' : 'r2',
  time: new Date().toISOString(),
  online: true,
  format: 'native',
  raw: '{}',
  occupied,
});

describe('RuleRuntime on the system clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-25T23:00:00+01:00') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wakes at each deadline, also when a later event brings an earlier one, and not before', async () => {
    const bus = new EventBus();
    const raised: { rule: string; residentId?: string; at: number }[] = [];
    bus.on('alarmRaised', {}, (alarm: AlarmDecision) =>
      raised.push({ rule: alarm.rule, ...(alarm.residentId ? { residentId: alarm.residentId } : {}), at: Date.now() }),
    );
    const runtime = new RuleRuntime(site, new SystemClock(), bus, pino({ level: 'silent' }));
    runtime.start();
    const t0 = Date.now();
    bus.emit('sensorEvent', bed('bed-1', true));
    bus.emit('sensorEvent', bed('bed-2', true));
    bus.emit('sensorEvent', bed('bed-1', false)); // p1 out of bed: due in 20 minutes
    await vi.advanceTimersByTimeAsync(60_000);
    bus.emit('sensorEvent', bed('bed-2', false)); // p2 out of bed a minute later: due in 5, before p1
    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(raised).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(raised).toEqual([{ rule: 'out-of-bed-too-long', residentId: 'p2', at: t0 + 6 * 60_000 }]);
    // Heartbeats that move nothing do not delay p1's deadline.
    for (let i = 0; i < 10; i++) {
      bus.emit('sensorEvent', bed('bed-2', false));
      await vi.advanceTimersByTimeAsync(60_000);
    }
    await vi.advanceTimersByTimeAsync(20 * 60_000 - 16 * 60_000 - 1);
    expect(raised).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(raised.at(-1)).toEqual({ rule: 'out-of-bed-too-long', residentId: 'p1', at: t0 + 20 * 60_000 });
    runtime.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
