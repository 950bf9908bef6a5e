import type { ColumnType, Generated } from 'kysely';

/** Tables of the relational store; the same schema on SQLite and (issue 5) PostgreSQL. */
export interface RelationalSchema {
  sites: { id: string; config: string; updated_at: string };
  gateways: { site_id: string; token_sha256: string; created_at: string };
  alarms: {
    id: string;
    site_id: string;
    resident_id: string | null;
    room_id: string;
    sensor_id: string;
    rule: string;
    priority: string;
    raised_at: string;
    decided_at: string;
    received_at: string;
    evidence: string;
    status: string;
    seq: number;
    resident_name: string;
    room_name: string;
    condition_cleared_at: string | null;
    acknowledged_at: string | null;
    acknowledged_by: string | null;
    resolved_at: string | null;
    resolved_by: string | null;
    outcome: string | null;
    note: string | null;
    /** 0 none, 1 all nurses again, 2 nurse in charge (migration 0002). */
    escalation_level: ColumnType<number, number | undefined, number>;
    escalated_at: ColumnType<string | null, string | null | undefined, string | null>;
    /** When the next escalation step is due (ISO, server clock); null when none will come. */
    next_escalation_at: ColumnType<string | null, string | null | undefined, string | null>;
    /** JSON `{ nb: { title, detail }, en: … }`; null on alarms stored before it existed. */
    explanation: ColumnType<string | null, string | null | undefined, string | null>;
  };
  /** Delivery (IHE PCD ACM "delivered") and read ("displayed") receipts per alarm and tablet, server clock. */
  alarm_delivery: {
    alarm_id: string;
    device: string;
    seq: number | null;
    delivered_at: string | null;
    displayed_at: string | null;
  };
  /** The current state of every sensor, kept up to date on ingestion so a restart shows the ward as it was. */
  sensor_state: {
    site_id: string;
    sensor_id: string;
    value: number | null;
    since: string | null;
    online: number | null;
    last_seen: string;
    battery: number | null;
  };
  /** Every change to every alarm, with who and when. Its id is the alarm change sequence number. */
  alarm_audit: {
    seq: Generated<number>;
    alarm_id: string;
    action: string;
    actor: string;
    at: string;
    detail: ColumnType<string | null, string | null | undefined, string | null>;
  };
  /** People (migration 0004); `role` is one of `Role` in auth/roles.ts. */
  users: { id: string; username: string; display_name: string; role: string; password_hash: string; created_at: string };
  user_sites: { user_id: string; site_id: string };
  /** Login sessions: only the SHA-256 of the opaque token is stored. */
  sessions: { token_sha256: string; user_id: string; created_at: string; expires_at: string };
}
