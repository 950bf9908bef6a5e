import type { BedStatePayload, DoorStatePayload } from '@nattevakt/protocol/sensor-payloads';
import type { SensorConfig, SiteConfig } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';
import type { ScheduledMessage } from '../scheduled-message.js';
import { NightClock } from './night-clock.js';
import { assignProfiles, type ProfileName } from './profiles.js';
import { type ResidentNight, type SensorChange, simulateResidentNight } from './resident-night.js';
import { scriptedExits } from './scripted-events.js';
import { SeededRandom, stableInt } from './seeded-random.js';

export interface PlanNightOptions {
  /** Any integer; the same seed gives the same night. */
  seed: number;
  /** The evening date, YYYY-MM-DD: the night from 2026-11-24 to 2026-11-25 is "2026-11-24". */
  night: string;
  /** Local wall-clock time HH:MM; from 12:00 it is the evening, before 12:00 the morning after. */
  from: string;
  to: string;
  /** Profile by resident id, replacing the one the ward mix would give. */
  profiles?: Readonly<Record<string, ProfileName>>;
}

const HOUR = 3_600_000;

/**
 * Plans the messages of one night of a ward, in the native wire format, sorted by time.
 * The whole night (noon to noon) is simulated and then cut to [from, to), so playing 02:50–07:00
 * shows the same events as the full night would at those times. At `from` every sensor announces
 * itself online (retained) and reports the state it is in at that moment.
 */
export function planNight(config: SiteConfig, options: PlanNightOptions): ScheduledMessage[] {
  if (!Number.isSafeInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const clock = new NightClock(options.night, config.site.timezone);
  const from = clock.at(options.from);
  const to = clock.at(options.to);
  if (to <= from) {
    throw new RangeError(
      `to (${options.to}) must come after from (${options.from}): times from 12:00 are the evening of ${options.night}, earlier times the morning after`,
    );
  }

  const profiles = assignProfiles(config, options.profiles);
  const scripted = scriptedExits(config, clock, from, to);
  const nights = new Map<string, ResidentNight>();
  for (const resident of config.residents) {
    nights.set(
      resident.id,
      simulateResidentNight({
        seed: options.seed,
        clock,
        residentId: resident.id,
        profile: profiles.get(resident.id) ?? 'calm',
        scripted: scripted.get(resident.id),
        roomName: config.rooms.find((room) => room.id === resident.roomId)?.name ?? resident.roomId,
        residentName: resident.name,
      }),
    );
  }

  const messages: ScheduledMessage[] = [];
  for (const sensor of config.sensors) {
    const changes = sensor.kind === 'bed' ? bedChanges(config, sensor, nights) : doorChanges(config, sensor, nights);
    messages.push(...sensorMessages(config, sensor, changes, { seed: options.seed, clock, from, to }));
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

interface Span {
  seed: number;
  clock: NightClock;
  from: number;
  to: number;
}

/**
 * One sensor's messages in [from, to): its initial announcement, every change of state, and a
 * heartbeat: the current state repeated every 8–10 minutes, as the native format requires (at least
 * every 10 minutes), so the gateway's silence rule can tell a dead sensor from a quiet night.
 */
function sensorMessages(config: SiteConfig, sensor: SensorConfig, changes: SensorChange[], span: Span): ScheduledMessage[] {
  const { clock, from, to } = span;
  const siteId = config.site.id;
  const random = new SeededRandom(span.seed, clock.night, 'sensor', sensor.id);
  const batteryAtStart = stableInt(`${siteId}/${sensor.id}/battery`, 35, 100);
  const drainPerHour = stableInt(`${siteId}/${sensor.id}/drain`, 3, 10) / 100;
  const linkBase = stableInt(`${siteId}/${sensor.id}/link`, 70, 210);
  const stateTopic = topics.sensorState(siteId, sensor.id);

  const payload = (at: number, value: boolean): BedStatePayload | DoorStatePayload => {
    const time = new Date(at).toISOString();
    const battery = Math.max(1, Math.round(batteryAtStart - ((at - clock.start) / HOUR) * drainPerHour));
    const linkquality = Math.min(255, Math.max(0, linkBase + random.int(-12, 12)));
    return sensor.kind === 'bed'
      ? { kind: 'bed', occupied: value, time, battery, linkquality }
      : { kind: 'door', open: value, time, battery, linkquality };
  };

  let state = false; // at noon the resident is up and the door closed
  const pending = [...changes];
  while (pending.length > 0 && (pending[0]?.at ?? Number.POSITIVE_INFINITY) <= from) state = pending.shift()?.value ?? state;

  const messages: ScheduledMessage[] = [
    { at: from, topic: topics.sensorAvailability(siteId, sensor.id), payload: { state: 'online' }, retain: true },
    { at: from, topic: stateTopic, payload: payload(from, state) },
  ];
  let nextReport = from + random.between(8, 10) * 60_000;
  for (const change of pending) {
    if (change.at >= to) break;
    while (nextReport < change.at) {
      messages.push({ at: Math.round(nextReport), topic: stateTopic, payload: payload(Math.round(nextReport), state) });
      nextReport += random.between(8, 10) * 60_000;
    }
    state = change.value;
    const message: ScheduledMessage = { at: change.at, topic: stateTopic, payload: payload(change.at, state) };
    if (change.note !== undefined) message.note = change.note;
    messages.push(message);
  }
  while (nextReport < to) {
    messages.push({ at: Math.round(nextReport), topic: stateTopic, payload: payload(Math.round(nextReport), state) });
    nextReport += random.between(8, 10) * 60_000;
  }
  return messages;
}
