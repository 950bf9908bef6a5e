import { getJson } from './rest.js';

/** The relatives' API (server/src/routes/relatives.ts): summaries only, never raw events, alarm details or staff names. */
export interface RelativeResident {
  siteId: string;
  residentId: string;
  name: string;
}

export type Verdict = 'calm' | 'restless' | 'unknown';

export interface RelativeLastNight extends RelativeResident {
  /** The night, named by the local date of its evening; null when no summary exists yet. */
  night: string | null;
  verdict: Verdict | null;
  text: { nb: string; en: string };
}

export interface TrendNight {
  night: string;
  verdict: Verdict | null;
  timeInBedMinutes: number | null;
  bedExits: number | null;
  alarms: number | null;
}

export interface RelativeTrend extends RelativeResident {
  nights: TrendNight[];
}

const path = (r: Pick<RelativeResident, 'siteId' | 'residentId'>) =>
  `/api/relative/residents/${encodeURIComponent(r.siteId)}/${encodeURIComponent(r.residentId)}`;

export const fetchRelativeResidents = (signal?: AbortSignal) =>
  getJson<{ residents: RelativeResident[] }>('/api/relative/residents', signal).then((r) => r.residents);
export const fetchLastNight = (r: RelativeResident, signal?: AbortSignal) => getJson<RelativeLastNight>(`${path(r)}/last-night`, signal);
export const fetchTrend = (r: RelativeResident, nights = 14, signal?: AbortSignal) =>
  getJson<RelativeTrend>(`${path(r)}/trend?nights=${nights}`, signal);
