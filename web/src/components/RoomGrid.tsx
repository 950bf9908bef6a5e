import type { Alarm } from '@nattevakt/protocol/alarm';
import type { RoomState } from '@nattevakt/protocol/ward';
import { memo, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { roomAlarmPriorities } from '../alarms/order.js';
import { RoomTile } from './RoomTile.js';

/** Every room of the ward; each tile gets only primitives besides its own room, so unchanged tiles skip rendering. */
export const RoomGrid = memo(function RoomGrid({ rooms, openAlarms }: { rooms: readonly RoomState[]; openAlarms: readonly Alarm[] }) {
  const { t } = useTranslation();
  const priorities = useMemo(() => roomAlarmPriorities(openAlarms), [openAlarms]);
  const unanswered = useMemo(
    () => new Set(openAlarms.filter((alarm) => alarm.status === 'active').map((alarm) => alarm.roomId)),
    [openAlarms],
  );
  if (rooms.length === 0) return <p className="empty-note">{t('room.none')}</p>;
  return (
    <div className="room-grid" data-testid="room-grid">
      {rooms.map((room) => (
        <RoomTile key={room.roomId} room={room} alarm={priorities.get(room.roomId)} unanswered={unanswered.has(room.roomId)} />
      ))}
    </div>
  );
});
