import { useTranslation } from 'react-i18next';
import type { AlarmSoundState } from '../alarm-sound/useAlarmSound.js';
import type { Me } from '../api/auth.js';
import { useWard } from '../api/ward-context.js';
import { useWakeLock } from '../shift/wake-lock.js';
import { formatClock } from '../time/format.js';
import { useSiteTime } from '../time/site-time.js';
import { LanguageToggle } from './LanguageToggle.js';
import { PageNav } from './PageNav.js';
import { SoundControl } from './SoundControl.js';

interface Props {
  me: Me;
  sound: AlarmSoundState;
  onEndShift: () => void;
}

export function SiteHeader({ me, sound, onEndShift }: Props) {
  const { t } = useTranslation();
  const ward = useWard();
  const { now, timeZone } = useSiteTime();
  const clock = ward.clock?.clock;
  const wakeLock = useWakeLock();

  return (
    <header className="site-header">
      <div className="site-identity">
        <h1 className="site-name" data-testid="site-name">
          {ward.site?.name ?? t('app.name')}
        </h1>
        <div className="site-clock">
          <time data-testid="site-clock">{formatClock(now, timeZone, true)}</time>
          {clock?.simulated && (
            <span className="badge badge-simulated" data-testid="clock-simulated">
              {t('header.simulated')}
              {clock.speed !== 1 && ` ${t('header.speed', { speed: clock.speed })}`}
            </span>
          )}
        </div>
      </div>
      <div className="site-status">
        <span className={`status-pill ${ward.link === 'connected' ? 'status-ok' : 'status-bad'}`} data-testid="server-status">
          {ward.link === 'connected' ? t('header.serverConnected') : t('header.serverDisconnected')}
        </span>
        {ward.gatewayConnected !== null && (
          <span className={`status-pill ${ward.gatewayConnected ? 'status-ok' : 'status-bad'}`} data-testid="gateway-status">
            {ward.gatewayConnected ? t('header.gatewayConnected') : t('header.gatewayDisconnected')}
          </span>
        )}
        {wakeLock !== 'on' && (
          <span className="status-pill status-warn" data-testid="wake-lock-status" title={t('header.screenMaySleepHint')}>
            {t('header.screenMaySleep')}
          </span>
        )}
      </div>
      <div className="site-actions">
        <SoundControl sound={sound} />
        <button type="button" className="btn btn-quiet nurse-button" data-testid="end-shift" onClick={onEndShift}>
          <span className="nurse-name" data-testid="current-nurse">
            {me.displayName}
          </span>
          <span className="nurse-switch">{t('header.switchNurse')}</span>
        </button>
        <PageNav me={me} current="board" />
        <LanguageToggle />
      </div>
    </header>
  );
}
