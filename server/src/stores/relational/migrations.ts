import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';

/**
 * The same migrations run on SQLite and PostgreSQL. Where the engines differ, a migration asks
 * which one it runs on; the SQLite output of a shipped migration stays exactly as it was.
 * Times are ISO-8601 UTC text of one fixed format (`toISOString()`) on both engines, so text
 * order is time order whatever the database collation.
 */
const onPostgres = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Migrations in code, so the built server carries them; never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-sites-gateways-alarms': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gateways')
        .addColumn('site_id', 'text', (c) => c.primaryKey().references('sites.id'))
        .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alarms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text')
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('resident_name', 'text', (c) => c.notNull())
        .addColumn('room_name', 'text', (c) => c.notNull())
        .addColumn('condition_cleared_at', 'text')
        .addColumn('acknowledged_at', 'text')
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', 'text')
        .addColumn('resolved_by', 'text')
        .addColumn('outcome', 'text')
        .addColumn('note', 'text')
        .execute();
      await db.schema.createIndex('alarms_seq').on('alarms').column('seq').execute();
      await db.schema.createIndex('alarms_site_status').on('alarms').columns(['site_id', 'status']).execute();
      await db.schema
        .createTable('alarm_audit')
        // The alarm change sequence. PostgreSQL: `serial` (int4, read back as a JS number, not a bigint string).
        .addColumn('seq', onPostgres(db) ? 'serial' : 'integer', (c) => (onPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('alarm_id', 'text', (c) => c.notNull().references('alarms.id'))
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('alarm_audit_alarm').on('alarm_audit').column('alarm_id').execute();
      await db.schema
        .createTable('sensor_state')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('value', 'integer')
        .addColumn('since', 'text')
        .addColumn('online', 'integer')
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('battery', 'integer')
        .addPrimaryKeyConstraint('sensor_state_pk', ['site_id', 'sensor_id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['sensor_state', 'alarm_audit', 'alarms', 'gateways', 'sites'])
        await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
  '0002-alarm-escalation-delivery': {
    async up(db: Kysely<unknown>) {
      // Escalation state lives on the row, so any server instance can claim the next step once
      // (conditional UPDATE) and a restarted server picks up what fell due while it was away.
      await db.schema
        .alterTable('alarms')
        .addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('alarms').addColumn('escalated_at', 'text').execute();
      await db.schema.alterTable('alarms').addColumn('next_escalation_at', 'text').execute();
      // Alarms left unacknowledged by the previous version are overdue: escalate them on start.
      await sql`update alarms set next_escalation_at = received_at where status = 'active'`.execute(db);
      await db.schema.createIndex('alarms_next_escalation').on('alarms').columns(['status', 'next_escalation_at']).execute();
      await db.schema.createIndex('alarms_received').on('alarms').column('received_at').execute();
      // Delivery and read receipts per alarm and tablet (IHE PCD ACM), first time of each kept.
      await db.schema
        .createTable('alarm_delivery')
        .addColumn('alarm_id', 'text', (c) => c.notNull().references('alarms.id'))
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer')
        .addColumn('delivered_at', 'text')
        .addColumn('displayed_at', 'text')
        .addPrimaryKeyConstraint('alarm_delivery_pk', ['alarm_id', 'device'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table alarm_delivery`.execute(db);
      await sql`drop index alarms_received`.execute(db);
      await sql`drop index alarms_next_escalation`.execute(db);
      for (const column of ['next_escalation_at', 'escalated_at', 'escalation_level'])
        await db.schema.alterTable('alarms').dropColumn(column).execute();
    },
  },
  '0003-alarm-explanation': {
    async up(db: Kysely<unknown>) {
      // The words of an alarm as they were when it was raised (nb and en), kept with the record.
      await db.schema.alterTable('alarms').addColumn('explanation', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('alarms').dropColumn('explanation').execute();
    },
  },
  '0004-people': {
    async up(db: Kysely<unknown>) {
      // People and their roles; passwords only as argon2id hashes, sessions only as SHA-256 of the token.
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_sites')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_sites_pk', ['user_id', 'site_id'])
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_sha256', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['sessions', 'user_sites', 'users']) await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
  '0005-residents-legal-basis': {
    async up(db: Kysely<unknown>) {
      // The legal basis of each resident's supervision: a consent, or a vedtak (pasient- og
      // brukerrettighetsloven § 4-6 a). Rows are never deleted: a new record or a revocation ends
      // the current one, so the history stays. At most one current (not ended) row per resident.
      await db.schema
        .createTable('legal_basis')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('given_by', 'text')
        .addColumn('guardian_name', 'text')
        .addColumn('consented_on', 'text')
        .addColumn('decided_on', 'text')
        .addColumn('next_evaluation_on', 'text')
        .addColumn('reference', 'text')
        .addColumn('note', 'text')
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('recorded_by_id', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('evaluated_on', 'text')
        // The evaluation state the nurse in charge was last told of (none, due, overdue): claimed
        // by a conditional UPDATE, so each reminder is sent once whatever the number of instances.
        .addColumn('reminder_state', 'text', (c) => c.notNull().defaultTo('none'))
        .addColumn('ended_at', 'text')
        .addColumn('ended_by', 'text')
        .addColumn('end_reason', 'text')
        .execute();
      await db.schema
        .createIndex('legal_basis_current')
        .on('legal_basis')
        .columns(['site_id', 'resident_id'])
        .unique()
        .where(sql.ref('ended_at'), 'is', null)
        .execute();
      await db.schema.createIndex('legal_basis_resident').on('legal_basis').columns(['site_id', 'resident_id', 'recorded_at']).execute();
      // Whether a resident's plan runs: active, paused (reason, optional end) or ended. No row = active.
      await db.schema
        .createTable('plan_status')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('until', 'text')
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addColumn('changed_by_id', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_status_pk', ['site_id', 'resident_id'])
        .execute();
      // Every change to a site's configuration, legal basis and plan status: who, when, what.
      await db.schema
        .createTable('config_audit')
        .addColumn('seq', onPostgres(db) ? 'serial' : 'integer', (c) => (onPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('config_audit_site').on('config_audit').columns(['site_id', 'seq']).execute();
      // A disabled user cannot log in, and their sessions end (live sockets included).
      await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('users').dropColumn('disabled_at').execute();
      for (const table of ['config_audit', 'plan_status', 'legal_basis']) await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
  '0006-night-summaries-relatives': {
    async up(db: Kysely<unknown>) {
      // One resident's night, derived from the raw events and alarms; kept when the raw events are deleted.
      await db.schema
        .createTable('night_summaries')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('night', 'text', (c) => c.notNull())
        .addColumn('window_start', 'text', (c) => c.notNull())
        .addColumn('window_end', 'text', (c) => c.notNull())
        .addColumn('complete', 'integer', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('time_in_bed_minutes', 'integer')
        .addColumn('bed_exits', 'integer')
        .addColumn('longest_out_minutes', 'integer')
        .addColumn('door_openings', 'integer')
        .addColumn('alarms', 'integer', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('computed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('night_summaries_pk', ['site_id', 'resident_id', 'night'])
        .execute();
      // The nights of a site already summarised (also those with nothing to summarise), so the job does each once.
      await db.schema
        .createTable('night_summary_runs')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('night', 'text', (c) => c.notNull())
        .addColumn('residents', 'integer', (c) => c.notNull())
        .addColumn('computed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('night_summary_runs_pk', ['site_id', 'night'])
        .execute();
      // A relative (a user with the role `relative`) linked to a resident.
      await db.schema
        .createTable('relative_links')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('linked_by', 'text', (c) => c.notNull())
        .addColumn('linked_by_id', 'text', (c) => c.notNull())
        .addColumn('linked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('relative_links_pk', ['user_id', 'site_id', 'resident_id'])
        .execute();
      await db.schema.createIndex('relative_links_resident').on('relative_links').columns(['site_id', 'resident_id']).execute();
      // The resident's (or guardian's) consent to share summaries with relatives; withdrawn, never deleted.
      await db.schema
        .createTable('sharing_consents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('given_by', 'text', (c) => c.notNull())
        .addColumn('guardian_name', 'text')
        .addColumn('given_on', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('recorded_by_id', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('withdrawn_at', 'text')
        .addColumn('withdrawn_by', 'text')
        .addColumn('withdrawn_by_id', 'text')
        .execute();
      await db.schema
        .createIndex('sharing_consents_current')
        .on('sharing_consents')
        .columns(['site_id', 'resident_id'])
        .unique()
        .where(sql.ref('withdrawn_at'), 'is', null)
        .execute();
      // Every read of a resident's data by a relative: who, which resident, what, when.
      await db.schema
        .createTable('relative_access_log')
        .addColumn('seq', onPostgres(db) ? 'serial' : 'integer', (c) => (onPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text', (c) => c.notNull())
        .addColumn('what', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('relative_access_log_resident')
        .on('relative_access_log')
        .columns(['site_id', 'resident_id', 'seq'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['relative_access_log', 'sharing_consents', 'relative_links', 'night_summary_runs', 'night_summaries'])
        await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
  '0008-user-audit': {
    async up(db: Kysely<unknown>) {
      // Every change an admin makes to a person (created, role or sites changed, disabled, enabled,
      // password reset): who, when, what. Users span sites, so this is not the per-site config_audit.
      await db.schema
        .createTable('user_audit')
        .addColumn('seq', onPostgres(db) ? 'serial' : 'integer', (c) => (onPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('user_audit_user').on('user_audit').columns(['user_id', 'seq']).execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table user_audit`.execute(db);
    },
  },
  '0009-gateway-local-feeds': {
    async up(db: Kysely<unknown>) {
      // The gateway announces its local feed (address on the ward network and token) when it
      // connects; tablets of the site learn it from /api/ward, on whichever instance they reach.
      await db.schema
        .createTable('gateway_local_feeds')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table gateway_local_feeds`.execute(db);
    },
  },
  '0010-commissioning-maintenance': {
    async up(db: Kysely<unknown>) {
      // The maintenance log: every chain self-test a site reported (passed or failed) and every one
      // that never came (the server's watch), with its stages' timings.
      await db.schema
        .createTable('self_test_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('late', 'integer', (c) => c.notNull())
        .addColumn('stages', 'text', (c) => c.notNull())
        .addColumn('failure', 'text')
        .addColumn('alarm_id', 'text')
        .addColumn('device', 'text')
        .addColumn('reported_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('self_test_log_site_at').on('self_test_log').columns(['site_id', 'at']).execute();
      // Scenario runs from the technician's page, with their verdicts. At most one running per site,
      // across every server instance: a unique partial index (SQLite and PostgreSQL both have them).
      await db.schema
        .createTable('scenario_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('scenario', 'text', (c) => c.notNull())
        .addColumn('title', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('started_by', 'text', (c) => c.notNull())
        .addColumn('started_by_id', 'text', (c) => c.notNull())
        .addColumn('night', 'text', (c) => c.notNull())
        .addColumn('sent', 'integer', (c) => c.notNull())
        .addColumn('alarms', 'text', (c) => c.notNull())
        .addColumn('differences', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('hint', 'text')
        .addColumn('duration_ms', 'integer')
        .execute();
      await db.schema.createIndex('scenario_runs_site_started').on('scenario_runs').columns(['site_id', 'started_at']).execute();
      await db.schema
        .createIndex('scenario_runs_one_running')
        .on('scenario_runs')
        .column('site_id')
        .unique()
        .where(sql.ref('status'), '=', 'running')
        .execute();
      // Per-site settings for testing: the gateway broker's simulator device (passwords encrypted
      // with the server's secret key, never returned) and when the daily self-test is due.
      await db.schema
        .createTable('site_test_settings')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('mqtt_url', 'text')
        .addColumn('mqtt_username', 'text')
        .addColumn('mqtt_password', 'text')
        .addColumn('bridge_username', 'text')
        .addColumn('bridge_password', 'text')
        .addColumn('self_test_at', 'text')
        .addColumn('self_test_grace_minutes', 'integer')
        .addColumn('self_test_sensor_id', 'text')
        .addColumn('self_test_since', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['site_test_settings', 'scenario_runs', 'self_test_log']) await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
  '0011-shared-login-limits-reminders': {
    async up(db: Kysely<unknown>) {
      // Wrong passwords per username, shared by every instance (a per-process counter gave an
      // attacker N times the tries behind N instances). A row goes on a successful login.
      await db.schema
        .createTable('login_failures')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .addColumn('last_failed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_failures_last').on('login_failures').column('last_failed_at').execute();
      // The login rate limit's fixed windows (@fastify/rate-limit store), per route and client address.
      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addColumn('reset_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rate_limits_reset').on('rate_limits').column('reset_at').execute();
      // Each time a site's evaluation reminders changed, its version goes up: every instance sends
      // the fresh list to its own nurses in charge once per version it sees (supervision/reminder-feed.ts).
      await db.schema
        .createTable('site_reminders')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['site_reminders', 'rate_limits', 'login_failures']) await sql`drop table ${sql.table(table)}`.execute(db);
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the database to the latest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message}`);
}
