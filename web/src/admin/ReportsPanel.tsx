import type { Alarm } from '@nattevakt/protocol/alarm';
import type { AlarmReport } from '@nattevakt/protocol/night-summary';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ruleName } from '../alarms/explain.js';
import {
  type DeliveryTimeline,
  fetchAlarmReport,
  fetchAlarmsReceived,
  fetchDelivery,
  fetchLatencyReport,
  type LatencyReport,
} from '../api/admin.js';
import i18n from '../i18n/index.js';
import { formatClock, formatDateTime } from '../time/format.js';

const STAGES = ['decidedToReceived', 'receivedToFirstDelivered', 'receivedToFirstDisplayed', 'receivedToAcknowledged'] as const;
const DAY_MS = 24 * 3_600_000;
/** The per-alarm view asks the server once per alarm (there is no batch endpoint), so it shows the latest this many. */
export const MAX_TIMED_ALARMS = 60;
const PARALLEL = 4;

const NARROW = '(max-width: 600px)';
const subscribeNarrow = (listener: () => void) => {
  const query = window.matchMedia(NARROW);
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
};
/** A phone: the charts are drawn for its width, so their text stays readable instead of shrinking with the picture. */
function useNarrow(): boolean {
  return useSyncExternalStore(subscribeNarrow, () => window.matchMedia(NARROW).matches);
}

