import type { Room, SensorConfig, SiteConfig } from '@nattevakt/protocol/site-config';

/**
 * The small site the gateway's integration tests share: site `demo` in Europe/Oslo, Astrid in
 * room 7 with door-at-night and out-of-bed (20 min) armed at high priority, and the given sensors
 * (plus any extra rooms they need).
 */
export function siteWithAstrid(sensors: SensorConfig[], extraRooms: Room[] = []): SiteConfig {
  return {
    version: 1,
    site: { id: 'demo', name: 'Demo', timezone: 'Europe/Oslo' },
    rooms: [{ id: 'room-7', name: 'Rom 7' }, ...extraRooms],
    residents: [
      {
        id: 'res-7',
        name: 'Astrid H.',
        roomId: 'room-7',
        plan: {
          armed: true,
          nightWindow: { start: '22:00', end: '07:00' },
          rules: {
            doorOpenAtNight: { enabled: true, priority: 'high' },
            outOfBedTooLong: { enabled: true, minutes: 20, priority: 'high' },
          },
        },
      },
    ],
    sensors,
  };
}
