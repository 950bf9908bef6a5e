import type { Priority } from '@nattevakt/protocol/site-config';
import type { RoomState } from '@nattevakt/protocol/ward';
import type { TFunction } from 'i18next';
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { minutesSince } from '../time/format.js';
import { useSiteTime } from '../time/site-time.js';

/** At or below this battery level a sensor is flagged before it goes silent. */
const LOW_BATTERY = 15;

interface Props {
  room: RoomState;
  /** The most urgent open alarm in this room, if any. */
  alarm: Priority | undefined;
  /** The open alarm there is still unanswered: the tile flashes with it. */
  unanswered: boolean;
}

/**
 * One room of the grid. Memoised: the store replaces only the changed room's object, so on a
 * large ward a room update renders its own tile, not all of them. The clock is read only by the
 * minutes out of bed, so its tick does not render every tile either.
 */
export const RoomTile = memo(function RoomTile({ room, alarm, unanswered }: Props) {
  const { t } = useTranslation();
  const kinds = new Set(room.sensors.map((sensor) => sensor.kind));
  const showBed = kinds.has('bed') || room.bed.occupied !== null;
  const showDoor = kinds.has('door') || room.door.open !== null;
  const unarmed = room.resident !== null && !room.resident.armed;
  const outOfBed = room.bed.occupied === false;

  const classes = ['room-tile'];
  if (alarm) classes.push(`alarm-${alarm}`, unanswered ? 'alarm-unanswered' : 'alarm-answered');
  if (unarmed) classes.push('room-unarmed');

  return (
    <article className={classes.join(' ')} data-testid={`room-${room.roomId}`} data-alarm={alarm ?? 'none'}>
      <header className="room-head">
        <h3 className="room-name">{room.roomName}</h3>
        {unarmed && <span className="badge badge-unarmed">{t('room.unprotected')}</span>}
      </header>
      <p className={room.resident ? 'resident' : 'resident resident-none'}>{room.resident?.name ?? t('room.noResident')}</p>
      <ul className="room-state">
        {showBed && (
          <li className={outOfBed ? 'state state-attention' : 'state'} data-testid={`bed-${room.roomId}`}>
            {room.bed.occupied === false ? <OutOfBed since={room.bed.since} /> : bedText(room, t)}
          </li>
        )}
        {showDoor && (
          <li className={room.door.open ? 'state state-attention' : 'state'} data-testid={`door-${room.roomId}`}>
            {doorText(room, t)}
          </li>
        )}
        {!showBed && !showDoor && <li className="state state-muted">{t('room.noSensors')}</li>}
        {room.sensors
          .filter((sensor) => sensor.online === false)
          .map((sensor) => (
            <li key={sensor.id} className="state state-fault">
              {t('room.sensorOffline', { kind: t(`sensor.${sensor.kind}`) })}
            </li>
          ))}
        {room.sensors
          .filter((sensor) => sensor.online !== false && sensor.battery !== null && sensor.battery <= LOW_BATTERY)
          .map((sensor) => (
            <li key={`${sensor.id}-battery`} className="state state-warning">
              {t('room.lowBattery', { kind: t(`sensor.${sensor.kind}`), level: sensor.battery })}
            </li>
          ))}
      </ul>
    </article>
  );
});

function bedText(room: RoomState, t: TFunction): string {
  return room.bed.occupied === null ? t('room.bedUnknown') : t('room.inBed');
}

/** "Out of bed for N minutes", counted on the site clock as it runs. */
function OutOfBed({ since }: { since: string | null }) {
  const { t } = useTranslation();
  const { now } = useSiteTime();
  const minutes = minutesSince(since, now);
  return minutes === null ? t('room.outOfBed') : t('room.outOfBedFor', { minutes });
}

function doorText(room: RoomState, t: TFunction): string {
  if (room.door.open === null) return t('room.doorUnknown');
  return room.door.open ? t('room.doorOpen') : t('room.doorClosed');
}
