import type { Alarm } from '@nattevakt/protocol/alarm';
import { technicalSettings } from '@nattevakt/protocol/rules/technical/settings';
import type { Resident, SiteConfig } from '@nattevakt/protocol/site-config';
import type { PlanStatus, UnprotectedReason, UnprotectedResident, UnprotectedView } from '@nattevakt/protocol/supervision';
import type { RoomState } from '@nattevakt/protocol/ward';
import { daysBetween } from './dates.js';
import { evaluationState } from './supervision-service.js';

type SensorState = RoomState['sensors'][number];

export interface UnprotectedInput {
  config: SiteConfig;
  /** Current legal basis per resident (only `kind` and the evaluation date matter here). */
  legal: Map<string, { kind: string; next_evaluation_on: string | null; ended_at: string | null }>;
  status: Map<string, PlanStatus>;
  /** The live state of every room (WardState). */
  rooms: RoomState[];
  /** The site's open alarms. */
  openAlarms: Alarm[];
  /** Now, epoch ms: the site clock when the gateway reports one (simulated nights), else the server's. */
  now: number;
  /** Today in the site's time zone. */
  today: string;
  reminderDays: number;
}

const TECHNICAL_CODES: Record<string, UnprotectedReason['code']> = {
  'sensor-offline': 'sensor-offline',
  'sensor-silent': 'sensor-silent',
  'low-battery': 'low-battery',
  tamper: 'technical-alarm',
  flapping: 'technical-alarm',
};

/** Rules that need a bed sensor, and rules that need a door sensor, to raise anything. */
const needsBed = (r: Resident) =>
  r.plan.rules.outOfBedTooLong.enabled || r.plan.rules.bedExit?.enabled === true || r.plan.rules.notInBedBy?.enabled === true;
const needsDoor = (r: Resident) => r.plan.rules.doorOpenAtNight.enabled || r.plan.rules.doorLeftOpen?.enabled === true;

/**
 * Every resident of a site whose protection is weakened, and why: no legal basis, a plan paused
 * or ended, a vedtak evaluation due or overdue, a sensor missing, never heard from, offline,
 * silent longer than its limit or low on battery, or an open technical alarm. A resident with no
 * reason is not listed. "None" (no protection) first, then "weakened"; by room name.
 */
export function unprotectedView(input: UnprotectedInput): UnprotectedView {
  const { config, now } = input;
  const sensorStates = new Map<string, SensorState>();
  for (const room of input.rooms) for (const sensor of room.sensors) sensorStates.set(sensor.id, sensor);
  const residents: UnprotectedResident[] = [];
  for (const resident of config.residents) {
    const reasons: UnprotectedReason[] = [];
    const status = input.status.get(resident.id);
    const state = status?.state ?? 'active';
    const legal = input.legal.get(resident.id);
    if (legal === undefined) reasons.push({ code: 'no-legal-basis', severity: 'unprotected' });
    if (state === 'paused')
      reasons.push({
        code: 'plan-paused',
        severity: 'unprotected',
        ...(status?.reason ? { reason: status.reason } : {}),
        ...(status?.changedAt ? { since: status.changedAt } : {}),
        ...(status?.until ? { until: status.until } : {}),
      });
    if (state === 'ended')
      reasons.push({
        code: 'plan-ended',
        severity: 'unprotected',
        ...(status?.reason ? { reason: status.reason } : {}),
        ...(status?.changedAt ? { since: status.changedAt } : {}),
      });
    if (legal !== undefined && legal.next_evaluation_on !== null) {
      const evaluation = evaluationState(legal, input.today, input.reminderDays);
      if (evaluation === 'due' || evaluation === 'overdue')
        reasons.push({
          code: evaluation === 'due' ? 'evaluation-due' : 'evaluation-overdue',
          severity: 'weakened',
          date: legal.next_evaluation_on,
          days: daysBetween(input.today, legal.next_evaluation_on),
        });
    }

    // The sensors that watch this resident: their own, or every sensor of the room not given to someone else.
    const watching = config.sensors.filter((s) =>
      s.residentId === undefined ? s.roomId === resident.roomId : s.residentId === resident.id,
    );
    if (needsBed(resident) && !watching.some((s) => s.kind === 'bed'))
      reasons.push({ code: 'sensor-missing', severity: 'unprotected', sensorKind: 'bed' });
    if (needsDoor(resident) && !watching.some((s) => s.kind === 'door'))
      reasons.push({ code: 'sensor-missing', severity: 'unprotected', sensorKind: 'door' });
    for (const sensor of watching) {
      const watched = config.residents.filter((r) =>
        sensor.residentId === undefined ? r.roomId === sensor.roomId : r.id === sensor.residentId,
      );
      const limits = technicalSettings(sensor, watched);
      const live = sensorStates.get(sensor.id);
      const about = { sensorId: sensor.id, sensorKind: sensor.kind };
      if (live === undefined || live.lastSeen === null) {
        reasons.push({ code: 'sensor-never-seen', severity: 'unprotected', ...about });
        continue;
      }
      if (live.online === false) reasons.push({ code: 'sensor-offline', severity: 'unprotected', ...about, since: live.lastSeen });
      else if (now - Date.parse(live.lastSeen) > limits.silentMinutes * 60_000)
        reasons.push({ code: 'sensor-silent', severity: 'unprotected', ...about, since: live.lastSeen, minutes: limits.silentMinutes });
      if (live.battery !== null && live.battery <= limits.lowBatteryPercent)
        reasons.push({ code: 'low-battery', severity: 'weakened', ...about, battery: live.battery });
    }
    // Open technical alarms the gateway raised: it sees the sensors first-hand.
    for (const alarm of input.openAlarms) {
      const code = TECHNICAL_CODES[alarm.rule];
      if (code === undefined || !watching.some((s) => s.id === alarm.sensorId)) continue;
      const known = reasons.find((r) => r.code === code && r.sensorId === alarm.sensorId);
      if (known !== undefined) {
        known.alarmId ??= alarm.id;
        known.rule ??= alarm.rule;
        continue;
      }
      const sensor = watching.find((s) => s.id === alarm.sensorId);
      reasons.push({
        code,
        severity: code === 'sensor-offline' || code === 'sensor-silent' ? 'unprotected' : 'weakened',
        sensorId: alarm.sensorId,
        ...(sensor ? { sensorKind: sensor.kind } : {}),
        since: alarm.raisedAt,
        alarmId: alarm.id,
        rule: alarm.rule,
      });
    }
    if (reasons.length === 0) continue;
    residents.push({
      residentId: resident.id,
      residentName: resident.name,
      roomId: resident.roomId,
      roomName: config.rooms.find((r) => r.id === resident.roomId)?.name ?? resident.roomId,
      armed: resident.plan.armed,
      planState: state,
      protection: reasons.some((r) => r.severity === 'unprotected') ? 'none' : 'weakened',
      reasons,
    });
  }
  residents.sort(
    (a, b) =>
      (a.protection === b.protection ? 0 : a.protection === 'none' ? -1 : 1) ||
      a.roomName.localeCompare(b.roomName, 'nb', { numeric: true }) ||
      a.residentName.localeCompare(b.residentName, 'nb'),
  );
  return {
    siteId: config.site.id,
    generatedAt: new Date(now).toISOString(),
    today: input.today,
    residentCount: config.residents.length,
    armedCount: config.residents.filter((r) => r.plan.armed).length,
    residents,
  };
}
