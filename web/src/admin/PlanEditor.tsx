import type { WhatIfResult } from '@nattevakt/protocol/night-summary';
import type { CarePriority } from '@nattevakt/protocol/site-config';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ResidentView, savePlan, whatIf } from '../api/admin.js';
import { HttpError } from '../api/rest.js';
import { type FieldError, formFromPlan, type PlanField, type PlanForm, planFromForm } from './plan-form.js';

const WHAT_IF_SETTLE_MS = 700;
const PRIORITIES: CarePriority[] = ['high', 'medium', 'low'];
type RuleName = 'doorOpenAtNight' | 'outOfBedTooLong' | 'bedExit' | 'doorLeftOpen' | 'notInBedBy';

/**
 * A resident's supervision plan (tilsynsplan): every rule with its setting, said in words as
 * you type; each field checked as you type; and before saving, how many alarms the last 14
 * recorded nights would have raised with this plan compared with the current one (the server's
 * what-if replay).
 */
export function PlanEditor({
  siteId,
  resident,
  canEdit,
  onSaved,
}: {
  siteId: string;
  resident: ResidentView;
  canEdit: boolean;
  onSaved: () => void;
}) {
  const { t } = useTranslation();
  const [form, setForm] = useState<PlanForm>(() => formFromPlan(resident.plan));
  const { plan, errors } = useMemo(() => planFromForm(form, resident.plan), [form, resident.plan]);
  const changed = plan !== null && JSON.stringify({ ...plan, armed: resident.plan.armed }) !== JSON.stringify(normalised(resident));
  const [preview, setPreview] = useState<{ state: 'idle' | 'loading' | 'failed'; result?: WhatIfResult; error?: string }>({
    state: 'idle',
  });
  const [saving, setSaving] = useState<'idle' | 'saving' | 'saved' | { error: string }>('idle');

  useEffect(() => {
    if (plan === null || !changed) {
      setPreview({ state: 'idle' });
      return;
    }
    const aborter = new AbortController();
    setPreview((current) => ({ ...current, state: 'loading' }));
    const timer = setTimeout(() => {
      whatIf(siteId, resident.id, { ...plan, armed: resident.plan.armed }, aborter.signal).then(
        (result) => setPreview({ state: 'idle', result }),
        (error: unknown) =>
          !aborter.signal.aborted && setPreview({ state: 'failed', error: error instanceof Error ? error.message : String(error) }),
      );
    }, WHAT_IF_SETTLE_MS);
    return () => {
      aborter.abort();
      clearTimeout(timer);
    };
  }, [plan, changed, siteId, resident.id, resident.plan.armed]);

  const set = (patch: (draft: PlanForm) => PlanForm) => {
    setSaving('idle');
    setForm(patch);
  };
  const save = () => {
    if (plan === null) return;
    setSaving('saving');
    savePlan(siteId, resident.id, plan).then(
      () => {
        setSaving('saved');
        onSaved();
      },
      (error: unknown) => setSaving({ error: error instanceof HttpError ? error.message : String(error) }),
    );
  };

  const errorOf = (field: PlanField) => errors[field];
  const name = resident.name;
  const words = {
    start: form.nightStart,
    end: form.nightEnd,
    name,
  };
  const explain = (rule: RuleName): string => {
    const on = form[rule].enabled;
    if (!on) return t(`plan.off.${rule}`, { name });
    const priority = t(`priority.${form[rule].priority}.label`).toLowerCase();
    switch (rule) {
      case 'doorOpenAtNight':
        return t('plan.words.doorOpenAtNight', { ...words, priority });
      case 'outOfBedTooLong':
        return t('plan.words.outOfBedTooLong', { ...words, priority, minutes: form.outOfBedTooLong.minutes || '?' });
      case 'bedExit':
        return t('plan.words.bedExit', {
          ...words,
          priority,
          delay: form.bedExit.delaySeconds || '0',
          grace: form.bedGraceSeconds || '30',
        });
      case 'doorLeftOpen':
        return t('plan.words.doorLeftOpen', { ...words, priority, minutes: form.doorLeftOpen.minutes || '?' });
      case 'notInBedBy':
        return t('plan.words.notInBedBy', { ...words, priority, time: form.notInBedBy.time || '?' });
    }
  };

  const priorityPicker = (rule: RuleName) => (
    <label className="field">
      <span>{t('plan.priority')}</span>
      <select
        data-testid={`plan-${rule}-priority`}
        value={form[rule].priority}
        disabled={!canEdit || !form[rule].enabled}
        onChange={(event) => set((f) => ({ ...f, [rule]: { ...f[rule], priority: event.target.value as CarePriority } }))}
      >
        {PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {t(`priority.${p}.label`)}
          </option>
        ))}
      </select>
    </label>
  );
  const rule = (which: RuleName, settings: ReactNode) => (
    // A group named by its rule, so a screen reader says which rule's "Minutter" a field is.
    <fieldset className="rule-row" aria-labelledby={`rule-name-${which}`} data-testid={`rule-${which}`}>
      <div>
        <label className="rule-toggle">
          <input
            type="checkbox"
            data-testid={`plan-${which}-enabled`}
            checked={form[which].enabled}
            disabled={!canEdit}
            onChange={(event) => set((f) => ({ ...f, [which]: { ...f[which], enabled: event.target.checked } }))}
          />
          <span id={`rule-name-${which}`}>{t(`plan.rule.${which}`)}</span>
        </label>
        <p className={form[which].enabled ? 'rule-words' : 'rule-words off'} data-testid={`explain-${which}`} aria-live="polite">
          {explain(which)}
        </p>
      </div>
      <div className="form-grid">
        {settings}
        {priorityPicker(which)}
      </div>
    </fieldset>
  );

  return (
    <section className="panel" data-testid="plan-editor" aria-labelledby="plan-title">
      <h3 id="plan-title">{t('plan.title', { name })}</h3>
      <p className="muted">{resident.plan.armed ? t('plan.armed') : t('plan.notArmed')}</p>
      <div className="form-grid">
        <TextField
          label={t('plan.nightStart')}
          testId="plan-nightStart"
          type="time"
          value={form.nightStart}
          error={errorOf('nightStart')}
          disabled={!canEdit}
          onChange={(v) => set((f) => ({ ...f, nightStart: v }))}
        />
        <TextField
          label={t('plan.nightEnd')}
          testId="plan-nightEnd"
          type="time"
          value={form.nightEnd}
          error={errorOf('nightEnd')}
          disabled={!canEdit}
          onChange={(v) => set((f) => ({ ...f, nightEnd: v }))}
        />
      </div>
      {rule('doorOpenAtNight', null)}
      {rule(
        'outOfBedTooLong',
        <TextField
          label={t('plan.minutes')}
          testId="plan-outOfBedTooLong-minutes"
          inputMode="numeric"
          value={form.outOfBedTooLong.minutes}
          error={errorOf('outOfBedTooLong.minutes')}
          disabled={!canEdit || !form.outOfBedTooLong.enabled}
          onChange={(v) => set((f) => ({ ...f, outOfBedTooLong: { ...f.outOfBedTooLong, minutes: v } }))}
        />,
      )}
      {rule(
        'bedExit',
        <TextField
          label={t('plan.delaySeconds')}
          testId="plan-bedExit-delaySeconds"
          inputMode="numeric"
          value={form.bedExit.delaySeconds}
          error={errorOf('bedExit.delaySeconds')}
          disabled={!canEdit || !form.bedExit.enabled}
          onChange={(v) => set((f) => ({ ...f, bedExit: { ...f.bedExit, delaySeconds: v } }))}
        />,
      )}
      {rule(
        'doorLeftOpen',
        <TextField
          label={t('plan.minutes')}
          testId="plan-doorLeftOpen-minutes"
          inputMode="numeric"
          value={form.doorLeftOpen.minutes}
          error={errorOf('doorLeftOpen.minutes')}
          disabled={!canEdit || !form.doorLeftOpen.enabled}
          onChange={(v) => set((f) => ({ ...f, doorLeftOpen: { ...f.doorLeftOpen, minutes: v } }))}
        />,
      )}
      {rule(
        'notInBedBy',
        <TextField
          label={t('plan.time')}
          testId="plan-notInBedBy-time"
          type="time"
          value={form.notInBedBy.time}
          error={errorOf('notInBedBy.time')}
          disabled={!canEdit || !form.notInBedBy.enabled}
          onChange={(v) => set((f) => ({ ...f, notInBedBy: { ...f.notInBedBy, time: v } }))}
        />,
      )}
      <div className="form-grid">
        <TextField
          label={t('plan.bedGraceSeconds')}
          hint={t('plan.bedGraceHint')}
          testId="plan-bedGraceSeconds"
          inputMode="numeric"
          placeholder="30"
          value={form.bedGraceSeconds}
          error={errorOf('bedGraceSeconds')}
          disabled={!canEdit}
          onChange={(v) => set((f) => ({ ...f, bedGraceSeconds: v }))}
        />
        <TextField
          label={t('plan.silentMinutes')}
          hint={t('plan.silentHint')}
          testId="plan-silentMinutes"
          inputMode="numeric"
          value={form.silentMinutes}
          error={errorOf('silentMinutes')}
          disabled={!canEdit}
          onChange={(v) => set((f) => ({ ...f, silentMinutes: v }))}
        />
      </div>
      <div
        className="whatif"
        data-testid="whatif"
        data-state={preview.result && preview.state === 'idle' ? 'ready' : preview.state}
        aria-live="polite"
      >
        {plan === null ? (
          <p className="muted">{t('plan.whatIf.fixFirst')}</p>
        ) : !changed ? (
          <p className="muted">{t('plan.whatIf.unchanged')}</p>
        ) : preview.state === 'loading' ? (
          <p className="muted">{t('plan.whatIf.loading')}</p>
        ) : preview.state === 'failed' ? (
          <p className="field-error">{t('plan.whatIf.failed', { error: preview.error ?? '' })}</p>
        ) : preview.result ? (
          <p data-testid="whatif-result">
            <strong>
              {t('plan.whatIf.proposed', { count: preview.result.totals.proposed.total, nights: preview.result.nights.length })}
            </strong>{' '}
            {t('plan.whatIf.current', { count: preview.result.totals.current.total })}{' '}
            {t('plan.whatIf.recorded', { count: preview.result.totals.recorded.total })}
          </p>
        ) : null}
      </div>
      {canEdit && (
        <div className="save-row">
          <button
            type="button"
            className="btn btn-primary"
            data-testid="plan-save"
            disabled={plan === null || !changed || saving === 'saving'}
            onClick={save}
          >
            {t('plan.save')}
          </button>
          {Object.keys(errors).length > 0 && (
            <span className="field-error" data-testid="plan-has-errors">
              {t('plan.hasErrors', { count: Object.keys(errors).length })}
            </span>
          )}
          {saving === 'saved' && (
            <span className="success-text" data-testid="plan-saved" role="status">
              {t('plan.saved')}
            </span>
          )}
          {typeof saving === 'object' && (
            <span className="field-error" role="alert" data-testid="plan-save-error">
              {saving.error}
            </span>
          )}
        </div>
      )}
    </section>
  );
}