/** How long something took, in words a nurse in charge reads at a glance. */
export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  // Norwegian writes a decimal comma ("1,5 s"); English a point.
  if (ms < 60_000)
    return `${(ms / 1000).toLocaleString(i18n.language === 'en' ? 'en-GB' : 'nb-NO', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The nurse in charge's reports: alarms per night and per rule with response times, and the measured delivery latency of every alarm. */
export function ReportsPanel({ siteId, timeZone }: { siteId: string; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const [report, setReport] = useState<AlarmReport | null | 'failed'>(null);
  const [latency, setLatency] = useState<LatencyReport | null | 'failed'>(null);
  useEffect(() => {
    fetchAlarmReport(siteId).then(setReport, () => setReport('failed'));
    fetchLatencyReport(siteId, new Date(Date.now() - DAY_MS).toISOString()).then(setLatency, () => setLatency('failed'));
  }, [siteId]);

  return (
    <>
      <section className="panel" data-testid="report-alarms" aria-labelledby="report-alarms-title">
        <h2 id="report-alarms-title">{t('admin.reportTitle')}</h2>
        {report === null && <p className="muted">{t('app.loading')}</p>}
        {report === 'failed' && <p className="field-error">{t('admin.failed', { error: '' })}</p>}
        {report !== null && report !== 'failed' && (
          <>
            <p>
              {t('admin.reportAlarms', {
                count: report.alarms,
                p50: duration(report.responseMs.p50),
                p90: duration(report.responseMs.p90),
              })}
            </p>
            <h3>{t('admin.perNight')}</h3>
            <NightChart report={report} label={t('admin.perNight')} />
            <p className="muted">{t('admin.nightsWithoutCheck', { count: report.nightsWithoutPhysicalCheck })}</p>
            <h3>{t('admin.byRule')}</h3>
            <div className="table-scroll">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.rule')}</th>
                    <th scope="col">{t('admin.count')}</th>
                    <th scope="col">{t('admin.falseShare')}</th>
                    <th scope="col">{t('admin.response')}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.rules.map((rule) => (
                    <tr key={rule.rule}>
                      <th scope="row">{ruleName(rule.rule, t)}</th>
                      <td>{rule.alarms}</td>
                      <td>{rule.falseAlarmShare === null ? '–' : `${Math.round(rule.falseAlarmShare * 100)} %`}</td>
                      <td>{duration(rule.responseMs.p50)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <section className="panel" data-testid="report-latency" aria-labelledby="report-latency-title">
        <h2 id="report-latency-title">{t('admin.latencyTitle')}</h2>
        {latency === null && <p className="muted">{t('app.loading')}</p>}
        {latency === 'failed' && <p className="field-error">{t('admin.failed', { error: '' })}</p>}
        {latency !== null && latency !== 'failed' && (
          <>
            <p className="muted">{t('admin.escalated', { count: latency.escalated, toLeader: latency.escalatedToNurseInCharge })}</p>
            <div className="table-scroll">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.latencyStage')}</th>
                    <th scope="col">{t('admin.latencyCount')}</th>
                    <th scope="col">{t('admin.p50')}</th>
                    <th scope="col">{t('admin.p90')}</th>
                    <th scope="col">{t('admin.max')}</th>
                  </tr>
                </thead>
                <tbody>
                  {STAGES.map((stage) => (
                    <tr key={stage}>
                      <th scope="row">{t(`admin.stage.${stage}`)}</th>
                      <td>{latency.latencyMs[stage].count}</td>
                      <td>{duration(latency.latencyMs[stage].p50)}</td>
                      <td>{duration(latency.latencyMs[stage].p90)}</td>
                      <td>{duration(latency.latencyMs[stage].max)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <AlarmDeliveries siteId={siteId} timeZone={timeZone} />
    </>
  );
}

interface Timed {
  alarm: Alarm;
  delivery: DeliveryTimeline | null;
}

/**
 * Every alarm of the last 24 hours with its measured way to the tablets: gateway → server,
 * server → first tablet's screen, and the time until someone said "Jeg går". One request per
 * alarm, a few at a time.
 */
function AlarmDeliveries({ siteId, timeZone }: { siteId: string; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const [rows, setRows] = useState<Timed[] | null | 'failed'>(null);
  const [cut, setCut] = useState(false);
  useEffect(() => {
    const aborter = new AbortController();
    setRows(null);
    const load = async () => {
      const page = await fetchAlarmsReceived(siteId, new Date(Date.now() - DAY_MS).toISOString(), MAX_TIMED_ALARMS, aborter.signal);
      setCut(page.next !== null);
      const timed: Timed[] = page.alarms.map((alarm) => ({ alarm, delivery: null }));
      let next = 0;
      const worker = async () => {
        while (next < timed.length) {
          const row = timed[next++] as Timed;
          row.delivery = await fetchDelivery(row.alarm.id, aborter.signal).catch(() => null);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      if (!aborter.signal.aborted) setRows(timed);
    };
    load().catch(() => {
      if (!aborter.signal.aborted) setRows('failed');
    });
    return () => aborter.abort();
  }, [siteId]);

  return (
    <section className="panel" data-testid="report-deliveries" aria-labelledby="report-deliveries-title">
      <h2 id="report-deliveries-title">{t('report.deliveriesTitle')}</h2>
      <p className="muted">{t('report.deliveriesIntro')}</p>
      {rows === null && <p className="muted">{t('app.loading')}</p>}
      {rows === 'failed' && <p className="field-error">{t('admin.failed', { error: '' })}</p>}
      {rows !== null && rows !== 'failed' && rows.length === 0 && <p className="muted">{t('report.noAlarms')}</p>}
      {rows !== null && rows !== 'failed' && rows.length > 0 && (
        <>
          {cut && <p className="muted">{t('report.cut', { count: rows.length })}</p>}
          <DeliveryChart rows={rows} timeZone={timeZone} />
          <div className="table-scroll">
            <table className="data-table" data-testid="deliveries-table">
              <thead>
                <tr>
                  <th scope="col">{t('report.alarm')}</th>
                  <th scope="col">{t('admin.stage.decidedToReceived')}</th>
                  <th scope="col">{t('admin.stage.receivedToFirstDelivered')}</th>
                  <th scope="col">{t('admin.stage.receivedToFirstDisplayed')}</th>
                  <th scope="col">{t('admin.stage.receivedToAcknowledged')}</th>
                  <th scope="col">{t('report.tablets')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ alarm, delivery }) => (
                  <tr key={alarm.id} data-testid={`delivery-${alarm.id}`}>
                    <th scope="row">
                      {formatDateTime(alarm.receivedAt, timeZone)} · {alarm.roomName} · {ruleName(alarm.rule, t)}
                      {alarm.escalationLevel > 0 && (
                        <span className="field-error"> · {t(`report.escalated${alarm.escalationLevel === 1 ? 1 : 2}`)}</span>
                      )}
                    </th>
                    {STAGES.map((stage) => (
                      <td key={stage}>{delivery ? duration(delivery.latencyMs[stage]) : t('report.unknown')}</td>
                    ))}
                    <td>{delivery ? delivery.devices.filter((d) => d.deliveredAt !== null).length : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/**
 * One bar per alarm, oldest at the top: gateway → server, then server → first tablet's screen,
 * on one scale in milliseconds. The table under it has every number, also for screen readers.
 */
function DeliveryChart({ rows, timeZone }: { rows: Timed[]; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const narrow = useNarrow();
  const ordered = [...rows].reverse();
  const network = (row: Timed) => Math.max(0, row.delivery?.latencyMs.decidedToReceived ?? 0);
  const display = (row: Timed) => Math.max(0, row.delivery?.latencyMs.receivedToFirstDisplayed ?? 0);
  const max = Math.max(1, ...ordered.map((row) => network(row) + display(row)));
  const rowHeight = narrow ? 26 : 22;
  const labelWidth = narrow ? 100 : 150;
  const width = narrow ? 340 : 640;
  const plot = width - labelWidth - (narrow ? 62 : 70);
  const height = ordered.length * rowHeight + 24;
  const x = (ms: number) => (ms / max) * plot;
  const slowest = ordered.reduce<Timed | null>(
    (worst, row) => (worst === null || network(row) + display(row) > network(worst) + display(worst) ? row : worst),
    null,
  );
  return (
    <figure className="latency-figure">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        className={narrow ? 'latency-chart narrow' : 'latency-chart'}
        role="img"
        aria-label={t('report.chartLabel', {
          count: ordered.length,
          max: duration(max),
          slowest: slowest ? `${formatClock(slowest.alarm.receivedAt, timeZone)} ${slowest.alarm.roomName}` : '–',
        })}
        data-testid="delivery-chart"
      >
        {ordered.map((row, i) => {
          const y = i * rowHeight + 4;
          const n = network(row);
          const d = display(row);
          return (
            <g key={row.alarm.id}>
              <text x={0} y={y + 14}>
                {formatClock(row.alarm.receivedAt, timeZone)} {row.alarm.roomName.slice(0, narrow ? 7 : 12)}
              </text>
              {row.delivery === null ? (
                <text x={labelWidth} y={y + 14}>
                  {t('report.unknown')}
                </text>
              ) : (
                <>
                  <rect className="bar-network" x={labelWidth} y={y + 3} width={x(n)} height={rowHeight - 8} />
                  <rect className="bar-display" x={labelWidth + x(n)} y={y + 3} width={x(d)} height={rowHeight - 8} />
                  <text x={labelWidth + x(n + d) + 4} y={y + 14}>
                    {row.delivery.latencyMs.receivedToFirstDisplayed === null ? t('report.notShown') : duration(n + d)}
                  </text>
                </>
              )}
            </g>
          );
        })}
        <line className="axis" x1={labelWidth} x2={labelWidth} y1={0} y2={height - 20} />
        <text x={labelWidth} y={height - 4}>
          0
        </text>
        <text x={labelWidth + plot} y={height - 4} textAnchor="end">
          {duration(max)}
        </text>
      </svg>
      <figcaption>
        <ul className="legend">
          <li>
            <span className="legend-swatch bar-network-swatch" aria-hidden="true" />
            {t('admin.stage.decidedToReceived')}
          </li>
          <li>
            <span className="legend-swatch bar-display-swatch" aria-hidden="true" />
            {t('admin.stage.receivedToFirstDisplayed')}
          </li>
        </ul>
      </figcaption>
    </figure>
  );
}

/** Alarms per night as SVG bars (hand-written, as on the relatives' page). */
function NightChart({ report, label }: { report: AlarmReport; label: string }) {
  const narrow = useNarrow();
  const max = Math.max(1, ...report.nights.map((n) => n.alarms));
  const width = narrow ? 340 : 560;
  const height = narrow ? 160 : 140;
  const slot = width / Math.max(1, report.nights.length);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      className={narrow ? 'chart-bars narrow' : 'chart-bars'}
      role="img"
      aria-label={`${label}: ${report.nights.map((n) => `${n.night} ${n.alarms}`).join(', ')}`}
      data-testid="night-chart"
    >
      {report.nights.map((night, i) => {
        const h = (night.alarms / max) * (height - 30);
        return (
          <g key={night.night}>
            <rect className="bar" x={i * slot + slot * 0.2} y={height - 18 - h} width={slot * 0.6} height={h} rx={2} />
            <text x={i * slot + slot / 2} y={height - 4} textAnchor="middle">
              {night.night.slice(8)}
            </text>
            {night.alarms > 0 && (
              <text x={i * slot + slot / 2} y={height - 22 - h} textAnchor="middle">
                {night.alarms}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
