import type { Alarm } from '@nattevakt/protocol/alarm';
import { useEffect, useState } from 'react';
import { getJson } from '../api/rest.js';
import { nightStartOf } from '../time/night.js';

/** One page of `GET /api/alarms` (server/src/routes/alarm-list.ts). */
interface AlarmPage {
  alarms: Alarm[];
  next: string | null;
}

const PAGE = 500;
/** A night with more than this many closed alarms shows the newest ones and says the list is cut. */
const MAX_PAGES = 4;

/**
 * Tonight's closed alarms of a site from the server's history (received since the night began at
 * local noon), newest first, following `next` across pages. The board merges what arrives live.
 */
export async function fetchNightHistory(
  siteId: string,
  from: number,
  signal?: AbortSignal,
): Promise<{ alarms: Alarm[]; complete: boolean }> {
  const alarms: Alarm[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ site: siteId, status: 'resolved', from: new Date(from).toISOString(), limit: String(PAGE) });
    if (cursor !== null) query.set('cursor', cursor);
    const answer: AlarmPage = await getJson<AlarmPage>(`/api/alarms?${query}`, signal);
    alarms.push(...answer.alarms);
    cursor = answer.next;
    if (cursor === null) return { alarms, complete: true };
  }
  return { alarms, complete: false };
}

export interface NightHistoryState {
  /** The server's closed alarms of tonight, or null before the first answer. */
  alarms: readonly Alarm[] | null;
  /** When the night began (epoch ms), by the site's time zone. */
  since: number;
  failed: boolean;
  complete: boolean;
}

/**
 * The night's history for the board: fetched when the board opens, again when the night turns
 * (local noon), and again after every outage (`refreshKey` changes), so a reload or a tablet that
 * was off still shows the whole night, not only what it saw itself.
 */
export function useNightHistory(siteId: string | undefined, timeZone: string | undefined, refreshKey: unknown): NightHistoryState {
  const [since, setSince] = useState(() => nightStartOf(Date.now(), timeZone));
  const [state, setState] = useState<Omit<NightHistoryState, 'since'>>({ alarms: null, failed: false, complete: true });

  useEffect(() => {
    setSince(nightStartOf(Date.now(), timeZone));
    const timer = setInterval(() => setSince(nightStartOf(Date.now(), timeZone)), 60_000);
    return () => clearInterval(timer);
  }, [timeZone]);

  useEffect(() => {
    if (siteId === undefined) return;
    void refreshKey;
    const aborter = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      fetchNightHistory(siteId, since, aborter.signal).then(
        ({ alarms, complete }) => setState({ alarms, failed: false, complete }),
        () => {
          if (aborter.signal.aborted) return;
          setState((current) => ({ ...current, failed: true }));
          retry = setTimeout(load, 10_000);
        },
      );
    void load();
    return () => {
      aborter.abort();
      clearTimeout(retry);
    };
  }, [siteId, since, refreshKey]);

  return { ...state, since };
}

/**
 * The server's history and the alarms this tablet saw close, one entry per alarm in its latest
 * version (highest seq), resolved tonight, most recently closed first.
 */
export function mergeHistory(fromServer: readonly Alarm[] | null, seenHere: readonly Alarm[], since: number): Alarm[] {
  const byId = new Map<string, Alarm>();
  for (const alarm of [...(fromServer ?? []), ...seenHere]) {
    const known = byId.get(alarm.id);
    if (!known || alarm.seq > known.seq) byId.set(alarm.id, alarm);
  }
  const resolvedMs = (alarm: Alarm) => (alarm.resolvedAt === null ? 0 : Date.parse(alarm.resolvedAt));
  return [...byId.values()]
    .filter((alarm) => alarm.status === 'resolved' && Date.parse(alarm.receivedAt) >= since)
    .sort((a, b) => resolvedMs(b) - resolvedMs(a) || b.seq - a.seq);
}
