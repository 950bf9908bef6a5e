import type { Alarm } from '@nattevakt/protocol/alarm';
import { memo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AlarmCard } from './AlarmCard.js';

/**
 * Every open alarm, in a panel that takes a third of the screen and cannot be closed while any
 * alarm is open; an unanswered high alarm also flashes the frame of the whole board. Memoised:
 * the board passes the same list until an alarm changes, so room updates do not render the cards.
 */
export const AlarmOverlay = memo(function AlarmOverlay({ alarms, nurse }: { alarms: readonly Alarm[]; nurse: string }) {
  const { t } = useTranslation();
  // One outcome panel at a time, so its buttons are never ambiguous.
  const [choosingFor, setChoosingFor] = useState<string | null>(null);
  if (alarms.length === 0) return null;
  const unanswered = alarms.filter((alarm) => alarm.status === 'active').length;

  return (
    <section className="alarm-overlay" data-testid="alarm-overlay" aria-label={t('alarm.overlayLabel')} aria-live="assertive">
      <h2 className="alarm-overlay-title">
        {t('alarm.openCount', { count: alarms.length })}
        {unanswered > 0 && <span className="alarm-overlay-unanswered"> · {t('alarm.unansweredCount', { count: unanswered })}</span>}
      </h2>
      <div className="alarm-list">
        {alarms.map((alarm) => (
          <AlarmCard
            key={alarm.id}
            alarm={alarm}
            nurse={nurse}
            choosingOutcome={choosingFor === alarm.id}
            onChooseOutcome={() => setChoosingFor(alarm.id)}
            onCloseOutcome={() => setChoosingFor((current) => (current === alarm.id ? null : current))}
          />
        ))}
      </div>
    </section>
  );
});
