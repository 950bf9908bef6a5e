import type { Alarm } from '@nattevakt/protocol/alarm';
import type { WardView } from '@nattevakt/protocol/ward';
import { API_HEADERS } from './auth.js';

/** The answer of both alarm endpoints: every change up to and including `seq`. */
export interface AlarmBatch {
  seq: number;
  alarms: Alarm[];
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`${path}: HTTP ${status}`);
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: API_HEADERS, credentials: 'same-origin', cache: 'no-store', signal });
  if (!response.ok) throw new HttpError(response.status, path);
  return (await response.json()) as T;
}

export function fetchWard(signal?: AbortSignal): Promise<WardView> {
  return getJson<WardView>('/api/ward', signal);
}

export function fetchOpenAlarms(signal?: AbortSignal): Promise<AlarmBatch> {
  return getJson<AlarmBatch>('/api/alarms/open', signal);
}

export function fetchAlarmChanges(since: number, signal?: AbortSignal): Promise<AlarmBatch> {
  return getJson<AlarmBatch>(`/api/alarms/changes?since=${encodeURIComponent(String(since))}`, signal);
}
