import type { Alarm, Outcome } from '@nattevakt/protocol/alarm';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { explainAlarm, ruleTitle } from '../alarms/explain.js';
import type { CommandOutcome } from '../api/ward-connection.js';
import { useWardConnection } from '../api/ward-context.js';
import { minutesSince } from '../time/format.js';
import { useSiteTime } from '../time/site-time.js';
import { ResolveChoices } from './ResolveChoices.js';

interface Props {
  alarm: Alarm;
  nurse: string;
  choosingOutcome: boolean;
  onChooseOutcome: () => void;
  onCloseOutcome: () => void;
}

export function AlarmCard({ alarm, nurse, choosingOutcome, onChooseOutcome, onCloseOutcome }: Props) {
  const { t, i18n } = useTranslation();
  const connection = useWardConnection();
  const { now, format, simulated } = useSiteTime();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = (command: () => Promise<CommandOutcome>, onDone?: () => void) => {
    setBusy(true);
    setError(null);
    void command()
      .then((result) => {
        if (result.ok) onDone?.();
        else if (result.failure === 'offline') setError(t('command.offline'));
        else if (result.failure === 'timeout') setError(t('command.timeout'));
        else setError(t('command.rejected', { error: result.error }));
      })
      .catch((failure: unknown) => setError(t('command.rejected', { error: String(failure) })))
      .finally(() => setBusy(false));
  };

  const acknowledge = () => run(() => connection.acknowledge({ alarmId: alarm.id, by: nurse }));
  const resolve = (outcome: Outcome, note?: string) =>
    run(() => connection.resolve({ alarmId: alarm.id, by: nurse, outcome, ...(note ? { note } : {}) }), onCloseOutcome);

  const minutesAgo = minutesSince(alarm.raisedAt, now) ?? 0;
  const classes = ['alarm-card', `priority-${alarm.priority}`, `status-${alarm.status}`];

  return (
    <article className={classes.join(' ')} data-testid={`alarm-${alarm.id}`} data-status={alarm.status} data-priority={alarm.priority}>
      <div className="alarm-head">
        <span className="alarm-priority">
          <span aria-hidden="true">{t(`priority.${alarm.priority}.marker`)}</span> {t(`priority.${alarm.priority}.label`)}
        </span>
        <span className="alarm-when">
          {t('alarm.raisedAt', { time: format(alarm.raisedAt) })} · {t('alarm.minutesAgo', { minutes: minutesAgo })}
        </span>
      </div>
      <h3 className="alarm-where">
        {alarm.roomName} · {alarm.residentName}
      </h3>
      <p className="alarm-rule">{ruleTitle(alarm, t, i18n.language)}</p>
      <p className="alarm-explanation" data-testid={`explanation-${alarm.id}`}>
        {explainAlarm(alarm, t, format, i18n.language)}
      </p>
      {alarm.conditionClearedAt !== null && (
        <p className="alarm-cleared" data-testid={`cleared-${alarm.id}`}>
          {t('alarm.conditionCleared', { time: format(alarm.conditionClearedAt) })}
        </p>
      )}
      {alarm.status === 'acknowledged' ? (
        <p className="alarm-going" data-testid={`going-${alarm.id}`}>
          {t('alarm.going', { name: alarm.acknowledgedBy ?? t('alarm.someone') })}
          {alarm.acknowledgedAt !== null && !simulated && ` · ${t('alarm.at', { time: format(alarm.acknowledgedAt) })}`}
        </p>
      ) : (
        <p className="alarm-unanswered">{t('alarm.unanswered')}</p>
      )}
      {error !== null && (
        <p className="command-error" role="alert" data-testid={`error-${alarm.id}`}>
          {error}
        </p>
      )}
      {choosingOutcome ? (
        <ResolveChoices busy={busy} onChoose={resolve} onCancel={onCloseOutcome} />
      ) : (
        <div className="alarm-actions">
          {alarm.status === 'active' && (
            <button type="button" className="btn btn-go" data-testid={`ack-${alarm.id}`} disabled={busy} onClick={acknowledge}>
              {t('alarm.acknowledge')}
            </button>
          )}
          <button type="button" className="btn btn-resolve" data-testid={`resolve-${alarm.id}`} disabled={busy} onClick={onChooseOutcome}>
            {t('alarm.resolve')}
          </button>
        </div>
      )}
    </article>
  );
}
