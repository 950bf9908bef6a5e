import type { Alarm } from '@nattevakt/protocol/alarm';
import { useTranslation } from 'react-i18next';
import { ruleTitle } from '../alarms/explain.js';
import { instantMs } from '../api/ward-store.js';
import { useSiteTime } from '../time/site-time.js';

/** The alarms closed while this tablet watched, for the handover in the morning. */
export function NightHistory({ alarms }: { alarms: readonly Alarm[] }) {
  const { t, i18n } = useTranslation();
  const { format, simulated } = useSiteTime();
  return (
    <details className="night-history" data-testid="night-history">
      <summary>{t('history.title', { total: alarms.length })}</summary>
      {alarms.length === 0 ? (
        <p className="empty-note">{t('history.empty')}</p>
      ) : (
        <ol className="history-list">
          {alarms.map((alarm) => (
            <li key={alarm.id} className={`history-item priority-${alarm.priority}`} data-testid={`history-${alarm.id}`}>
              <span className="history-time">{format(alarm.raisedAt)}</span>
              <span className="history-what">
                <strong>
                  {alarm.roomName} · {alarm.residentName}
                </strong>{' '}
                — {ruleTitle(alarm, t, i18n.language)}
              </span>
              <span className="history-outcome">
                {alarm.outcome ? t(`outcome.${alarm.outcome}`) : t('history.noOutcome')}
                {alarm.resolvedBy && ` · ${alarm.resolvedBy}`}
                {alarm.resolvedAt && !simulated && ` · ${t('alarm.at', { time: format(alarm.resolvedAt) })}`}
                {responseText(alarm, t)}
              </span>
              {alarm.note && <span className="history-note">{alarm.note}</span>}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}

/** Both instants are on the server's clock (raisedAt is on the site clock, which may be simulated). */
function responseText(alarm: Alarm, t: ReturnType<typeof useTranslation>['t']): string {
  if (alarm.acknowledgedAt === null) return '';
  const minutes = Math.max(0, Math.round((instantMs(alarm.acknowledgedAt) - instantMs(alarm.receivedAt)) / 60_000));
  return ` · ${t('history.answeredAfter', { minutes })}`;
}
