import type { AccessLogEntry, Relatives } from '@nattevakt/protocol/relatives';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ResidentView } from '../api/admin.js';
import {
  fetchAccessLog,
  fetchRelatives,
  linkRelative,
  recordSharingConsent,
  unlinkRelative,
  withdrawSharingConsent,
} from '../api/people.js';
import { HttpError } from '../api/rest.js';
import { formatDateTime, formatDay, siteToday } from '../time/format.js';
import { ResidentChoice } from './NamedSelect.js';

const errorText = (error: unknown) => (error instanceof HttpError ? error.message : String(error));

/**
 * Relatives (server/src/routes/relatives.ts): who is linked to a resident, the resident's (or
 * guardian's) consent to share with them, and every read by a relative. A relative sees nothing
 * unless linked *and* a consent is in force; withdrawing it ends their access at once.
 */
export function RelativesPanel({
  siteId,
  residents,
  timeZone,
}: {
  siteId: string;
  residents: ResidentView[];
  timeZone: string | undefined;
}) {
  const { t } = useTranslation();
  const [chosen, setChosen] = useState('');
  const resident = residents.find((r) => r.id === chosen);
  return (
    <section className="panel" data-testid="relatives" aria-labelledby="relatives-title">
      <h2 id="relatives-title">{t('relatives.title')}</h2>
      <p className="muted">{t('relatives.intro')}</p>
      <ResidentChoice residents={residents} value={chosen} onChange={setChosen} testId="relatives-resident" />
      {resident && <ResidentRelatives key={resident.id} siteId={siteId} resident={resident} timeZone={timeZone} />}
    </section>
  );
}

