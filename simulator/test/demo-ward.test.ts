import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import { describe, expect, it } from 'vitest';
import { demoWard, FALL_RISK_ROOMS } from '../src/demo-ward.js';

describe('demoWard', () => {
  it('builds a valid ward of 24 rooms, each with a resident, a bed mat and a door contact', () => {
    const ward = demoWard();
    expect(checkSiteConfig(ward).ok).toBe(true);
    expect(ward.site).toEqual({ id: 'demo', name: 'Solsiden sykehjem, avdeling 2', timezone: 'Europe/Oslo' });
    expect(ward.rooms).toHaveLength(24);
    expect(ward.rooms[6]).toEqual({ id: 'room-7', name: 'Rom 7' });
    expect(ward.residents.map((r) => r.id)).toContain('res-24');
    expect(ward.sensors).toContainEqual({ id: 'bed-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' });
    expect(ward.sensors).toContainEqual({ id: 'door-7', kind: 'door', roomId: 'room-7' });
  });

  it('gives residents plausible names and armed night plans, high priority for fall risk', () => {
    const ward = demoWard();
    for (const resident of ward.residents) {
      expect(resident.name).toMatch(/^\p{Lu}\p{Ll}+ \p{Lu}\.$/u);
      expect(resident.plan.armed).toBe(true);
      expect(resident.plan.nightWindow).toEqual({ start: '22:00', end: '07:00' });
      expect(resident.plan.rules.doorOpenAtNight).toEqual({ enabled: true, priority: 'high' });
      const room = Number(resident.roomId.slice('room-'.length));
      expect(resident.plan.rules.outOfBedTooLong).toEqual({
        enabled: true,
        minutes: 20,
        priority: FALL_RISK_ROOMS.has(room) ? 'high' : 'medium',
      });
    }
    expect(ward.residents.find((r) => r.roomId === 'room-12')?.plan.rules.outOfBedTooLong.priority).toBe('high');
    expect(new Set(ward.residents.map((r) => r.name)).size).toBe(24);
  });

  it('takes the size, site and zone it is given, and refuses an impossible size', () => {
    const ward = demoWard({ residents: 3, siteId: 'test-site', siteName: 'Test', timezone: 'UTC' });
    expect(ward.rooms).toHaveLength(3);
    expect(ward.sensors).toHaveLength(6);
    expect(ward.site).toEqual({ id: 'test-site', name: 'Test', timezone: 'UTC' });
    expect(() => demoWard({ residents: 0 })).toThrow(/residents/);
    expect(() => demoWard({ residents: 2.5 })).toThrow(/residents/);
    expect(() => demoWard({ timezone: 'Mars/Olympus' })).toThrow(/time zone/);
  });
});
