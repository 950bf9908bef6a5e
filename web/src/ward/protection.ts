import type { Alarm } from '@nattevakt/protocol/alarm';
import type { SensorKind } from '@nattevakt/protocol/site-config';
import type { RoomState } from '@nattevakt/protocol/ward';

/** Why a resident's protection is weakened tonight. */
export type Weakness =
  | { kind: 'plan-paused' }
  | { kind: 'no-sensors' }
  | { kind: 'sensor-offline'; sensor: string; sensorKind: SensorKind }
  | { kind: 'sensor-never-seen'; sensor: string; sensorKind: SensorKind }
  | { kind: 'sensor-silent'; sensor: string; sensorKind: SensorKind; minutes: number }
  | { kind: 'low-battery'; sensor: string; sensorKind: SensorKind; percent: number }
  | { kind: 'technical-alarm'; sensor: string; rule: string };

export interface Unprotected {
  residentId: string;
  residentName: string;
  roomId: string;
  roomName: string;
  reasons: Weakness[];
}

/** Defaults of the protocol (PLAN_DEFAULTS): low battery at 15 %, a sensor silent after 15 min (door) or 60 min (bed mat). */
const LOW_BATTERY = 15;
const SILENT_MINUTES: Record<string, number> = { door: 15, bed: 60 };
const SILENT_OTHER = 180;

/**
 * Every resident whose protection is weakened, from what the board knows: the plan off (paused
 * or without a legal basis), a sensor offline, never heard from, silent or low on battery, or
 * an open technical alarm. `now` is on the site clock. The server's own list (legal basis and
 * evaluation dates included) replaces this where it exists.
 */
export function unprotectedFromRooms(rooms: readonly RoomState[], openAlarms: readonly Alarm[], now: number): Unprotected[] {
  const list: Unprotected[] = [];
  for (const room of rooms) {
    if (!room.resident) continue;
    const reasons: Weakness[] = [];
    if (!room.resident.armed) reasons.push({ kind: 'plan-paused' });
    if (room.sensors.length === 0) reasons.push({ kind: 'no-sensors' });
    for (const sensor of room.sensors) {
      const base = { sensor: sensor.id, sensorKind: sensor.kind };
      if (sensor.online === false) reasons.push({ kind: 'sensor-offline', ...base });
      else if (sensor.lastSeen === null) reasons.push({ kind: 'sensor-never-seen', ...base });
      else {
        const minutes = Math.floor((now - Date.parse(sensor.lastSeen)) / 60_000);
        if (minutes >= (SILENT_MINUTES[sensor.kind] ?? SILENT_OTHER)) reasons.push({ kind: 'sensor-silent', ...base, minutes });
      }
      if (sensor.battery !== null && sensor.battery <= LOW_BATTERY) reasons.push({ kind: 'low-battery', ...base, percent: sensor.battery });
    }
    for (const alarm of openAlarms) {
      if (alarm.priority !== 'technical' || alarm.roomId !== room.roomId) continue;
      if (reasons.some((reason) => 'sensor' in reason && reason.sensor === alarm.sensorId)) continue;
      reasons.push({ kind: 'technical-alarm', sensor: alarm.sensorId, rule: alarm.rule });
    }
    if (reasons.length > 0)
      list.push({ residentId: room.resident.id, residentName: room.resident.name, roomId: room.roomId, roomName: room.roomName, reasons });
  }
  return list;
}
