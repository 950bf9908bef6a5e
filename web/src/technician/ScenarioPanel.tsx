import type { ScenarioInfo, ScenarioProgress, ScenarioRun, ScenarioRunRequest } from '@nattevakt/protocol/commissioning';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatClock, formatDateTime } from '../time/format.js';
import { BenchError, fetchScenarioRun, fetchScenarioRuns, fetchScenarios, startScenarioRun } from './bench-api.js';
import type { BenchSocket } from './bench-socket.js';

const MAX_FILE_BYTES = 48 * 1024;
type Kind = 'missing' | 'count' | 'forbidden' | 'unexpected';
const KINDS: ReadonlySet<string> = new Set<Kind>(['missing', 'count', 'forbidden', 'unexpected']);
const FALLBACK_POLL_MS = 2_000;

/**
 * Runs a simulator scenario against the site's gateway (a test or commissioning gateway on a
 * simulated clock): a built-in one or a file from this computer. Progress and the verdict come
 * over the bench's /staff link (read from the server every two seconds while it is down); the
 * last runs and their verdicts are listed below.
 */
export function ScenarioPanel({ siteId, timeZone, bench }: { siteId: string; timeZone: string | undefined; bench: BenchSocket }) {
  const { t } = useTranslation();
  const [scenarios, setScenarios] = useState<ScenarioInfo[] | null>(null);
  const [choice, setChoice] = useState('');
  const [upload, setUpload] = useState<{ name: string; text: string } | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<BenchError | null>(null);
  const [current, setCurrent] = useState<ScenarioRun | null>(null);
  const [progress, setProgress] = useState<ScenarioProgress | null>(null);
  const [runs, setRuns] = useState<ScenarioRun[]>([]);
  const [starting, setStarting] = useState(false);
  const [loadFailed, setLoadFailed] = useState<string | null>(null);

  useEffect(() => {
    const aborter = new AbortController();
    fetchScenarios(aborter.signal).then(
      (list) => {
        setScenarios(list);
        setChoice((c) => c || list[0]?.name || '');
      },
      (error: unknown) => !aborter.signal.aborted && setLoadFailed(String(error instanceof Error ? error.message : error)),
    );
    fetchScenarioRuns(siteId, aborter.signal).then(setRuns, () => undefined);
    return () => aborter.abort();
  }, [siteId]);

  const runId = current?.status === 'running' ? current.id : null;
  useEffect(() => {
    if (runId === null) return;
    const finish = (run: ScenarioRun) => {
      if (run.id !== runId || run.status === 'running') return;
      setCurrent(run);
      setRuns((known) => [run, ...known.filter((r) => r.id !== run.id)].slice(0, 10));
    };
    const offProgress = bench.onProgress((p) => p.runId === runId && setProgress(p));
    const offFinished = bench.onFinished(finish);
    // Without the live link the verdict is read from the server.
    const timer = setInterval(() => {
      if (!bench.connected) fetchScenarioRun(siteId, runId).then(finish, () => undefined);
    }, FALLBACK_POLL_MS);
    return () => {
      offProgress();
      offFinished();
      clearInterval(timer);
    };
  }, [bench, siteId, runId]);

  const start = (request: ScenarioRunRequest) => {
    setStarting(true);
    setRefusal(null);
    setProgress(null);
    startScenarioRun(siteId, request).then(
      (run) => {
        setCurrent(run);
        setRuns((known) => [run, ...known].slice(0, 10));
        setStarting(false);
      },
      (error: unknown) => {
        setRefusal(error instanceof BenchError ? error : new BenchError(0, String(error), []));
        setStarting(false);
      },
    );
  };

  const readFile = (file: File | undefined) => {
    setUploadError(null);
    setUpload(null);
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setUploadError(t('technician.scenario.tooLarge', { kb: Math.round(MAX_FILE_BYTES / 1024) }));
      return;
    }
    file.text().then(
      (text) => setUpload({ name: file.name, text }),
      () => setUploadError(t('technician.scenario.unreadable')),
    );
  };

  const running = current?.status === 'running';
  return (
    <section className="panel" aria-labelledby="simulator-title" data-testid="scenario-panel">
      <h2 id="simulator-title">{t('technician.simulatorTitle')}</h2>
      <p className="muted">{t('technician.scenario.hint')}</p>
      {loadFailed && (
        <p className="field-error" role="alert">
          {t('technician.scenario.unavailable')} ({loadFailed})
        </p>
      )}
      <div className="form-grid">
        <label className="field">
          {t('technician.scenario.builtIn')}
          <select value={choice} onChange={(e) => setChoice(e.target.value)} data-testid="scenario-choice" disabled={scenarios === null}>
            {(scenarios ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
                {s.title ? ` – ${s.title}` : ''}
              </option>
            ))}
          </select>
        </label>
        <div className="field">
          <span aria-hidden="true">&nbsp;</span>
          <button
            type="button"
            className="btn btn-primary"
            disabled={running || starting || choice === ''}
            onClick={() => start({ scenario: choice })}
            data-testid="run-scenario"
          >
            {t('technician.scenario.run')}
          </button>
        </div>
        <label className="field">
          {t('technician.scenario.file')}
          <input type="file" accept=".yaml,.yml,.json" onChange={(e) => readFile(e.target.files?.[0])} data-testid="scenario-file" />
          {uploadError && <span className="field-error">{uploadError}</span>}
        </label>
        <div className="field">
          <span aria-hidden="true">&nbsp;</span>
          <button
            type="button"
            className="btn"
            disabled={running || starting || upload === null}
            onClick={() => upload && start({ file: upload.text, fileName: upload.name })}
            data-testid="run-upload"
          >
            {t('technician.scenario.runFile')}
          </button>
        </div>
      </div>

      {refusal && (
        <div className="field-error" role="alert" data-testid="scenario-refused">
          <p>{refusal.message}</p>
          {refusal.details.length > 0 && (
            <ul className="plain-list">
              {refusal.details.map((d) => (
                <li key={d}>
                  <code>{d}</code>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}

      {current && (
        <div data-testid="scenario-current" data-status={current.status} aria-live="polite">
          <h3>
            {current.scenario} · {t('technician.scenario.night', { night: current.night })}
          </h3>
          {running ? (
            <>
              <progress
                max={1}
                value={progress?.fraction ?? 0}
                style={{ width: '100%', height: 24 }}
                aria-label={t('technician.scenario.progress')}
              />
              <p className="muted" data-testid="scenario-progress">
                {progress
                  ? t('technician.scenario.progressText', {
                      percent: Math.round(progress.fraction * 100),
                      time: formatClock(progress.simTime, timeZone),
                      sent: progress.sent,
                      alarms: progress.alarms,
                    })
                  : t('technician.scenario.starting')}
              </p>
            </>
          ) : (
            <Verdict run={current} />
          )}
        </div>
      )}

      <h3>{t('technician.scenario.history')}</h3>
      {runs.length === 0 ? (
        <p className="muted">{t('technician.scenario.none')}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="scenario-runs">
            <thead>
              <tr>
                <th scope="col">{t('technician.scenario.started')}</th>
                <th scope="col">{t('technician.scenario.name')}</th>
                <th scope="col">{t('technician.scenario.by')}</th>
                <th scope="col">{t('technician.scenario.verdict')}</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.id}>
                  <td>{formatDateTime(run.startedAt, timeZone)}</td>
                  <td>
                    {run.scenario}{' '}
                    <span className="muted">
                      ({run.source === 'upload' ? t('technician.scenario.uploaded') : t('technician.scenario.builtInShort')})
                    </span>
                  </td>
                  <td>{run.startedBy}</td>
                  <td>
                    <StatusPill run={run} />
                    {run.differences.length > 0 && (
                      <span className="muted"> · {t('technician.scenario.differences', { count: run.differences.length })}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StatusPill({ run }: { run: ScenarioRun }) {
  const { t } = useTranslation();
  const css = run.status === 'passed' ? 'status-ok' : run.status === 'running' ? 'status-warn' : 'status-bad';
  return <span className={`status-pill ${css}`}>{t(`technician.scenario.status.${run.status}`)}</span>;
}

function Verdict({ run }: { run: ScenarioRun }) {
  const { t } = useTranslation();
  return (
    <div data-testid="scenario-verdict">
      <p>
        <StatusPill run={run} />{' '}
        {run.status === 'error'
          ? run.error
          : t('technician.scenario.summary', {
              sent: run.sent,
              alarms: run.alarms.length,
              seconds: ((run.durationMs ?? 0) / 1000).toFixed(1),
            })}
      </p>
      {run.differences.length > 0 && (
        <>
          <h4>{t('technician.scenario.differencesTitle')}</h4>
          <ul className="plain-list" data-testid="scenario-differences">
            {run.differences.map((d) => (
              <li key={`${d.kind}:${d.text}`}>
                <strong>{KINDS.has(d.kind) ? t(`technician.scenario.kind.${d.kind as Kind}`) : d.kind}</strong> <code>{d.text}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {run.alarms.length > 0 && (
        <>
          <h4>{t('technician.scenario.alarmsTitle')}</h4>
          <ul className="plain-list">
            {run.alarms.map((a) => (
              <li key={a}>
                <code>{a}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {run.hint && <p className="field-hint">{run.hint}</p>}
    </div>
  );
}
