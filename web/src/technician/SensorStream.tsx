import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { TFunction } from 'i18next';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fetchEvents } from '../api/events.js';
import { useSiteTime } from '../time/site-time.js';
import type { BenchSocket } from './bench-socket.js';

const STREAM_POLL_MS = 2_000;
const HOUR_MS = 60 * 60_000;
const STREAM_MAX = 200;

/**
 * One sensor's events, newest first: the last hour from the stored events, then live over /staff
 * as the server ingests them. While the live link is down it polls the stored events every two
 * seconds, and when the link is back it reads them once more to fill the gap.
 */
export function SensorStream({ siteId, sensorId, bench }: { siteId: string; sensorId: string; bench: BenchSocket }) {
  const { t } = useTranslation();
  const { now, format } = useSiteTime();
  const [events, setEvents] = useState<SensorEvent[]>([]);
  const [failed, setFailed] = useState(false);
  const [live, setLive] = useState(false);
  const nowRef = useRef(now);
  nowRef.current = now;
  const seen = useRef(new Set<string>());
  const from = useRef(now - HOUR_MS);

  const add = useCallback(
    (fresh: SensorEvent[]) => {
      const unseen = fresh.filter((event) => event.sensorId === sensorId && !seen.current.has(event.id));
      for (const event of unseen) seen.current.add(event.id);
      if (unseen.length > 0)
        setEvents((known) => [...unseen, ...known].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)).slice(0, STREAM_MAX));
    },
    [sensorId],
  );

  useEffect(() => bench.subscribe(siteId, sensorId, (event) => add([event]), setLive), [bench, siteId, sensorId, add]);

  useEffect(() => {
    const aborter = new AbortController();
    const poll = () => {
      fetchEvents(siteId, from.current, nowRef.current + 60_000, 10_000, aborter.signal).then(
        (list) => {
          setFailed(false);
          // Overlap a little: an event stored late with an earlier time is still caught.
          const newest = list.at(-1);
          if (newest) from.current = Math.max(from.current, Date.parse(newest.time) - 60_000);
          add(list);
        },
        () => !aborter.signal.aborted && setFailed(true),
      );
    };
    poll();
    const timer = live ? undefined : setInterval(poll, STREAM_POLL_MS);
    return () => {
      aborter.abort();
      clearInterval(timer);
    };
  }, [siteId, live, add]);

  return (
    <section className="panel" aria-labelledby="stream-title" data-testid="sensor-stream" data-live={live}>
      <h2 id="stream-title">{t('technician.streamTitle', { sensor: sensorId })}</h2>
      <p className="muted" data-testid="stream-mode">
        <span className={`status-pill ${live ? 'status-ok' : 'status-bad'}`}>
          {live ? t('technician.streamLive') : t('technician.streamPolling')}
        </span>{' '}
        {live ? t('technician.streamLiveHint') : t('technician.streamHint')}
      </p>
      {failed && (
        <p className="field-error" role="alert">
          {t('technician.eventsFailed')}
        </p>
      )}
      {events.length === 0 ? (
        <p className="muted">{t('technician.streamEmpty')}</p>
      ) : (
        <ol className="event-stream" aria-live="polite" style={{ maxHeight: 420, overflowY: 'auto' }}>
          {events.map((event) => (
            <li key={event.id} data-testid="stream-event">
              <time>{format(event.time)}</time> <strong>{eventState(event, t)}</strong>
              {event.battery !== undefined && <span> · {t('technician.batteryValue', { percent: event.battery })}</span>}
              {event.linkquality !== undefined && <span> · {t('technician.signalValue', { signal: event.linkquality })}</span>}
              {event.tamper && <span> · {t('technician.tamper')}</span>}
              <span className="muted"> · {event.format}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function eventState(event: SensorEvent, t: TFunction): string {
  if (event.online === false) return t('technician.state.offline');
  if (event.occupied !== undefined) return event.occupied ? t('room.inBed') : t('room.outOfBed');
  if (event.open !== undefined) return event.open ? t('room.doorOpen') : t('room.doorClosed');
  return t('technician.state.heartbeat');
}
