import type { Alarm } from '@nattevakt/protocol/alarm';
import type { Priority } from '@nattevakt/protocol/site-config';
import { instantMs } from '../api/ward-store.js';

const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2, technical: 3 };

export function priorityRank(priority: Priority): number {
  return RANK[priority] ?? 4;
}

export function isOpen(alarm: Alarm): boolean {
  return alarm.status !== 'resolved';
}

/**
 * The alarms of the ward this board shows. The server broadcasts every site's alarms on
 * `/staff`; until the site is known, all are shown rather than risk hiding one.
 */
export function alarmsOfSite(alarms: Iterable<Alarm>, siteId: string | undefined): Alarm[] {
  const all = [...alarms];
  return siteId === undefined ? all : all.filter((alarm) => alarm.siteId === siteId);
}

/**
 * Open alarms, the ones nobody has answered first (they need a nurse), then by priority,
 * then newest first.
 */
export function openAlarmsInOrder(alarms: Iterable<Alarm>): Alarm[] {
  return [...alarms]
    .filter(isOpen)
    .sort(
      (a, b) =>
        Number(a.status !== 'active') - Number(b.status !== 'active') ||
        priorityRank(a.priority) - priorityRank(b.priority) ||
        instantMs(b.raisedAt) - instantMs(a.raisedAt),
    );
}

/** Resolved alarms, the most recently closed first. */
export function resolvedAlarmsInOrder(alarms: Iterable<Alarm>): Alarm[] {
  return [...alarms].filter((alarm) => alarm.status === 'resolved').sort((a, b) => instantMs(b.resolvedAt) - instantMs(a.resolvedAt));
}

/** The most urgent priority among a room's open alarms, for the colour of its tile. */
export function roomAlarmPriorities(open: readonly Alarm[]): Map<string, Priority> {
  const byRoom = new Map<string, Priority>();
  for (const alarm of open) {
    const known = byRoom.get(alarm.roomId);
    if (!known || priorityRank(alarm.priority) < priorityRank(known)) byRoom.set(alarm.roomId, alarm.priority);
  }
  return byRoom;
}
