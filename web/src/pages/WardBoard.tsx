import type { RoomState } from '@nattevakt/protocol/ward';
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useAlarmSound } from '../alarm-sound/useAlarmSound.js';
import { alarmsOfSite, openAlarmsInOrder, resolvedAlarmsInOrder } from '../alarms/order.js';
import type { Me } from '../api/auth.js';
import { useWard } from '../api/ward-context.js';
import { knownAlarms } from '../api/ward-store.js';
import { AlarmOverlay } from '../components/AlarmOverlay.js';
import { ConnectionBanner } from '../components/ConnectionBanner.js';
import { NightHistory } from '../components/NightHistory.js';
import { RoomGrid } from '../components/RoomGrid.js';
import { SiteHeader } from '../components/SiteHeader.js';
import { UnprotectedPanel } from '../components/UnprotectedPanel.js';
import { mergeHistory, useNightHistory } from '../history/night-history.js';

const NO_ROOMS: readonly RoomState[] = [];

export function WardBoard({ me, onEndShift }: { me: Me; onEndShift: () => void }) {
  const { t } = useTranslation();
  const ward = useWard();
  const siteId = ward.site?.id;
  const { alarms, fallback, provisional } = ward;
  // The rooms only name the rooms of the gateway feed's alarms and of provisional ones: without
  // those, a room update must leave the alarm lists (and so the overlay's cards) as they were.
  const feedRooms = fallback.alarms.length > 0 || provisional.size > 0 ? ward.rooms : NO_ROOMS;
  // Server alarms plus, while the server is gone, those only the gateway's feed knows, plus those
  // the server passed on before storing them. A provisional alarm stays the same object while its
  // room does, so while one is shown a room update elsewhere still leaves the lists as they were.
  const ours = useSameItems(
    useMemo(
      () => alarmsOfSite(knownAlarms({ alarms, fallback, rooms: feedRooms, provisional }), siteId),
      [alarms, fallback, feedRooms, provisional, siteId],
    ),
  );
  const open = useMemo(() => openAlarmsInOrder(ours), [ours]);
  const resolved = useMemo(() => resolvedAlarmsInOrder(ours), [ours]);
  const linkDown = ward.link === 'disconnected';
  // Tonight's history from the server (fetched again after an outage), with what closed here since merged in.
  const history = useNightHistory(siteId, ward.site?.timezone, ward.recovered?.at);
  const night = useMemo(() => mergeHistory(history.alarms, resolved, history.since), [history.alarms, resolved, history.since]);
  const sound = useAlarmSound({
    openAlarms: open,
    linkDown,
    disconnectedSince: ward.disconnectedSince,
    gatewayDown: ward.link === 'connected' && ward.gatewayConnected === false,
    escalationAt: ward.escalation?.at ?? null,
  });
  const highUnanswered = open.some((alarm) => alarm.status === 'active' && alarm.priority === 'high');

  // The tab title shows open alarms too, for a board left in a background tab on a PC.
  useEffect(() => {
    document.title = linkDown ? t('app.titleOffline') : open.length > 0 ? t('app.titleWithAlarms', { count: open.length }) : t('app.name');
  }, [open.length, linkDown, t]);

  const classes = ['ward-board'];
  if (open.length > 0) classes.push('with-alarms');
  if (highUnanswered) classes.push('high-alarm');
  if (linkDown) classes.push('link-lost');

  return (
    <div className={classes.join(' ')} data-testid="ward-board" data-sound={sound.playing ?? 'none'}>
      <SiteHeader me={me} sound={sound} onEndShift={onEndShift} />
      <ConnectionBanner />
      <main className="board-main">
        <section className="board-rooms" aria-label={t('room.gridLabel')}>
          <RoomGrid rooms={ward.rooms} openAlarms={open} />
          <UnprotectedPanel />
          {ward.reminders && ward.reminders.reminders.length > 0 && (
            <p className="reminders-note" data-testid="board-reminders">
              {t('admin.remindersOnBoard', { count: ward.reminders.reminders.length })}
            </p>
          )}
          <NightHistory
            alarms={night}
            loading={history.alarms === null && !history.failed}
            failed={history.failed}
            complete={history.complete}
          />
        </section>
        <AlarmOverlay alarms={open} nurse={me.displayName} />
      </main>
      {highUnanswered && <div className="alarm-frame" aria-hidden="true" />}
      {linkDown && !highUnanswered && <div className="alarm-frame alarm-frame-technical" aria-hidden="true" />}
    </div>
  );
}

/** The previous list while the new one holds the same items in the same order, so what is memoised on it stays. */
function useSameItems<T>(list: readonly T[]): readonly T[] {
  const previous = useRef(list);
  const known = previous.current;
  if (known !== list && (known.length !== list.length || known.some((item, index) => item !== list[index]))) previous.current = list;
  return previous.current;
}
