import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useAlarmSound } from '../alarm-sound/useAlarmSound.js';
import { alarmsOfSite, openAlarmsInOrder, resolvedAlarmsInOrder } from '../alarms/order.js';
import { useWard } from '../api/ward-context.js';
import { AlarmOverlay } from '../components/AlarmOverlay.js';
import { ConnectionBanner } from '../components/ConnectionBanner.js';
import { NightHistory } from '../components/NightHistory.js';
import { RoomGrid } from '../components/RoomGrid.js';
import { SiteHeader } from '../components/SiteHeader.js';

export function WardBoard({ nurse, onEndShift }: { nurse: string; onEndShift: () => void }) {
  const { t } = useTranslation();
  const ward = useWard();
  const siteId = ward.site?.id;
  const ours = useMemo(() => alarmsOfSite(ward.alarms.values(), siteId), [ward.alarms, siteId]);
  const open = useMemo(() => openAlarmsInOrder(ours), [ours]);
  const resolved = useMemo(() => resolvedAlarmsInOrder(ours), [ours]);
  const sound = useAlarmSound({
    openAlarms: open,
    linkDown: ward.link === 'disconnected',
    disconnectedSince: ward.disconnectedSince,
    gatewayDown: ward.link === 'connected' && ward.gatewayConnected === false,
  });
  const highUnanswered = open.some((alarm) => alarm.status === 'active' && alarm.priority === 'high');

  // The tab title shows open alarms too, for a board left in a background tab on a PC.
  useEffect(() => {
    document.title = open.length > 0 ? t('app.titleWithAlarms', { count: open.length }) : t('app.name');
  }, [open.length, t]);

  const classes = ['ward-board'];
  if (open.length > 0) classes.push('with-alarms');
  if (highUnanswered) classes.push('high-alarm');

  return (
    <div className={classes.join(' ')}>
      <SiteHeader nurse={nurse} sound={sound} onEndShift={onEndShift} />
      <ConnectionBanner />
      <main className="board-main">
        <section className="board-rooms" aria-label={t('room.gridLabel')}>
          <RoomGrid rooms={ward.rooms} openAlarms={open} />
          <NightHistory alarms={resolved} />
        </section>
        <AlarmOverlay alarms={open} nurse={nurse} />
      </main>
      {highUnanswered && <div className="alarm-frame" aria-hidden="true" />}
    </div>
  );
}
