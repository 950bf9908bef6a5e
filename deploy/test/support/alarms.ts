import type { RelationalDb } from '@nattevakt/server/stores/relational/database';
import { sql } from 'kysely';

export interface AlarmRow {
  id: string;
  siteId?: string;
  rule?: string;
  priority?: string;
  status?: 'active' | 'acknowledged' | 'resolved';
  receivedAt: string;
  acknowledgedAt?: string | null;
  resolvedAt?: string | null;
  outcome?: string | null;
  escalationLevel?: number;
  seq: number;
}

/**
 * One alarm as the server stores it (the columns of the first migration plus escalation_level),
 * with its "raised" audit line: what the alarm service writes, for tests of what reads the tables.
 */
export async function insertAlarm(db: RelationalDb, a: AlarmRow): Promise<void> {
  await sql`insert into alarms (id, site_id, resident_id, room_id, sensor_id, rule, priority, raised_at, decided_at, received_at,
      evidence, status, seq, resident_name, room_name, acknowledged_at, acknowledged_by, resolved_at, resolved_by, outcome, escalation_level)
    values (${a.id}, ${a.siteId ?? 'example-site'}, 'resident-101', 'room-101', 'door-101', ${a.rule ?? 'door-open-at-night'},
      ${a.priority ?? 'high'}, ${a.receivedAt}, ${a.receivedAt}, ${a.receivedAt}, '{}', ${a.status ?? 'active'}, ${a.seq},
      'Beboer 101', 'Rom 101', ${a.acknowledgedAt ?? null}, ${a.acknowledgedAt ? 'sykepleier' : null}, ${a.resolvedAt ?? null},
      ${a.resolvedAt ? 'sykepleier' : null}, ${a.outcome ?? null}, ${a.escalationLevel ?? 0})`.execute(db);
  await sql`insert into alarm_audit (alarm_id, action, actor, at) values (${a.id}, 'raised', 'gateway', ${a.receivedAt})`.execute(db);
}
