import type { EvaluationReminders, LegalBasis } from '@nattevakt/protocol/supervision';
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  fetchLegalBasis,
  fetchReminders,
  pausePlan,
  type ResidentView,
  recordEvaluation,
  recordLegalBasis,
  resumePlan,
} from '../api/admin.js';
import { HttpError } from '../api/rest.js';
import { formatDay, siteToday } from '../time/format.js';
import { ResidentChoice } from './NamedSelect.js';

/** Legal basis (consent or vedtak, pbrl. § 4-6 a), the evaluation reminders of the site, and pausing a plan. */
export function LegalPanel({
  siteId,
  residents,
  reload,
  timeZone,
}: {
  siteId: string;
  residents: ResidentView[];
  reload: () => void;
  timeZone: string | undefined;
}) {
  const { t } = useTranslation();
  const [reminders, setReminders] = useState<EvaluationReminders | null>(null);
  const [chosen, setChosen] = useState<string>('');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    void version;
    fetchReminders(siteId).then(setReminders, () => setReminders(null));
  }, [siteId, version]);
  const resident = residents.find((r) => r.id === chosen);
  const changed = () => {
    setVersion((v) => v + 1);
    reload();
  };

  return (
    <>
      <section className="panel" data-testid="reminders">
        <h2>{t('admin.remindersTitle')}</h2>
        {reminders === null ? null : reminders.reminders.length === 0 ? (
          <p className="muted">{t('admin.remindersNone', { days: reminders.withinDays })}</p>
        ) : (
          <ul>
            {reminders.reminders.map((r) => (
              <li key={r.legalBasisId} className={r.state === 'overdue' ? 'field-error' : undefined}>
                {t('admin.reminder', {
                  room: r.roomName,
                  name: r.residentName,
                  reference: r.reference,
                  date: formatDay(r.nextEvaluationOn),
                })}{' '}
                ({r.daysLeft < 0 ? t('admin.overdueDays', { days: -r.daysLeft }) : t('admin.inDays', { days: r.daysLeft })})
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel">
        <ResidentChoice residents={residents} value={chosen} onChange={setChosen} testId="legal-resident" />
        {resident && <ResidentLegal key={resident.id} siteId={siteId} resident={resident} onChanged={changed} timeZone={timeZone} />}
      </section>
    </>
  );
}

function ResidentLegal({
  siteId,
  resident,
  onChanged,
  timeZone,
}: {
  siteId: string;
  resident: ResidentView;
  onChanged: () => void;
  timeZone: string | undefined;
}) {
  const { t } = useTranslation();
  const [basis, setBasis] = useState<{ current: LegalBasis | null; history: LegalBasis[] } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [form, setForm] = useState<Record<string, string>>({ kind: 'vedtak', givenBy: 'resident' });
  const [pauseReason, setPauseReason] = useState('');
  const [loaded, setLoaded] = useState(0);
  useEffect(() => {
    void loaded;
    fetchLegalBasis(siteId, resident.id).then(setBasis, () => setBasis(null));
  }, [siteId, resident.id, loaded]);
  const run = (action: Promise<unknown>) =>
    action.then(
      () => {
        setMessage({ ok: true, text: t('admin.recorded') });
        setLoaded((n) => n + 1);
        onChanged();
      },
      (error: unknown) => setMessage({ ok: false, text: error instanceof HttpError ? error.message : String(error) }),
    );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: Record<string, string> = { kind: form.kind ?? 'vedtak' };
    const keys =
      form.kind === 'consent'
        ? ['givenBy', 'consentedOn', 'note', ...(form.givenBy === 'guardian' ? ['guardianName'] : [])]
        : ['decidedOn', 'nextEvaluationOn', 'reference', 'note'];
    for (const key of keys) if (form[key]?.trim()) body[key] = form[key].trim();
    void run(recordLegalBasis(siteId, resident.id, body));
  };
  const field = (key: string, type: 'date' | 'text' = 'text') => (
    <label className="field" key={key}>
      <span>{t(`admin.${key}` as 'admin.note')}</span>
      <input
        type={type}
        value={form[key] ?? ''}
        onChange={(event) => setForm((f) => ({ ...f, [key]: event.target.value }))}
        data-testid={`legal-${key}`}
      />
    </label>
  );
  const current = basis?.current;
  return (
    <div className="panel" data-testid="resident-legal">
      <p>
        <strong>{t(`admin.legalKind.${current?.kind ?? 'none'}`)}</strong>
        {current?.reference && ` · ${current.reference}`}
        {current?.nextEvaluationOn && ` · ${t('admin.nextEvaluation', { date: formatDay(current.nextEvaluationOn) })}`}
        {current && current.evaluation !== 'not-applicable' && ` · ${t(`admin.evaluation.${current.evaluation}`)}`}
      </p>
      <p>
        {t('admin.status')}: {t(`admin.state.${resident.status.state}`)}
        {resident.status.reason && ` – ${resident.status.reason}`}
      </p>
      {current?.kind === 'vedtak' && (
        <div className="save-row">
          <button
            type="button"
            className="btn"
            onClick={() => {
              // The evaluation is done today on the ward's calendar, not in UTC.
              const today = siteToday(timeZone);
              void run(recordEvaluation(siteId, resident.id, { evaluatedOn: today, nextEvaluationOn: form.nextEvaluationOn || today }));
            }}
          >
            {t('admin.evaluate')}
          </button>
        </div>
      )}
      <div className="save-row">
        {resident.status.state === 'paused' ? (
          <button type="button" className="btn" onClick={() => void run(resumePlan(siteId, resident.id))} data-testid="plan-resume">
            {t('admin.resume')}
          </button>
        ) : (
          <>
            <label className="field">
              <span>{t('admin.pauseReason')}</span>
              <input value={pauseReason} onChange={(event) => setPauseReason(event.target.value)} data-testid="pause-reason" />
            </label>
            <button
              type="button"
              className="btn"
              disabled={!pauseReason.trim()}
              onClick={() => void run(pausePlan(siteId, resident.id, pauseReason.trim()))}
              data-testid="plan-pause"
            >
              {t('admin.pause')}
            </button>
          </>
        )}
      </div>
      <form onSubmit={submit} className="form-grid" data-testid="legal-form">
        <h3>{t('admin.recordTitle')}</h3>
        <label className="field">
          <span>{t('admin.kind')}</span>
          <select value={form.kind} onChange={(event) => setForm((f) => ({ ...f, kind: event.target.value }))} data-testid="legal-kind">
            <option value="vedtak">{t('admin.legalKind.vedtak')}</option>
            <option value="consent">{t('admin.legalKind.consent')}</option>
          </select>
        </label>
        {form.kind === 'consent' ? (
          <>
            <label className="field">
              <span>{t('admin.givenBy')}</span>
              <select value={form.givenBy} onChange={(event) => setForm((f) => ({ ...f, givenBy: event.target.value }))}>
                <option value="resident">{t('admin.givenByResident')}</option>
                <option value="guardian">{t('admin.givenByGuardian')}</option>
              </select>
            </label>
            {form.givenBy === 'guardian' && field('guardianName')}
            {field('consentedOn', 'date')}
          </>
        ) : (
          <>
            {field('decidedOn', 'date')}
            {field('nextEvaluationOn', 'date')}
            {field('reference')}
          </>
        )}
        {field('note')}
        <div className="save-row">
          <button type="submit" className="btn btn-primary" data-testid="legal-record">
            {t('admin.record')}
          </button>
          {message && (
            <span className={message.ok ? 'success-text' : 'field-error'} role="status" data-testid="legal-message">
              {message.text}
            </span>
          )}
        </div>
      </form>
    </div>
  );
}
