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
  users: {
    id: string;
    username: string;
    display_name: string;
    role: string;
    password_hash: string;
    created_at: string;
    /** Set when the user was disabled (migration 0005); null while the user may log in. */
    disabled_at: ColumnType<string | null, string | null | undefined, string | null>;
  };
  user_sites: { user_id: string; site_id: string };
  /** Login sessions: only the SHA-256 of the opaque token is stored. */
  sessions: { token_sha256: string; user_id: string; created_at: string; expires_at: string };
  /** A resident's legal basis for supervision, current (`ended_at` null) and past (migration 0005). */
  legal_basis: {
    id: string;
    site_id: string;
    resident_id: string;
    /** `consent` or `vedtak` */
    kind: string;
    given_by: string | null;
    guardian_name: string | null;
    consented_on: string | null;
    decided_on: string | null;
    next_evaluation_on: string | null;
    reference: string | null;
    note: string | null;
    recorded_by: string;
    recorded_by_id: string;
    recorded_at: string;
    evaluated_on: string | null;
    /** `none`, `due` or `overdue`: the evaluation state the nurse in charge was last reminded of. */
    reminder_state: ColumnType<string, string | undefined, string>;
    ended_at: string | null;
    ended_by: string | null;
    end_reason: string | null;
  };
  /** Whether a resident's plan runs (`active`, `paused`, `ended`); no row = active (migration 0005). */
  plan_status: {
    site_id: string;
    resident_id: string;
    state: string;
    reason: string | null;
    until: string | null;
    changed_by: string;
    changed_by_id: string;
    changed_at: string;
  };
  /** Every change to a site's configuration, legal bases and plan status (migration 0005). */
  config_audit: {
    seq: Generated<number>;
    site_id: string;
    /** `site`, `room`, `resident`, `sensor`, `plan`, `legal-basis`, `plan-status` */
    entity: string;
    entity_id: string;
    resident_id: string | null;
    action: string;
    actor: string;
    /** The user's id, or `system`. */
    actor_id: string;
    at: string;
    /** The site's configuration revision the change produced; null when it produced none. */
    revision: number | null;
    detail: ColumnType<string | null, string | null | undefined, string | null>;
  };
  /** One resident's night (migration 0006); `summary` is the JSON NightSummary, the columns are for trends. */
  night_summaries: {
    site_id: string;
    resident_id: string;
    night: string;
    window_start: string;
    window_end: string;
    /** 1 when computed after the night window closed. */
    complete: number;
    verdict: string;
    time_in_bed_minutes: number | null;
    bed_exits: number | null;
    longest_out_minutes: number | null;
    door_openings: number | null;
    alarms: number;
    summary: string;
    computed_at: string;
  };
  /** The nights of a site the summary job has done (migration 0006). */
  night_summary_runs: { site_id: string; night: string; residents: number; computed_at: string };
  /** Relatives linked to residents (migration 0006). */
  relative_links: { user_id: string; site_id: string; resident_id: string; linked_by: string; linked_by_id: string; linked_at: string };
  /** Consent to share summaries with relatives; current while `withdrawn_at` is null (migration 0006). */
  sharing_consents: {
    id: string;
    site_id: string;
    resident_id: string;
    /** `resident` or `guardian` */
    given_by: string;
    guardian_name: string | null;
    given_on: string;
    note: string | null;
    recorded_by: string;
    recorded_by_id: string;
    recorded_at: string;
    withdrawn_at: string | null;
    withdrawn_by: string | null;
    withdrawn_by_id: string | null;
  };
  /** Every read of a resident's data by a relative (migration 0006). */
  relative_access_log: {
    seq: Generated<number>;
    user_id: string;
    username: string;
    site_id: string;
    resident_id: string;
    what: string;
    at: string;
  };
  /** Every change an admin made to a user: who, when, what (migration 0008). No password or hash in `detail`. */
  user_audit: {
    seq: Generated<number>;
    /** The user changed, and their username at the time. */
    user_id: string;
    username: string;
    /** created, updated, disabled, enabled, password-reset */
    action: string;
    actor: string;
    actor_id: string;
    at: string;
    detail: ColumnType<string | null, string | null | undefined, string | null>;
  };
  /** Where a site's tablets reach the gateway's read-only local alarm feed, as the gateway last announced it (migration 0009). */
  gateway_local_feeds: { site_id: string; url: string; token: string; updated_at: string };
  /** The maintenance log of chain self-tests: reported (passed, failed) or missed (migration 0010). */
  self_test_log: {
    id: string;
    site_id: string;
    at: string;
    recorded_at: string;
    /** passed, failed, missed */
    result: string;
    /** 1 when reported after the day's deadline. */
    late: number;
    /** JSON `[{ stage, ms }]` */
    stages: string;
    failure: string | null;
    alarm_id: string | null;
    device: string | null;
    reported_by: string;
  };
  /** Scenario runs from the technician's page; at most one `running` per site (migration 0010). */
  scenario_runs: {
    id: string;
    site_id: string;
    scenario: string;
    title: string | null;
    /** built-in, upload */
    source: string;
    /** running, passed, failed, error */
    status: string;
    started_at: string;
    finished_at: string | null;
    started_by: string;
    started_by_id: string;
    night: string;
    sent: number;
    /** JSON string[] */
    alarms: string;
    /** JSON `[{ kind, text }]` */
    differences: string;
    error: string | null;
    hint: string | null;
    duration_ms: number | null;
  };
  /** Per-site test settings (migration 0010); passwords AES-256-GCM encrypted with the server's secret key. */
  site_test_settings: {
    site_id: string;
    mqtt_url: string | null;
    mqtt_username: string | null;
    mqtt_password: string | null;
    bridge_username: string | null;
    bridge_password: string | null;
    self_test_at: string | null;
    self_test_grace_minutes: number | null;
    self_test_sensor_id: string | null;
    /** When the schedule was set: no day before it counts as missed. */
    self_test_since: string | null;
    updated_at: string;
    updated_by: string;
  };
  /** Consecutive wrong passwords per username, shared by every instance (migration 0011). */
  login_failures: { username: string; failures: number; locked_until: string | null; last_failed_at: string };
  /** The login rate limit's fixed windows per route and client address (migration 0011). */
  rate_limits: { key: string; hits: number; reset_at: string };
  /** How often a site's evaluation reminders changed: instances send the list once per version they see (migration 0011). */
  site_reminders: { site_id: string; version: number; changed_at: string };
}
