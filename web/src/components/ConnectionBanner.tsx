import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useWard } from '../api/ward-context.js';
import { useSiteTime } from '../time/site-time.js';

/** How long "back in contact" stays on screen after an outage. */
const RECOVERED_NOTICE_MS = 15_000;

/**
 * The tablet's own technical alarms. A lost link is the loudest thing on screen after a
 * patient alarm (IEC 60601-1-8: a distributed alarm system alarms when its communication
 * fails): while it lasts, new alarms may not reach this tablet. It says whether the gateway's
 * local feed stands in, and after the outage how much the resync brought.
 */
export function ConnectionBanner() {
  const { t } = useTranslation();
  const ward = useWard();
  const { format, simulated } = useSiteTime();
  const recentlyRecovered = useRecent(ward.recovered?.at ?? null, RECOVERED_NOTICE_MS);

  if (ward.link === 'disconnected') {
    const fallback = ward.fallback.status;
    return (
      <div className="server-lost" role="alert" data-testid="connection-banner" data-fallback={fallback}>
        <div className="server-lost-head">
          <span className="server-lost-icon" aria-hidden="true">
            !
          </span>
          <strong className="server-lost-title">{t('connection.lost')}</strong>
        </div>
        <p className="server-lost-detail">
          {ward.disconnectedSince !== null && !simulated && `${t('connection.since', { time: format(ward.disconnectedSince) })} · `}
          {fallback === 'connected' ? t('connection.lostDetailFallback') : t('connection.lostDetail')}
        </p>
        <p className={`fallback-state fallback-${fallback}`} data-testid="fallback-state">
          {t(`fallback.${fallback}`)}
        </p>
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
  if (recentlyRecovered && ward.recovered) {
    return (
      <div className="banner banner-recovered" role="status" data-testid="resync-notice">
        <strong>{t('connection.back')}</strong>
        <span>{t('connection.backResynced', { count: ward.recovered.changes })}</span>
      </div>
    );
  }
  return null;
}

/** True for `ms` after `since` (Date.now() based). */
function useRecent(since: number | null, ms: number): boolean {
  const [recent, setRecent] = useState(false);
  useEffect(() => {
    if (since === null) return;
    const left = since + ms - Date.now();
    setRecent(left > 0);
    if (left <= 0) return;
    const timer = setTimeout(() => setRecent(false), left);
    return () => clearTimeout(timer);
  }, [since, ms]);
  return recent;
}
