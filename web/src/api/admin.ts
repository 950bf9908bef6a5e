import type { Alarm } from '@nattevakt/protocol/alarm';
import type { AlarmReport, WhatIfResult } from '@nattevakt/protocol/night-summary';
import type { SensorKind, SupervisionPlan } from '@nattevakt/protocol/site-config';
import type { EvaluationReminders, LegalBasis, PlanStatus } from '@nattevakt/protocol/supervision';
import { getJson, sendJson } from './rest.js';

/** The admin and nurse-in-charge API (server/src/routes/site-config.ts, supervision.ts, night-reports.ts, alarm-delivery.ts). */
export interface SiteSummary {
  id: string;
  name: string;
  timezone: string;
  revision: number;
}
export interface Room {
  id: string;
  name: string;
}
export interface Sensor {
  id: string;
  kind: SensorKind;
  roomId: string;
  residentId?: string;
}
export interface ResidentView {
  id: string;
  name: string;
  roomId: string;
  plan: SupervisionPlan;
  status: PlanStatus;
  legalBasis: { kind: 'consent' | 'vedtak'; evaluation: string; nextEvaluationOn: string | null } | null;
}
/** A plan as people write it: `armed` is the server's to decide (legal basis and plan status). */
export type PlanBody = Omit<SupervisionPlan, 'armed'>;

export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}
export interface LatencyReport {
  from: string;
  to: string;
  alarms: number;
  escalated: number;
  escalatedToNurseInCharge: number;
  latencyMs: Record<'decidedToReceived' | 'receivedToFirstDelivered' | 'receivedToFirstDisplayed' | 'receivedToAcknowledged', LatencyStats>;
}

const site = (siteId: string) => `/api/sites/${encodeURIComponent(siteId)}`;
const resident = (siteId: string, residentId: string) => `${site(siteId)}/residents/${encodeURIComponent(residentId)}`;

export const fetchSites = () => getJson<{ sites: SiteSummary[] }>('/api/sites').then((r) => r.sites);
export const fetchRooms = (siteId: string) => getJson<{ rooms: Room[] }>(`${site(siteId)}/rooms`).then((r) => r.rooms);
export const fetchSensors = (siteId: string) => getJson<{ sensors: Sensor[] }>(`${site(siteId)}/sensors`).then((r) => r.sensors);
export const fetchResidents = (siteId: string) =>
  getJson<{ residents: ResidentView[] }>(`${site(siteId)}/residents`).then((r) => r.residents);
export const createRoom = (siteId: string, body: { id?: string; name: string }) => sendJson<unknown>('POST', `${site(siteId)}/rooms`, body);
export const createSensor = (siteId: string, body: Sensor) => sendJson<unknown>('POST', `${site(siteId)}/sensors`, body);
export const createResident = (siteId: string, body: { name: string; roomId: string }) =>
  sendJson<unknown>('POST', `${site(siteId)}/residents`, body);
export const savePlan = (siteId: string, residentId: string, plan: PlanBody) =>
  sendJson<{ revision: number | null }>('PUT', `${resident(siteId, residentId)}/plan`, plan);
export const whatIf = (siteId: string, residentId: string, plan: SupervisionPlan, signal?: AbortSignal) =>
  fetch(`${resident(siteId, residentId)}/what-if`, {
    method: 'POST',
    headers: { accept: 'application/json', 'x-nattevakt': '1', 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify({ plan, nights: 14 }),
    signal,
  }).then(async (response) => {
    if (!response.ok) throw new Error(((await response.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${response.status}`);
    return (await response.json()) as WhatIfResult;
  });
export const fetchLegalBasis = (siteId: string, residentId: string) =>
  getJson<{ current: LegalBasis | null; history: LegalBasis[] }>(`${resident(siteId, residentId)}/legal-basis`);
export const recordLegalBasis = (siteId: string, residentId: string, body: Record<string, string>) =>
  sendJson<unknown>('POST', `${resident(siteId, residentId)}/legal-basis`, body);
export const recordEvaluation = (siteId: string, residentId: string, body: { evaluatedOn: string; nextEvaluationOn: string }) =>
  sendJson<unknown>('POST', `${resident(siteId, residentId)}/legal-basis/evaluation`, body);
export const pausePlan = (siteId: string, residentId: string, reason: string) =>
  sendJson<unknown>('POST', `${resident(siteId, residentId)}/plan/pause`, { reason });
export const resumePlan = (siteId: string, residentId: string) =>
  sendJson<unknown>('POST', `${resident(siteId, residentId)}/plan/resume`, {});
export const fetchReminders = (siteId: string) => getJson<EvaluationReminders>(`${site(siteId)}/evaluation-reminders`);
export const fetchAlarmReport = (siteId: string) => getJson<AlarmReport>(`${site(siteId)}/reports/alarms`);
/** One alarm's way to the nurses (server/src/routes/alarm-delivery.ts), measured. */
export interface DeliveryTimeline {
  alarmId: string;
  siteId: string;
  rule: string;
  priority: string;
  status: string;
  escalationLevel: number;
  stages: { receivedAt: string; raisedAt: string; firstDisplayedAt: string | null; acknowledgedBy: string | null };
  devices: { device: string; deliveredAt: string | null; displayedAt: string | null }[];
  latencyMs: Record<
    'decidedToReceived' | 'receivedToFirstDelivered' | 'receivedToFirstDisplayed' | 'receivedToAcknowledged',
    number | null
  >;
}
export const fetchDelivery = (alarmId: string, signal?: AbortSignal) =>
  getJson<DeliveryTimeline>(`/api/alarms/${encodeURIComponent(alarmId)}/delivery`, signal);
export const fetchAlarmsReceived = (siteId: string, from: string, limit: number, signal?: AbortSignal) =>
  getJson<{ alarms: Alarm[]; next: string | null }>(
    `/api/alarms?site=${encodeURIComponent(siteId)}&from=${encodeURIComponent(from)}&limit=${limit}`,
    signal,
  );
export const fetchLatencyReport = (siteId: string, from: string) =>
  getJson<LatencyReport>(`/api/reports/alarm-latency?site=${encodeURIComponent(siteId)}&from=${encodeURIComponent(from)}`);
