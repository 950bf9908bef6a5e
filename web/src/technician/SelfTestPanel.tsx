import type { SelfTestLogEntry, SelfTestStage } from '@nattevakt/protocol/commissioning';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../time/format.js';
import { fetchSelfTests } from './bench-api.js';

const REFRESH_MS = 60_000;

/** The site's self-test maintenance log: each daily test passed, failed or missed, with its stages' timings. */
export function SelfTestPanel({ siteId, timeZone }: { siteId: string; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const [entries, setEntries] = useState<SelfTestLogEntry[] | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const aborter = new AbortController();
    const load = () =>
      fetchSelfTests(siteId, aborter.signal).then(
        (list) => {
          setEntries(list);
          setFailed(false);
        },
        () => !aborter.signal.aborted && setFailed(true),
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      aborter.abort();
      clearInterval(timer);
    };
  }, [siteId]);

  const stage = (name: SelfTestStage['stage']) => t(`technician.selfTest.stage.${name}`);
  return (
    <section className="panel" aria-labelledby="selftest-title" data-testid="self-test-log">
      <h2 id="selftest-title">{t('technician.selfTest.title')}</h2>
      <p className="muted">{t('technician.selfTest.hint')}</p>
      {failed && (
        <p className="field-error" role="alert">
          {t('technician.selfTest.failedToLoad')}
        </p>
      )}
      {entries !== null && entries.length === 0 && <p className="muted">{t('technician.selfTest.none')}</p>}
      {entries !== null && entries.length > 0 && (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">{t('technician.selfTest.when')}</th>
                <th scope="col">{t('technician.selfTest.result')}</th>
                <th scope="col">{t('technician.selfTest.stages')}</th>
                <th scope="col">{t('technician.selfTest.note')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id} data-testid="self-test-entry" data-result={entry.result}>
                  <td>{formatDateTime(entry.at, timeZone)}</td>
                  <td>
                    <span className={`status-pill ${entry.result === 'passed' ? 'status-ok' : 'status-bad'}`}>
                      {t(`technician.selfTest.results.${entry.result}`)}
                    </span>
                    {entry.late && <span className="muted"> · {t('technician.selfTest.late')}</span>}
                  </td>
                  <td>{entry.stages.length === 0 ? '–' : entry.stages.map((s) => `${stage(s.stage)} ${s.ms} ms`).join(' · ')}</td>
                  <td>
                    {entry.failure ?? (entry.device ? t('technician.selfTest.confirmedBy', { device: entry.device }) : '')}
                    <span className="muted"> · {entry.reportedBy === 'server' ? t('technician.selfTest.byServer') : entry.reportedBy}</span>
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