function ResidentRelatives({ siteId, resident, timeZone }: { siteId: string; resident: ResidentView; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const [data, setData] = useState<Relatives | null>(null);
  const [log, setLog] = useState<AccessLogEntry[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [username, setUsername] = useState('');
  const [consent, setConsent] = useState({
    givenBy: 'resident' as 'resident' | 'guardian',
    guardianName: '',
    givenOn: siteToday(timeZone),
    note: '',
  });
  const [confirmWithdraw, setConfirmWithdraw] = useState(false);
  const [busy, setBusy] = useState(false);

  const loadLog = useCallback(() => {
    fetchAccessLog(siteId, resident.id).then(setLog, () => setLog(null));
  }, [siteId, resident.id]);
  useEffect(() => {
    fetchRelatives(siteId, resident.id).then(setData, (error: unknown) => setMessage({ ok: false, text: errorText(error) }));
    loadLog();
  }, [siteId, resident.id, loadLog]);

  const run = (action: Promise<Relatives>, text: string, after?: () => void) => {
    setBusy(true);
    action
      .then(
        (answer) => {
          setData(answer);
          setMessage({ ok: true, text });
          after?.();
          loadLog();
        },
        (error: unknown) => setMessage({ ok: false, text: errorText(error) }),
      )
      .finally(() => setBusy(false));
  };
  const link = (event: FormEvent) => {
    event.preventDefault();
    const name = username.trim();
    if (name) run(linkRelative(siteId, resident.id, name), t('relatives.linked', { username: name }), () => setUsername(''));
  };
  const guardianMissing = consent.givenBy === 'guardian' && !consent.guardianName.trim();
  const record = (event: FormEvent) => {
    event.preventDefault();
    if (guardianMissing || !consent.givenOn) return;
    run(
      recordSharingConsent(siteId, resident.id, {
        givenBy: consent.givenBy,
        givenOn: consent.givenOn,
        ...(consent.givenBy === 'guardian' ? { guardianName: consent.guardianName.trim() } : {}),
        ...(consent.note.trim() ? { note: consent.note.trim() } : {}),
      }),
      t('relatives.consentRecorded'),
    );
  };
  const current = data?.consent ?? null;

  return (
    <div className="panel" data-testid="resident-relatives">
      <p className="status-line" role="status" data-testid="relatives-message">
        {message && <span className={message.ok ? 'success-text' : 'field-error'}>{message.text}</span>}
      </p>
      <h3>{t('relatives.consentTitle')}</h3>
      {data === null ? null : current ? (
        <div data-testid="consent-current">
          <p>
            <strong className="ok-text">{t('relatives.consentInForce')}</strong>{' '}
            {current.givenBy === 'guardian'
              ? t('relatives.givenByGuardian', { name: current.guardianName ?? '', date: formatDay(current.givenOn) })
              : t('relatives.givenByResident', { date: formatDay(current.givenOn) })}
          </p>
          <p className="muted">
            {t('relatives.recordedBy', { name: current.recordedBy, when: formatDateTime(current.recordedAt, timeZone) })}
          </p>
          {current.note && <p>{current.note}</p>}
          <div className="save-row">
            {confirmWithdraw ? (
              <>
                <span className="field-error">{t('relatives.withdrawConfirm')}</span>
                <button
                  type="button"
                  className="btn btn-danger"
                  disabled={busy}
                  data-testid="consent-withdraw-confirm"
                  onClick={() =>
                    run(withdrawSharingConsent(siteId, resident.id), t('relatives.consentWithdrawn'), () => setConfirmWithdraw(false))
                  }
                >
                  {t('relatives.withdrawYes')}
                </button>
                <button type="button" className="btn btn-quiet" onClick={() => setConfirmWithdraw(false)}>
                  {t('people.cancel')}
                </button>
              </>
            ) : (
              <button type="button" className="btn" data-testid="consent-withdraw" onClick={() => setConfirmWithdraw(true)}>
                {t('relatives.withdraw')}
              </button>
            )}
          </div>
        </div>
      ) : (
        <form className="form-grid" onSubmit={record} data-testid="consent-form">
          <p className="field-error" data-testid="consent-none">
            {t('relatives.noConsent')}
          </p>
          <fieldset className="field checkbox-group">
            <legend>{t('relatives.givenBy')}</legend>
            {(['resident', 'guardian'] as const).map((who) => (
              <label key={who} className="checkbox">
                <input
                  type="radio"
                  name="givenBy"
                  value={who}
                  checked={consent.givenBy === who}
                  onChange={() => setConsent((c) => ({ ...c, givenBy: who }))}
                  data-testid={`consent-givenBy-${who}`}
                />
                {t(who === 'resident' ? 'admin.givenByResident' : 'admin.givenByGuardian')}
              </label>
            ))}
          </fieldset>
          {consent.givenBy === 'guardian' && (
            <label className="field">
              <span>{t('admin.guardianName')}</span>
              <input
                value={consent.guardianName}
                maxLength={120}
                aria-invalid={guardianMissing}
                onChange={(event) => setConsent((c) => ({ ...c, guardianName: event.target.value }))}
                data-testid="consent-guardianName"
              />
            </label>
          )}
          <label className="field">
            <span>{t('relatives.givenOn')}</span>
            <input
              type="date"
              value={consent.givenOn}
              max={siteToday(timeZone)}
              onChange={(event) => setConsent((c) => ({ ...c, givenOn: event.target.value }))}
              data-testid="consent-givenOn"
            />
          </label>
          <label className="field">
            <span>{t('admin.note')}</span>
            <input value={consent.note} maxLength={1000} onChange={(event) => setConsent((c) => ({ ...c, note: event.target.value }))} />
          </label>
          <div className="save-row">
            <button
              type="submit"
              className="btn btn-primary"
              disabled={busy || guardianMissing || !consent.givenOn}
              data-testid="consent-record"
            >
              {t('relatives.recordConsent')}
            </button>
          </div>
        </form>
      )}

      <h3>{t('relatives.linksTitle')}</h3>
      {data !== null && data.links.length === 0 && <p className="muted">{t('relatives.noLinks')}</p>}
      {data !== null && data.links.length > 0 && (
        <ul className="plain-list" data-testid="relative-links">
          {data.links.map((l) => (
            <li key={l.username} data-testid={`link-${l.username}`} className="save-row">
              <span>
                <strong>{l.displayName}</strong> <span className="muted">· {l.username}</span>{' '}
                <span className="muted">{t('relatives.linkedBy', { name: l.linkedBy, when: formatDateTime(l.linkedAt, timeZone) })}</span>
              </span>
              <button
                type="button"
                className="btn btn-quiet"
                disabled={busy}
                onClick={() => run(unlinkRelative(siteId, resident.id, l.username), t('relatives.unlinked', { username: l.username }))}
                data-testid={`unlink-${l.username}`}
              >
                {t('relatives.unlink', { name: l.displayName })}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="save-row" onSubmit={link} data-testid="link-form">
        <label className="field">
          <span>{t('relatives.username')}</span>
          <span className="field-hint" id="link-hint">
            {t('relatives.usernameHint')}
          </span>
          <input
            value={username}
            autoComplete="off"
            aria-describedby="link-hint"
            onChange={(event) => setUsername(event.target.value)}
            data-testid="link-username"
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy || !username.trim()} data-testid="link-submit">
          {t('relatives.link')}
        </button>
      </form>
      {current === null && (data?.links.length ?? 0) > 0 && <p className="field-error">{t('relatives.linkedNoConsent')}</p>}

      {data?.consents.some((c) => c.withdrawnAt !== null) && (
        <details>
          <summary>{t('relatives.historyTitle')}</summary>
          <ul className="plain-list">
            {data.consents.map((c) => (
              <li key={c.id}>
                {formatDay(c.givenOn)} · {c.givenBy === 'guardian' ? (c.guardianName ?? '') : t('admin.givenByResident')}
                {c.withdrawnAt &&
                  ` · ${t('relatives.withdrawnBy', { name: c.withdrawnBy ?? '', when: formatDateTime(c.withdrawnAt, timeZone) })}`}
              </li>
            ))}
          </ul>
        </details>
      )}

      <h3>{t('relatives.logTitle')}</h3>
      {log !== null && log.length === 0 && <p className="muted">{t('relatives.logEmpty')}</p>}
      {log !== null && log.length > 0 && (
        <div className="table-scroll">
          <table className="data-table" data-testid="access-log">
            <thead>
              <tr>
                <th scope="col">{t('relatives.logWhen')}</th>
                <th scope="col">{t('relatives.logWho')}</th>
                <th scope="col">{t('relatives.logWhat')}</th>
              </tr>
            </thead>
            <tbody>
              {log.map((entry) => (
                <tr key={entry.seq} className={entry.what.startsWith('refused:') ? 'row-trouble' : undefined}>
                  <td>{formatDateTime(entry.at, timeZone)}</td>
                  <td>{entry.username}</td>
                  <td>{accessText(entry.what, t)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** "last-night", "trend", "refused:trend", … in words. */
function accessText(what: string, t: ReturnType<typeof useTranslation>['t']): string {
  const refused = what.startsWith('refused:');
  const item = refused ? what.slice('refused:'.length) : what;
  const known = item === 'last-night' || item === 'trend' || item === 'residents';
  const text = known ? t(`relatives.what.${item}`) : item;
  return refused ? t('relatives.refused', { what: text }) : text;
}
