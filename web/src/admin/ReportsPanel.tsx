import type { AlarmReport } from '@nattevakt/protocol/night-summary';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ruleName } from '../alarms/explain.js';
import { fetchAlarmReport, fetchLatencyReport, type LatencyReport } from '../api/admin.js';

const STAGES = ['decidedToReceived', 'receivedToFirstDelivered', 'receivedToFirstDisplayed', 'receivedToAcknowledged'] as const;

/** How long something took, in words a nurse in charge reads at a glance. */
function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The nurse in charge's reports: alarms per night and per rule with response times, and the measured delivery latency of alarms. */
export function ReportsPanel({ siteId }: { siteId: string }) {
  const { t } = useTranslation();
  const [report, setReport] = useState<AlarmReport | null | 'failed'>(null);
  const [latency, setLatency] = useState<LatencyReport | null | 'failed'>(null);
  useEffect(() => {
    fetchAlarmReport(siteId).then(setReport, () => setReport('failed'));
    fetchLatencyReport(siteId, new Date(Date.now() - 24 * 3_600_000).toISOString()).then(setLatency, () => setLatency('failed'));
  }, [siteId]);

  return (
    <>
      <section className="panel" data-testid="report-alarms">
        <h2>{t('admin.reportTitle')}</h2>
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
      <section className="panel" data-testid="report-latency">
        <h2>{t('admin.latencyTitle')}</h2>
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
    </>
  );
}

/** Alarms per night as SVG bars (hand-written, as on the relatives' page). */
function NightChart({ report, label }: { report: AlarmReport; label: string }) {
  const max = Math.max(1, ...report.nights.map((n) => n.alarms));
  const width = 560;
  const height = 140;
  const slot = width / Math.max(1, report.nights.length);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      className="chart-bars"
      role="img"
      aria-label={`${label}: ${report.nights.map((n) => `${n.night} ${n.alarms}`).join(', ')}`}
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
