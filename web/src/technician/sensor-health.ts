import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SensorKind } from '@nattevakt/protocol/site-config';
import type { RoomState } from '@nattevakt/protocol/ward';

/** One sensor as the technician sees it: its state from the board, its radio and rhythm from the last hour of events. */
export interface SensorHealth {
  id: string;
  kind: SensorKind;
  roomId: string;
  roomName: string;
  residentName: string | null;
  online: boolean | null;
  lastSeen: string | null;
  minutesSilent: number | null;
  battery: number | null;
  /** Last reported link quality (0–255), from the events. */
  signal: number | null;
  /** Most state changes within one minute, in the last hour. */
  changesPerMinute: number;
  eventsLastHour: number;
  problems: Problem[];
  /** Higher is worse; the list is sorted by it. */
  score: number;
}

export type Problem = 'offline' | 'never-seen' | 'silent' | 'battery' | 'signal' | 'flapping';

/** Defaults of the protocol (PLAN_DEFAULTS) and the usual Zigbee LQI floor. */
export const LOW_BATTERY = 15;
export const LOW_SIGNAL = 40;
export const FLAPPING_PER_MINUTE = 10;
const SILENT_MINUTES: Record<string, number> = { door: 15, bed: 60 };

const WEIGHT: Record<Problem, number> = { offline: 100, 'never-seen': 90, silent: 80, flapping: 50, battery: 40, signal: 30 };

/** State changes per sensor, bucketed by minute: the worst minute. */
function worstMinute(events: readonly SensorEvent[]): number {
  const perMinute = new Map<number, number>();
  let previous: string | null = null;
  for (const event of events) {
    const state = event.occupied !== undefined ? `o${event.occupied}` : event.open !== undefined ? `d${event.open}` : null;
    if (state === null) continue;
    if (previous !== null && state !== previous) {
      const minute = Math.floor(Date.parse(event.time) / 60_000);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
    previous = state;
  }
  return Math.max(0, ...perMinute.values());
}

/** Every sensor of the ward, worst first. `events` are the site's events of the last hour, oldest first; `now` on the site clock. */
export function sensorHealth(rooms: readonly RoomState[], events: readonly SensorEvent[], now: number): SensorHealth[] {
  const bySensor = new Map<string, SensorEvent[]>();
  for (const event of events) {
    const list = bySensor.get(event.sensorId) ?? [];
    list.push(event);
    bySensor.set(event.sensorId, list);
  }
  const list: SensorHealth[] = [];
  for (const room of rooms) {
    for (const sensor of room.sensors) {
      const own = bySensor.get(sensor.id) ?? [];
      const signal = own.findLast((event) => event.linkquality !== undefined)?.linkquality ?? null;
      const lastSeen = sensor.lastSeen ?? own.at(-1)?.time ?? null;
      const minutesSilent = lastSeen === null ? null : Math.max(0, Math.floor((now - Date.parse(lastSeen)) / 60_000));
      const changesPerMinute = worstMinute(own);
      const problems: Problem[] = [];
      if (sensor.online === false) problems.push('offline');
      else if (lastSeen === null) problems.push('never-seen');
      else if ((minutesSilent ?? 0) >= (SILENT_MINUTES[sensor.kind] ?? 180)) problems.push('silent');
      if (sensor.battery !== null && sensor.battery <= LOW_BATTERY) problems.push('battery');
      if (signal !== null && signal < LOW_SIGNAL) problems.push('signal');
      if (changesPerMinute > FLAPPING_PER_MINUTE) problems.push('flapping');
      const score =
        problems.reduce((sum, problem) => sum + WEIGHT[problem], 0) +
        // Within the same problems: emptier battery, weaker signal, longer silence first.
        (sensor.battery === null ? 0 : (100 - sensor.battery) / 100) +
        (signal === null ? 0 : (255 - signal) / 255) +
        Math.min(1, (minutesSilent ?? 0) / 600);
      list.push({
        id: sensor.id,
        kind: sensor.kind,
        roomId: room.roomId,
        roomName: room.roomName,
        residentName: room.resident?.name ?? null,
        online: sensor.online,
        lastSeen,
        minutesSilent,
        battery: sensor.battery,
        signal,
        changesPerMinute,
        eventsLastHour: own.length,
        problems,
        score,
      });
    }
  }
  return list.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
