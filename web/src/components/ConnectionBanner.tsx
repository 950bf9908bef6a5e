import { useTranslation } from 'react-i18next';
import { useWard } from '../api/ward-context.js';
import { useSiteTime } from '../time/site-time.js';

/**
 * The tablet's own technical alarms. A lost link is the loudest thing on screen after a
 * patient alarm: while it lasts, new alarms cannot reach this tablet.
 */
export function ConnectionBanner() {
  const { t } = useTranslation();
  const ward = useWard();
  const { format, simulated } = useSiteTime();

  if (ward.link === 'disconnected') {
    return (
      <div className="banner banner-loud" role="alert" data-testid="connection-banner">
        <strong>{t('connection.lost')}</strong>
        <span>
          {ward.disconnectedSince !== null && !simulated && `${t('connection.since', { time: format(ward.disconnectedSince) })} · `}
          {t('connection.lostDetail')}
        </span>
      </div>
    );
  }
  if (ward.link === 'connecting') {
    return (
      <div className="banner banner-quiet" role="status" data-testid="connection-banner">
        {t('connection.connecting')}
      </div>
    );
  }
  if (ward.gatewayConnected === false) {
    return (
      <div className="banner banner-technical" role="alert" data-testid="gateway-banner">
        <strong>{t('gateway.disconnected')}</strong>
        <span>{t('gateway.disconnectedDetail')}</span>
      </div>
    );
  }
  if (ward.loadError !== null) {
    return (
      <div className="banner banner-technical" role="alert" data-testid="load-error-banner">
        <strong>{t('connection.loadFailed')}</strong>
        <span>{t('connection.retrying')}</span>
      </div>
    );
  }
  return null;
}