/** The stored plan in the shape the form produces, to tell whether anything changed. */
function normalised(resident: ResidentView) {
  const { plan } = planFromForm(formFromPlan(resident.plan), resident.plan);
  return { ...plan, armed: resident.plan.armed };
}

function TextField(props: {
  label: string;
  hint?: string;
  testId: string;
  value: string;
  error: FieldError | undefined;
  disabled: boolean;
  type?: 'time' | 'text';
  inputMode?: 'numeric';
  placeholder?: string;
  onChange: (value: string) => void;
}) {
  const { t } = useTranslation();
  const errorId = `${props.testId}-error`;
  return (
    <label className="field">
      <span>{props.label}</span>
      {props.hint && <span className="field-hint">{props.hint}</span>}
      <input
        data-testid={props.testId}
        // Clock times are typed as 24-hour TT:MM text: a native time input shows AM/PM in an English browser.
        type="text"
        inputMode={props.inputMode}
        placeholder={props.type === 'time' ? '22:00' : props.placeholder}
        maxLength={props.type === 'time' ? 5 : undefined}
        autoComplete="off"
        value={props.value}
        disabled={props.disabled}
        aria-invalid={props.error !== undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.error && (
        <span className="field-error" id={errorId} data-testid={`error-${props.testId}`}>
          {t(`plan.error.${props.error.key}`, { min: props.error.min, max: props.error.max })}
        </span>
      )}
    </label>
  );
}
