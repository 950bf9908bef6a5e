import type { Alarm } from '@nattevakt/protocol/alarm';
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { ruleTitle } from '../alarms/explain.js';
import { instantMs } from '../api/ward-store.js';
import { useSiteTime } from '../time/site-time.js';

/**
 * Tonight's closed alarms for the handover in the morning: the server's history of the night
 * (so it survives a reload), with what this tablet saw close merged in. Memoised: room updates
 * leave its props as they were.
 */
export const NightHistory = memo(function NightHistory({
  alarms,
  loading = false,
  failed = false,
  complete = true,
}: {
  alarms: readonly Alarm[];
  /** The server's history has not answered yet. */
  loading?: boolean;
  /** The server's history could not be fetched: only what this tablet saw is listed. */
  failed?: boolean;
  /** False when the night had more closed alarms than were fetched. */
  complete?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const { format, simulated } = useSiteTime();
  return (
    <details className="night-history" data-testid="night-history" data-state={loading ? 'loading' : failed ? 'failed' : 'ready'}>
      <summary>{t('history.title', { total: alarms.length })}</summary>
      {loading && (
        <p className="empty-note" role="status">
          {t('history.loading')}
        </p>
      )}
      {failed && (
        <p className="field-error" role="status" data-testid="history-failed">
          {t('history.failed')}
        </p>
      )}
      {!complete && <p className="empty-note">{t('history.cut', { count: alarms.length })}</p>}
      {alarms.length === 0 ? (
        !loading && <p className="empty-note">{t('history.empty')}</p>
      ) : (
        <ol className="history-list">
          {alarms.map((alarm) => (
            <li key={alarm.id} className={`history-item priority-${alarm.priority}`} data-testid={`history-${alarm.id}`}>
              {/* Spaces between the parts: a screen reader reads "03:10 Rom 7", not "03:10Rom 7". */}
              <span className="history-time">{format(alarm.raisedAt)}</span>{' '}
              <span className="history-what">
                <strong>
                  {alarm.roomName} · {alarm.residentName}
                </strong>{' '}
                — {ruleTitle(alarm, t, i18n.language)}
              </span>{' '}
              <span className="history-outcome">
                {alarm.outcome ? t(`outcome.${alarm.outcome}`) : t('history.noOutcome')}
                {alarm.resolvedBy && ` · ${alarm.resolvedBy}`}
                {alarm.resolvedAt && !simulated && ` · ${t('alarm.at', { time: format(alarm.resolvedAt) })}`}
                {responseText(alarm, t)}
              </span>
              {alarm.note && <span className="history-note"> {alarm.note}</span>}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
});

/** Both instants are on the server's clock (raisedAt is on the site clock, which may be simulated). */
function responseText(alarm: Alarm, t: ReturnType<typeof useTranslation>['t']): string {
  if (alarm.acknowledgedAt === null) return '';
  const minutes = Math.max(0, Math.round((instantMs(alarm.acknowledgedAt) - instantMs(alarm.receivedAt)) / 60_000));
  return ` · ${t('history.answeredAfter', { minutes })}`;
}
