import type { Alarm } from '@nattevakt/protocol/alarm';
import type { WardView } from '@nattevakt/protocol/ward';
import { API_HEADERS } from './auth.js';

/** The answer of both alarm endpoints: every change up to and including `seq`. */
export interface AlarmBatch {
  seq: number;
  alarms: Alarm[];
  /** The server's page was full: fetch again from `seq`. */
  more?: boolean;
}

/** A non-2xx answer; `message` is the server's own words (`{ error }`), which name the field at fault. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    message?: string,
  ) {
    super(message ?? `${path}: HTTP ${status}`);
  }
}

async function failure(response: Response, path: string): Promise<HttpError> {
  let message: string | undefined;
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') message = body.error;
    else if (typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new HttpError(response.status, path, message);
}

/** GET with the session cookie; a non-2xx answer throws HttpError with its status. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: API_HEADERS, credentials: 'same-origin', cache: 'no-store', signal });
  if (!response.ok) throw await failure(response, path);
  return (await response.json()) as T;
}

/** POST/PUT/PATCH/DELETE with a JSON body and the CSRF header; throws HttpError with the server's message. */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? API_HEADERS : { ...API_HEADERS, 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response, path);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
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
