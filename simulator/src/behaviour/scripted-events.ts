import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { NightClock } from './night-clock.js';
import type { BedExit } from './resident-night.js';

/** Room whose resident walks out at 03:10: the door-open-at-night alarm of the demo. */
export const WALK_OUT_ROOM = 'room-7';
export const WALK_OUT_DOOR_OPENS = '03:10';
/** Room whose resident falls at 03:30 and lies 45 minutes: the out-of-bed-too-long alarm. */
export const FALL_ROOM = 'room-12';
export const FALL_LEAVES_BED = '03:30';
export const FALL_MINUTES = 45;

/**
 * The two events every demo night contains, whatever the seed, so a presenter knows what will
 * happen when. Each is included only when its room exists with a resident and its moment (the
 * door opening, the fall) lies inside the played span [from, to).
 */
export function scriptedExits(config: SiteConfig, clock: NightClock, from: number, to: number): Map<string, BedExit[]> {
  const byResident = new Map<string, BedExit[]>();
  const residentOf = (roomId: string) => config.residents.find((r) => r.roomId === roomId);
  const roomName = (roomId: string) => config.rooms.find((r) => r.id === roomId)?.name ?? roomId;

  const walker = residentOf(WALK_OUT_ROOM);
  const doorOpens = clock.at(WALK_OUT_DOOR_OPENS);
  if (walker !== undefined && doorOpens >= from && doorOpens < to) {
    const room = roomName(WALK_OUT_ROOM);
    byResident.set(walker.id, [
      {
        kind: 'scripted-walk-out',
        leave: clock.at('03:08'),
        back: clock.at('03:40'),
        leaveNote: `${room}: ${walker.name} går ut av sengen`,
        backNote: `${room}: ${walker.name} er tilbake i sengen`,
        // One opening only: the demo promises a single door alarm in room 7. The walk back with
        // the nurse is not modelled as a second opening (random walk-outs do model it).
        doorOpenings: [{ open: doorOpens, close: clock.at('03:11', 5), note: `${room}: døren åpnes – ${walker.name} går ut` }],
      },
    ]);
  }

  const faller = residentOf(FALL_ROOM);
  const falls = clock.at(FALL_LEAVES_BED);
  if (faller !== undefined && falls >= from && falls < to) {
    const room = roomName(FALL_ROOM);
    const exits = byResident.get(faller.id) ?? [];
    exits.push({
      kind: 'fall',
      leave: falls,
      back: falls + FALL_MINUTES * 60_000,
      // Fallen beside the bed: the door stays closed until the nurse comes.
      doorOpenings: [],
      leaveNote: `${room}: ${faller.name} går ut av sengen og faller – blir liggende ${FALL_MINUTES} min`,
      backNote: `${room}: ${faller.name} er tilbake i sengen etter ${FALL_MINUTES} min`,
    });
    byResident.set(faller.id, exits);
  }
  return byResident;
}
