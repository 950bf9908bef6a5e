import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { TFunction } from 'i18next';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Me } from '../api/auth.js';
import { fetchEvents } from '../api/events.js';
import { useWard, WardProvider } from '../api/ward-context.js';
import { ConnectionBanner } from '../components/ConnectionBanner.js';
import { LanguageToggle } from '../components/LanguageToggle.js';
import { PageNav } from '../components/PageNav.js';
import { BenchSocket } from '../technician/bench-socket.js';
import { ScenarioPanel } from '../technician/ScenarioPanel.js';
import { SelfTestPanel } from '../technician/SelfTestPanel.js';
import { SensorStream } from '../technician/SensorStream.js';
import { type SensorHealth, sensorHealth } from '../technician/sensor-health.js';
import { SiteTimeProvider, useSiteTime } from '../time/site-time.js';

const HEALTH_REFRESH_MS = 10_000;
const HOUR_MS = 60 * 60_000;

/**
 * The technician's bench: every sensor of the ward sorted by trouble (offline, silent, battery,
 * signal, flapping), the events of one sensor live as the server ingests them, scenario runs
 * against the site's gateway with progress and verdict, and the self-test maintenance log. Rooms
 * and sensor state come live over /staff (read only for technicians); radio and rhythm come from
 * the stored events.
 */
export function TechnicianPage({ me, onLogout }: { me: Me; onLogout: () => void }) {
  return (
    <WardProvider alarms={false}>
      <Clocked>
        <Bench me={me} onLogout={onLogout} />
      </Clocked>
    </WardProvider>
  );
}

function Clocked({ children }: { children: React.ReactNode }) {
  const ward = useWard();
  return (
    <SiteTimeProvider clock={ward.clock} timeZone={ward.site?.timezone}>
      {children}
    </SiteTimeProvider>
  );
}

function Bench({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const { t } = useTranslation();
  const ward = useWard();
  const { now, format } = useSiteTime();
  const siteId = ward.site?.id;
  const [events, setEvents] = useState<SensorEvent[]>([]);
  const [eventsError, setEventsError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const nowRef = useRef(now);
  nowRef.current = now;
  const [bench] = useState(() => new BenchSocket());
  useEffect(() => {
    bench.start();
    return () => bench.stop();
  }, [bench]);

  useEffect(() => {
    if (siteId === undefined) return;
    const aborter = new AbortController();
    const load = () => {
      const to = nowRef.current + 60_000;
      fetchEvents(siteId, to - HOUR_MS - 60_000, to, 10_000, aborter.signal).then(
        (list) => {
          setEvents(list);
          setEventsError(null);
        },
        (error: unknown) => !aborter.signal.aborted && setEventsError(String(error)),
      );
    };
    load();
    const timer = setInterval(load, HEALTH_REFRESH_MS);
    return () => {
      aborter.abort();
      clearInterval(timer);
    };
  }, [siteId]);

  const minute = Math.floor(now / 60_000);
  const sensors = useMemo(() => sensorHealth(ward.rooms, events, minute * 60_000), [ward.rooms, events, minute]);
  const troubled = sensors.filter((sensor) => sensor.problems.length > 0).length;

  return (
    <div className="bench" data-testid="technician-page">
      <header className="site-header">
        <div className="site-identity">
          <h1 className="site-name">{ward.site?.name ?? t('app.name')}</h1>
          <div className="site-clock">{t('technician.title')}</div>
        </div>
        <div className="site-actions">
          <PageNav me={me} current="technician" />
          <LanguageToggle />
          <button type="button" className="btn btn-quiet" onClick={onLogout} data-testid="logout">
            {t('start.logout')}
          </button>
        </div>
      </header>
      <ConnectionBanner />
      <main className="bench-main">
        <section className="panel" aria-labelledby="sensors-title">
          <h2 id="sensors-title">{t('technician.sensors', { count: sensors.length, troubled })}</h2>
          {eventsError && (
            <p className="field-error" role="alert">
              {t('technician.eventsFailed')}
            </p>
          )}
          <div className="table-scroll">
            <table className="data-table" data-testid="sensor-table">
              <thead>
                <tr>
                  <th scope="col">{t('technician.sensor')}</th>
                  <th scope="col">{t('technician.where')}</th>
                  <th scope="col">{t('technician.lastSeen')}</th>
                  <th scope="col">{t('technician.battery')}</th>
                  <th scope="col">{t('technician.signal')}</th>
                  <th scope="col">{t('technician.changes')}</th>
                  <th scope="col">{t('technician.problems')}</th>
                </tr>
              </thead>
              <tbody>
                {sensors.map((sensor) => (
                  <tr
                    key={sensor.id}
                    data-testid={`sensor-${sensor.id}`}
                    data-problems={sensor.problems.join(' ')}
                    className={sensor.id === selected ? 'row-selected' : sensor.problems.length > 0 ? 'row-trouble' : undefined}
                  >
                    <th scope="row">
                      <button
                        type="button"
                        className="btn btn-quiet btn-row"
                        onClick={() => setSelected(sensor.id)}
                        aria-pressed={sensor.id === selected}
                      >
                        {sensor.id} <span className="muted">({t(`sensor.${sensor.kind}`)})</span>
                      </button>
                    </th>
                    <td>
                      {sensor.roomName}
                      {sensor.residentName && <span className="muted"> · {sensor.residentName}</span>}
                    </td>
                    <td>
                      {sensor.lastSeen === null
                        ? t('technician.never')
                        : `${format(sensor.lastSeen)} (${t('technician.minutesAgo', { minutes: sensor.minutesSilent ?? 0 })})`}
                    </td>
                    <td>{sensor.battery === null ? '–' : `${sensor.battery} %`}</td>
                    <td>{sensor.signal === null ? '–' : sensor.signal}</td>
                    <td>{sensor.changesPerMinute}</td>
                    <td>{sensor.problems.length === 0 ? <span className="ok-text">{t('technician.ok')}</span> : problemText(sensor, t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        {selected !== null && siteId !== undefined && <SensorStream key={selected} siteId={siteId} sensorId={selected} bench={bench} />}
        {siteId !== undefined && <ScenarioPanel siteId={siteId} timeZone={ward.site?.timezone} bench={bench} />}
        {siteId !== undefined && <SelfTestPanel siteId={siteId} timeZone={ward.site?.timezone} />}
      </main>
    </div>
  );
}

function problemText(sensor: SensorHealth, t: TFunction): string {
  return sensor.problems
    .map((problem) => {
      switch (problem) {
        case 'offline':
          return t('technician.problem.offline');
        case 'never-seen':
          return t('technician.problem.neverSeen');
        case 'silent':
          return t('technician.problem.silent', { minutes: sensor.minutesSilent ?? 0 });
        case 'battery':
          return t('technician.problem.battery', { percent: sensor.battery ?? 0 });
        case 'signal':
          return t('technician.problem.signal', { signal: sensor.signal ?? 0 });
        case 'flapping':
          return t('technician.problem.flapping', { count: sensor.changesPerMinute });
        default:
          return problem;
      }
    })
    .join(' · ');
}
