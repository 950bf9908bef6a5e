import type { Alarm, Outcome } from '@nattevakt/protocol/alarm';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { explainAlarm, ruleTitle } from '../alarms/explain.js';
import type { CommandOutcome } from '../api/ward-connection.js';
import { useWardConnection } from '../api/ward-context.js';
import { fromGatewayOnly, PROVISIONAL_UNCONFIRMED_MS, provisionalSince } from '../api/ward-store.js';
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
  const gatewayOnly = fromGatewayOnly(alarm);
  // Sent straight from the gateway's decision: a real alarm (looks and sounds like one), not stored yet.
  const provisionalAt = provisionalSince(alarm);
  const provisional = provisionalAt !== null;
  const unconfirmed = useLongerThan(provisionalAt, PROVISIONAL_UNCONFIRMED_MS);
  // The server has no receipt to keep for an alarm it has not stored: the stored one's card sends it.
  useReadReceipt(gatewayOnly || provisional ? null : alarm.id, connection.displayed);
  const classes = ['alarm-card', `priority-${alarm.priority}`, `status-${alarm.status}`];
  if (gatewayOnly) classes.push('from-gateway');
  if (provisional) classes.push('provisional');

  return (
    <article
      className={classes.join(' ')}
      data-testid={`alarm-${alarm.id}`}
      data-status={alarm.status}
      data-priority={alarm.priority}
      data-source={provisional ? 'provisional' : gatewayOnly ? 'gateway' : 'server'}
      data-escalation={alarm.escalationLevel}
    >
      <div className="alarm-head">
        <span className="alarm-priority">
          <span aria-hidden="true">{t(`priority.${alarm.priority}.marker`)}</span> {t(`priority.${alarm.priority}.label`)}
        </span>
        <span className="alarm-when">
          {t('alarm.raisedAt', { time: format(alarm.raisedAt) })} · {t('alarm.minutesAgo', { minutes: minutesAgo })}
        </span>
      </div>
      {alarm.escalationLevel > 0 && (
        <p className={`alarm-escalated escalated-${alarm.escalationLevel}`} data-testid={`escalated-${alarm.id}`}>
          {t(`escalation.level${alarm.escalationLevel === 1 ? 1 : 2}`)}
          {alarm.escalatedAt !== null && !simulated && ` · ${t('alarm.at', { time: format(alarm.escalatedAt) })}`}
        </p>
      )}
      {gatewayOnly && (
        <p className="alarm-gateway-only" data-testid={`gateway-only-${alarm.id}`}>
          {t('fallback.alarmFromGateway')}
        </p>
      )}
      {provisional && (
        <p className="alarm-gateway-only alarm-provisional" data-testid={`provisional-${alarm.id}`}>
          {t(unconfirmed ? 'provisional.unconfirmed' : 'provisional.note')}
        </p>
      )}
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
        <p className="alarm-unanswered">
          {t('alarm.unanswered')}
          {alarm.nextEscalationAt !== null && !simulated && ` · ${t('escalation.next', { time: format(alarm.nextEscalationAt) })}`}
        </p>
      )}
      {error !== null && (
        <p className="command-error" role="alert" data-testid={`error-${alarm.id}`}>
          {error}
        </p>
      )}
      {gatewayOnly ? (
        <p className="alarm-no-commands">{t('fallback.noCommands')}</p>
      ) : provisional ? (
        <p className="alarm-no-commands" data-testid={`no-commands-${alarm.id}`}>
          {t('provisional.noCommands')}
        </p>
      ) : choosingOutcome ? (
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

/** True once `since` (Date.now() based) is at least `ms` in the past; false while since is null. */
function useLongerThan(since: number | null, ms: number): boolean {
  const [over, setOver] = useState(() => since !== null && Date.now() - since >= ms);
  useEffect(() => {
    if (since === null) {
      setOver(false);
      return;
    }
    const left = since + ms - Date.now();
    setOver(left <= 0);
    if (left <= 0) return;
    const timer = setTimeout(() => setOver(true), left);
    return () => clearTimeout(timer);
  }, [since, ms]);
  return over;
}

/** Sends the read receipt once the card is on a visible screen (not while the tablet sleeps in a background tab). */
function useReadReceipt(alarmId: string | null, displayed: (alarmId: string) => void): void {
  useEffect(() => {
    if (alarmId === null) return;
    const confirm = () => {
      if (document.visibilityState === 'visible') displayed(alarmId);
    };
    confirm();
    document.addEventListener('visibilitychange', confirm);
    return () => document.removeEventListener('visibilitychange', confirm);
  }, [alarmId, displayed]);
}
