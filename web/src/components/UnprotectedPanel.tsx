import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { ruleName } from '../alarms/explain.js';
import { alarmsOfSite, isOpen } from '../alarms/order.js';
import { useWard } from '../api/ward-context.js';
import { useSiteTime } from '../time/site-time.js';
import { unprotectedFromRooms, type Weakness } from '../ward/protection.js';

/** "Ubeskyttet i natt": every resident whose protection is weakened, with the reasons in words. */
export function UnprotectedPanel() {
  const { t } = useTranslation();
  const ward = useWard();
  const { now } = useSiteTime();
  // Minute resolution is enough, and keeps the list from re-rendering every second.
  const minute = Math.floor(now / 60_000);
  const list = useMemo(() => {
    const open = alarmsOfSite(ward.alarms.values(), ward.site?.id).filter(isOpen);
    return unprotectedFromRooms(ward.rooms, open, minute * 60_000);
  }, [ward.alarms, ward.rooms, ward.site?.id, minute]);

  return (
    <details className="unprotected" data-testid="unprotected-panel" open={list.length > 0} data-count={list.length}>
      <summary>{list.length === 0 ? t('unprotected.none') : t('unprotected.title', { count: list.length })}</summary>
      {list.length > 0 && (
        <ul className="unprotected-list">
          {list.map((entry) => (
            <li key={entry.residentId} className="unprotected-item" data-testid={`unprotected-${entry.residentId}`}>
              <strong>
                {entry.roomName} · {entry.residentName}
              </strong>
              <ul className="unprotected-reasons">
                {entry.reasons.map((reason) => (
                  <li key={`${reason.kind}-${'sensor' in reason ? reason.sensor : ''}`}>{weaknessText(reason, t)}</li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {list.length > 0 && <p className="unprotected-note">{t('unprotected.note')}</p>}
    </details>
  );
}

function weaknessText(reason: Weakness, t: TFunction): string {
  switch (reason.kind) {
    case 'plan-paused':
      return t('unprotected.planPaused');
    case 'no-sensors':
      return t('unprotected.noSensors');
    case 'sensor-offline':
      return t('unprotected.sensorOffline', { kind: t(`sensor.${reason.sensorKind}`) });
    case 'sensor-never-seen':
      return t('unprotected.sensorNeverSeen', { kind: t(`sensor.${reason.sensorKind}`) });
    case 'sensor-silent':
      return t('unprotected.sensorSilent', { kind: t(`sensor.${reason.sensorKind}`), minutes: reason.minutes });
    case 'low-battery':
      return t('unprotected.lowBattery', { kind: t(`sensor.${reason.sensorKind}`), percent: reason.percent });
    case 'technical-alarm':
      return t('unprotected.technicalAlarm', { rule: ruleName(reason.rule, t) });
  }
}
