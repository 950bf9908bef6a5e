import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { getJson } from './rest.js';

/** Stored sensor events of a site in [from, to), oldest first (server/src/routes/events.ts). */
export function fetchEvents(siteId: string, from: number, to: number, limit = 2000, signal?: AbortSignal): Promise<SensorEvent[]> {
  const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: String(limit) });
  return getJson<{ events: SensorEvent[] }>(`/api/sites/${encodeURIComponent(siteId)}/events?${query}`, signal).then((r) => r.events);
}
