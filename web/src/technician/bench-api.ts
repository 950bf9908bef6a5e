import type { ScenarioInfo, ScenarioRun, ScenarioRunRequest, SelfTestLogEntry } from '@nattevakt/protocol/commissioning';
import { API_HEADERS } from '../api/auth.js';
import { getJson } from '../api/rest.js';

/** A refusal with the server's words and, for a bad scenario file or a ward that does not match, each problem. */
export class BenchError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string[],
  ) {
    super(message);
  }
}

const site = (siteId: string) => `/api/sites/${encodeURIComponent(siteId)}`;

export function fetchScenarios(signal?: AbortSignal): Promise<ScenarioInfo[]> {
  return getJson<{ scenarios: ScenarioInfo[] }>('/api/scenarios', signal).then((r) => r.scenarios);
}

export function fetchScenarioRuns(siteId: string, signal?: AbortSignal): Promise<ScenarioRun[]> {
  return getJson<{ runs: ScenarioRun[] }>(`${site(siteId)}/scenario-runs?limit=10`, signal).then((r) => r.runs);
}

export function fetchScenarioRun(siteId: string, runId: string, signal?: AbortSignal): Promise<ScenarioRun> {
  return getJson<ScenarioRun>(`${site(siteId)}/scenario-runs/${encodeURIComponent(runId)}`, signal);
}

/** Starts a run (202 with the run); a refusal throws BenchError with the server's message and details. */
export async function startScenarioRun(siteId: string, request: ScenarioRunRequest): Promise<ScenarioRun> {
  const response = await fetch(`${site(siteId)}/scenario-runs`, {
    method: 'POST',
    headers: { ...API_HEADERS, 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(request),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: string; details?: string[] } & Partial<ScenarioRun>;
  if (!response.ok) throw new BenchError(response.status, body.error ?? `HTTP ${response.status}`, body.details ?? []);
  return body as ScenarioRun;
}

export function fetchSelfTests(siteId: string, signal?: AbortSignal): Promise<SelfTestLogEntry[]> {
  return getJson<{ entries: SelfTestLogEntry[] }>(`${site(siteId)}/self-tests?limit=14`, signal).then((r) => r.entries);
}
