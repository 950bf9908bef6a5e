import type { SensorConfig, SiteConfig } from '@nattevakt/protocol/site-config';
import type { ScheduledMessage } from '../scheduled-message.js';
import { type SensorFault, sensorStream } from '../sensors/sensor-stream.js';
import type { SensorWire } from '../sensors/wire-format.js';
import { NightClock } from './night-clock.js';
import { assignProfiles, type ProfileName } from './profiles.js';
import { type BedExit, type ResidentNight, type SensorChange, simulateResidentNight } from './resident-night.js';
import { scriptedExits } from './scripted-events.js';

export interface PlanNightOptions {
  /** Any integer; the same seed gives the same night. */
  seed: number;
  /** The evening date, YYYY-MM-DD: the night from 2026-11-24 to 2026-11-25 is "2026-11-24". */
  night: string;
  /** Local wall-clock time HH:MM; from 12:00 it is the evening, before 12:00 the morning after. */
  from: string;
  to: string;
  /** The span as exact instants, replacing `from` and `to` (a scenario's times may carry seconds or an offset). */
  span?: { from: number; to: number };
  /** Profile by resident id, replacing the one the ward mix would give. */
  profiles?: Readonly<Record<string, ProfileName>>;
  /**
   * What a scenario states instead of the demo's two scripted events: with `residents` given,
   * the demo script (room 7 at 03:10, room 12 at 03:30) is left out.
   */
  residents?: Readonly<Record<string, ResidentDirections>>;
  /** Residents may fall by their profile's chance (fall-risk 6 %, wandering 2 % of nights); off by default. */
  falls?: boolean;
  /** Every resident sleeps through the night, with no trips out of bed but those stated in `residents`. */
  quiet?: boolean;
  /** The wire format per sensor id; native when left out. */
  wires?: Readonly<Record<string, SensorWire>>;
  /** Faults per sensor id. */
  faults?: Readonly<Record<string, readonly SensorFault[]>>;
}

/** What a scenario says one resident does tonight. */
export interface ResidentDirections {
  exits?: BedExit[];
  bedtime?: number;
  wakeUp?: number;
  restlessNight?: boolean;
  extraTurns?: { at: number; seconds: number }[];
  doorOpenings?: { open: number; close: number; note?: string }[];
}

/**
 * Plans the messages of one night of a ward, in the native wire format, sorted by time.
 * The whole night (noon to noon) is simulated and then cut to [from, to), so playing 02:50–07:00
 * shows the same events as the full night would at those times. At `from` every sensor announces
 * itself online (retained) and reports the state it is in at that moment.
 */
export function planNight(config: SiteConfig, options: PlanNightOptions): ScheduledMessage[] {
  if (!Number.isSafeInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const clock = new NightClock(options.night, config.site.timezone);
  const from = options.span?.from ?? clock.at(options.from);
  const to = options.span?.to ?? clock.at(options.to);
  if (to <= from) {
    throw new RangeError(
      `to (${options.to}) must come after from (${options.from}): times from 12:00 are the evening of ${options.night}, earlier times the morning after`,
    );
  }

  const profiles = assignProfiles(config, options.profiles);
  const directions = options.residents;
  const scripted = directions === undefined ? scriptedExits(config, clock, from, to) : new Map<string, BedExit[]>();
  const nights = new Map<string, ResidentNight>();
  for (const resident of config.residents) {
    const told = directions?.[resident.id] ?? {};
    nights.set(
      resident.id,
      simulateResidentNight({
        seed: options.seed,
        clock,
        residentId: resident.id,
        profile: profiles.get(resident.id) ?? 'calm',
        scripted: told.exits ?? scripted.get(resident.id),
        roomName: config.rooms.find((room) => room.id === resident.roomId)?.name ?? resident.roomId,
        residentName: resident.name,
        ...(options.quiet === true ? { quiet: true } : {}),
        ...(options.falls === true ? { falls: true } : {}),
        ...(told.bedtime !== undefined ? { bedtime: told.bedtime } : {}),
        ...(told.wakeUp !== undefined ? { wakeUp: told.wakeUp } : {}),
        ...(told.restlessNight !== undefined ? { restlessNight: told.restlessNight } : {}),
        ...(told.extraTurns !== undefined ? { extraTurns: told.extraTurns } : {}),
        ...(told.doorOpenings !== undefined ? { doorOpenings: told.doorOpenings } : {}),
      }),
    );
  }

  const messages: ScheduledMessage[] = [];
  for (const sensor of config.sensors) {
    const changes = sensor.kind === 'bed' ? bedChanges(config, sensor, nights) : doorChanges(config, sensor, nights);
    const wire = options.wires?.[sensor.id];
    messages.push(
      ...sensorStream({
        siteId: config.site.id,
        sensor,
        ...(wire !== undefined ? { wire } : {}),
        changes,
        faults: options.faults?.[sensor.id] ?? [],
        seed: options.seed,
        clock,
        from,
        to,
      }),
    );
  }
  // Stable sort: messages of the same instant keep their order (availability before state).
  return messages.sort((a, b) => a.at - b.at);
}

/** The bed mat shows its own resident, or the only resident of its room; an empty room's bed stays empty. */
function bedChanges(config: SiteConfig, sensor: SensorConfig, nights: Map<string, ResidentNight>): SensorChange[] {
  const inRoom = config.residents.filter((r) => r.roomId === sensor.roomId);
  const residentId = sensor.residentId ?? (inRoom.length === 1 ? inRoom[0]?.id : undefined);
  return residentId === undefined ? [] : (nights.get(residentId)?.bed ?? []);
}

/** A door is open while anyone of the room holds it open; openings of room-mates may overlap. */
function doorChanges(config: SiteConfig, sensor: SensorConfig, nights: Map<string, ResidentNight>): SensorChange[] {
  const residents =
    sensor.residentId !== undefined ? [sensor.residentId] : config.residents.filter((r) => r.roomId === sensor.roomId).map((r) => r.id);
  const all = residents.flatMap((id) => nights.get(id)?.door ?? []).sort((a, b) => a.at - b.at);
  const merged: SensorChange[] = [];
  let holding = 0;
  for (const change of all) {
    const wasOpen = holding > 0;
    holding += change.value ? 1 : -1;
    if (holding > 0 !== wasOpen) merged.push(change);
  }
  return merged;
}
