import { checkSiteConfig, type Resident, type SensorConfig, type SiteConfig } from '@nattevakt/protocol/site-config';

export interface DemoWardOptions {
  residents?: number;
  siteId?: string;
  siteName?: string;
  timezone?: string;
}

// Names of the generation now living in Norwegian nursing homes (born 1930–1945).
const FIRST_NAMES = [
  'Astrid',
  'Olav',
  'Ingrid',
  'Kjell',
  'Solveig',
  'Arne',
  'Gunvor',
  'Odd',
  'Ragnhild',
  'Harald',
  'Bjørg',
  'Knut',
  'Sigrid',
  'Egil',
  'Margit',
  'Leif',
  'Eldbjørg',
  'Einar',
  'Borghild',
  'Torbjørn',
  'Aslaug',
  'Magne',
  'Turid',
  'Per',
  'Hjørdis',
  'Ola',
  'Gudrun',
  'Reidar',
  'Randi',
  'Sverre',
] as const;
const LAST_INITIALS = 'HBKSLJNOEMAPRTDGV';

/**
 * Rooms whose residents have a fall risk: their out-of-bed alarm is high priority. Room 12 is
 * where the scripted fall of the demo night happens, so it must be one of them.
 */
export const FALL_RISK_ROOMS: ReadonlySet<number> = new Set([4, 12, 17, 23]);

export const MAX_DEMO_RESIDENTS = 500;

function residentName(index: number): string {
  const first = FIRST_NAMES[index % FIRST_NAMES.length] ?? 'Astrid';
  // Step through the initials with a stride coprime to their count, so neighbours differ.
  const initial = LAST_INITIALS[(index * 7 + 3) % LAST_INITIALS.length] ?? 'H';
  return `${first} ${initial}.`;
}

/**
 * A plausible ward for demos and tests: one resident per room, a bed mat and a door contact in
 * each room, every plan armed for the night from 22:00 to 07:00.
 */
export function demoWard({
  residents = 24,
  siteId = 'demo',
  siteName = 'Solsiden sykehjem, avdeling 2',
  timezone = 'Europe/Oslo',
}: DemoWardOptions = {}): SiteConfig {
  if (!Number.isInteger(residents) || residents < 1 || residents > MAX_DEMO_RESIDENTS) {
    throw new RangeError(`residents must be a whole number from 1 to ${MAX_DEMO_RESIDENTS}, got ${residents}`);
  }
  const rooms: SiteConfig['rooms'] = [];
  const people: Resident[] = [];
  const sensors: SensorConfig[] = [];
  for (let n = 1; n <= residents; n++) {
    const roomId = `room-${n}`;
    const residentId = `res-${n}`;
    rooms.push({ id: roomId, name: `Rom ${n}` });
    people.push({
      id: residentId,
      name: residentName(n - 1),
      roomId,
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: FALL_RISK_ROOMS.has(n) ? 'high' : 'medium' },
        },
      },
    });
    sensors.push({ id: `bed-${n}`, kind: 'bed', roomId, residentId }, { id: `door-${n}`, kind: 'door', roomId });
  }
  const checked = checkSiteConfig({ version: 1, site: { id: siteId, name: siteName, timezone }, rooms, residents: people, sensors });
  if (!checked.ok) throw new RangeError(`the demo ward is not a valid site configuration: ${checked.errors.join('; ')}`);
  return checked.value;
}
