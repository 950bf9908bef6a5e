import {
  type AcknowledgeCommand,
  type Alarm,
  type AlarmDecision,
  type ConditionCleared,
  MAX_ESCALATION_LEVEL,
  type ResolveCommand,
} from '@nattevakt/protocol/alarm';
import { explainAlarm } from '@nattevakt/protocol/explain/explain-alarm';
import type { Priority } from '@nattevakt/protocol/site-config';
import type { CommandResult } from '@nattevakt/protocol/socket-events';
import { type RawBuilder, type Selectable, sql } from 'kysely';
import type { Logger } from 'pino';
import type { SiteService } from '../sites/site-service.js';
import { CommitGroup, type Transaction } from '../stores/relational/commit-group.js';
import { lockAlarmSequence, type RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import { type Clock, DEFAULT_ESCALATION, type EscalationOptions, systemClock } from './escalation.js';

type AlarmRow = Selectable<RelationalSchema['alarms']>;

/** Whom an escalation step alerts: level 1 every staff member of the site again, level 2 the nurse in charge (see staff-namespace). */
export const escalationTarget = (level: number) => (level >= MAX_ESCALATION_LEVEL ? 'nurse-in-charge' : 'all-nurses');

export interface AuditEntry {
  seq: number;
  action: string;
  actor: string;
  at: string;
  detail: Record<string, unknown> | null;
}

function toAlarm(row: AlarmRow): Alarm {
  return {
    id: row.id,
    siteId: row.site_id,
    ...(row.resident_id !== null ? { residentId: row.resident_id } : {}),
    roomId: row.room_id,
    sensorId: row.sensor_id,
    rule: row.rule as Alarm['rule'],
    priority: row.priority as Alarm['priority'],
    raisedAt: row.raised_at,
    decidedAt: row.decided_at,
    evidence: JSON.parse(row.evidence) as Alarm['evidence'],
    seq: row.seq,
    status: row.status as Alarm['status'],
    residentName: row.resident_name,
    roomName: row.room_name,
    receivedAt: row.received_at,
    conditionClearedAt: row.condition_cleared_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    outcome: row.outcome as Alarm['outcome'],
    note: row.note,
    escalationLevel: row.escalation_level,
    escalatedAt: row.escalated_at,
    nextEscalationAt: row.next_escalation_at,
    explanation: row.explanation === null ? null : (JSON.parse(row.explanation) as Alarm['explanation']),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The first row a statement returns, if any. */
async function first<R>(trx: Transaction, query: RawBuilder<R>): Promise<R | undefined> {
  return (await query.execute(trx)).rows[0];
}

/**
 * The next alarm change sequence number, taken in the statement that makes the change: one past
 * the last audit row (the primary key's index: one lookup). Only ever used inside the commit
 * group's transactions, which hold the sequence lock (PostgreSQL) or are the one writer (SQLite),
 * and each is followed by its audit row under that number before the next change takes one:
 * numbers stay unique, gap-free and visible in order. Two statements per change instead of four.
 */
const NEXT_SEQ = sql<number>`(select coalesce(max(seq), 0) + 1 from alarm_audit)`;

export type AlarmListener = (alarm: Alarm) => void;

/** Which alarms `list` returns; every array means "any of these". */
export interface AlarmFilter {
  sites: string[];
  status?: string[];
  priority?: string[];
  rule?: string[];
  residentId?: string;
  /** Received by the server at or after this instant (ISO, UTC). */
  from?: string;
  /** Received before this instant (ISO, UTC). */
  to?: string;
  /** The last alarm of the previous page (newest first): only older ones. */
  after?: { receivedAt: string; id: string };
  limit: number;
}

/**
 * The alarm lifecycle: active → acknowledged ("Jeg går") → resolved with an outcome; the
 * gateway's "condition cleared" is recorded on the alarm but never closes it. An active alarm
 * escalates (level 1, then 2) until someone acknowledges it. Every change is one audit row whose
 * id is the alarm's new sequence number, in the same transaction. Each transition is a
 * conditional UPDATE, so several server instances on one database cannot both make it.
 *
 * Changes handed in during one turn of the event loop (a gateway's batch, nurses' commands,
 * escalation steps) are committed together (`CommitGroup`): one commit, on SQLite one fsync, for
 * all of them, each still told and answered only after that commit.
 */
export class AlarmService {
  readonly #listeners = new Set<AlarmListener>();
  readonly #escalationListeners = new Set<(alarm: Alarm, level: number) => void>();
  readonly #clock: Clock;
  readonly #escalation: EscalationOptions;
  readonly #group: CommitGroup;

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly logger: Logger,
    options: { clock?: Clock; escalation?: EscalationOptions; committed?: (operations: number) => void } = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#escalation = options.escalation ?? DEFAULT_ESCALATION;
    // Every change takes the sequence lock anyway (PostgreSQL); taken first, before any alarm row
    // is locked, two instances' groups cannot deadlock on each other's rows.
    this.#group = new CommitGroup(db, {
      begin: (trx) => lockAlarmSequence(trx),
      ...(options.committed ? { committed: options.committed } : {}),
    });
  }

  onChange(listener: AlarmListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores a gateway's decision once; a re-delivered decision changes nothing. Returns the alarm if new. */
  async raise(decision: AlarmDecision, siteId: string): Promise<Alarm | null> {
    const [change] = await this.applyDecisions([{ type: 'alarm', alarm: decision }], siteId);
    return change?.alarm ?? null;
  }

  async conditionCleared(cleared: ConditionCleared, siteId: string): Promise<Alarm | null> {
    const [change] = await this.applyDecisions([{ type: 'cleared', cleared }], siteId);
    return change?.alarm ?? null;
  }

  /**
   * A gateway batch's alarms and clearings, in their order, in one transaction: one commit (on
   * SQLite one fsync) for the batch instead of one per item, which is what limited the stored
   * alarms' throughput. Re-delivered items change nothing. Each change is told after the commit,
   * in order; returns them, each with whether it was raised now (else its condition cleared).
   */
  async applyDecisions(
    items: readonly ({ type: 'alarm'; alarm: AlarmDecision } | { type: 'cleared'; cleared: ConditionCleared })[],
    siteId: string,
  ): Promise<{ alarm: Alarm; raised: boolean }[]> {
    if (items.length === 0) return [];
    const config = this.sites.get(siteId);
    const changes = await this.#group.run(async (trx) => {
      const changed: { alarm: Alarm; raised: boolean }[] = [];
      for (const item of items) {
        const alarm =
          item.type === 'alarm' ? await this.#raiseIn(trx, item.alarm, siteId, config) : await this.#clearIn(trx, item.cleared, siteId);
        if (alarm) changed.push({ alarm, raised: item.type === 'alarm' });
      }
      return changed;
    });
    for (const { alarm, raised } of changes) {
      if (raised) this.logger.info({ alarmId: alarm.id, rule: alarm.rule, roomId: alarm.roomId, seq: alarm.seq }, 'alarm received');
      else this.logger.info({ alarmId: alarm.id, seq: alarm.seq }, 'alarm condition cleared');
      this.#emit(alarm);
    }
    return changes;
  }

  async #raiseIn(trx: Transaction, decision: AlarmDecision, siteId: string, config: ReturnType<SiteService['get']>): Promise<Alarm | null> {
    const residentName = config?.residents.find((r) => r.id === decision.residentId)?.name ?? '';
    const roomName = config?.rooms.find((r) => r.id === decision.roomId)?.name ?? decision.roomId;
    const now = this.#clock.now();
    const receivedAt = iso(now);
    const firstStep = this.#escalation.afterMs[decision.priority];
    const words = { timeZone: config?.site.timezone ?? 'Europe/Oslo', roomName, ...(residentName ? { residentName } : {}) };
    const explanation = { nb: explainAlarm(decision, { lang: 'nb', ...words }), en: explainAlarm(decision, { lang: 'en', ...words }) };
    // The hot statements of the lifecycle are written as SQL (Kysely's `sql` tag: the same text on
    // both engines, placeholders per engine): the query builder cost as much CPU as SQLite running them.
    const nextStep = firstStep === null ? null : iso(now + firstStep);
    const inserted = await first<AlarmRow>(
      trx,
      sql`insert into alarms (id, site_id, resident_id, room_id, sensor_id, rule, priority, raised_at, decided_at, received_at,
        evidence, status, seq, resident_name, room_name, condition_cleared_at, acknowledged_at, acknowledged_by, resolved_at,
        resolved_by, outcome, note, escalation_level, escalated_at, next_escalation_at, explanation)
      values (${decision.id}, ${siteId}, ${decision.residentId ?? null}, ${decision.roomId}, ${decision.sensorId}, ${decision.rule},
        ${decision.priority}, ${decision.raisedAt}, ${decision.decidedAt}, ${receivedAt}, ${JSON.stringify(decision.evidence)},
        'active', ${NEXT_SEQ}, ${residentName}, ${roomName}, null, null, null, null, null, null, null, 0, null, ${nextStep},
        ${JSON.stringify(explanation)})
      on conflict (id) do nothing
      returning *`,
    );
    // `returning` (not the affected-row count) tells a new row from a re-delivery on both engines.
    if (inserted === undefined) return null;
    return this.#audit(trx, inserted, 'raised', `gateway:${siteId}`, receivedAt, { rule: decision.rule });
  }

  async #clearIn(trx: Transaction, cleared: ConditionCleared, siteId: string): Promise<Alarm | null> {
    const updated = await first<AlarmRow>(
      trx,
      sql`update alarms set condition_cleared_at = ${cleared.clearedAt}, seq = ${NEXT_SEQ}
      where id = ${cleared.alarmId} and site_id = ${siteId} and condition_cleared_at is null returning *`,
    );
    if (updated === undefined) return null;
    return this.#audit(trx, updated, 'condition-cleared', `gateway:${siteId}`, this.#nowIso(), { clearedAt: cleared.clearedAt });
  }

  /** "Jeg går": the first nurse to go owns the alarm and stops its escalation; the same nurse again is a no-op. */
  async acknowledge(command: AcknowledgeCommand): Promise<CommandResult> {
    const at = this.#nowIso();
    const result = await this.#group.run(async (trx): Promise<CommandResult & { changed?: boolean }> => {
      // Write first: the status condition decides between two nurses (or two instances) at once.
      const updated = await first<AlarmRow>(
        trx,
        sql`update alarms set status = 'acknowledged', acknowledged_at = ${at}, acknowledged_by = ${command.by},
        next_escalation_at = null, seq = ${NEXT_SEQ} where id = ${command.alarmId} and status = 'active' returning *`,
      );
      if (updated !== undefined)
        return { ok: true, alarm: await this.#audit(trx, updated, 'acknowledged', command.by, at, null), changed: true };
      const row = await trx.selectFrom('alarms').selectAll().where('id', '=', command.alarmId).executeTakeFirst();
      if (row === undefined) return { ok: false, error: 'not-found' };
      if (row.status === 'resolved') return { ok: false, error: 'already-resolved' };
      return row.acknowledged_by === command.by
        ? { ok: true, alarm: toAlarm(row) }
        : { ok: false, error: `already-acknowledged:${row.acknowledged_by}` };
    });
    if (result.ok && result.changed) {
      this.logger.info({ alarmId: result.alarm.id, by: command.by, seq: result.alarm.seq }, 'alarm acknowledged');
      this.#emit(result.alarm);
    }
    return result.ok ? { ok: true, alarm: result.alarm } : result;
  }

  /** Closes an alarm (active or acknowledged) with an outcome; "other" needs a note. Stops escalation. */
  async resolve(command: ResolveCommand): Promise<CommandResult> {
    const at = this.#nowIso();
    const noteMissing = command.outcome === 'other' && !command.note?.trim();
    const result = await this.#group.run(async (trx): Promise<CommandResult> => {
      if (!noteMissing) {
        const updated = await first<AlarmRow>(
          trx,
          sql`update alarms set status = 'resolved', resolved_at = ${at}, resolved_by = ${command.by}, outcome = ${command.outcome},
          note = ${command.note ?? null}, next_escalation_at = null, seq = ${NEXT_SEQ}
          where id = ${command.alarmId} and status != 'resolved' returning *`,
        );
        if (updated !== undefined)
          return { ok: true, alarm: await this.#audit(trx, updated, 'resolved', command.by, at, { outcome: command.outcome }) };
      }
      const row = await trx.selectFrom('alarms').select('status').where('id', '=', command.alarmId).executeTakeFirst();
      if (row === undefined) return { ok: false, error: 'not-found' };
      if (row.status === 'resolved') return { ok: false, error: 'already-resolved' };
      return { ok: false, error: 'note-required' };
    });
    if (result.ok) {
      this.logger.info({ alarmId: result.alarm.id, by: command.by, outcome: command.outcome, seq: result.alarm.seq }, 'alarm resolved');
      this.#emit(result.alarm);
    }
    return result;
  }

  /**
   * Claims one escalation step: from `fromLevel` to the next, only if the alarm is still active,
   * still at that level and due. The conditional UPDATE is the claim, so of several instances (or
   * a stale read) exactly one succeeds; the others get null. The step's audit row (actor
   * `system`) gives the alarm a new seq, and the alarm is broadcast again.
   */
  async escalate(alarmId: string, fromLevel: number): Promise<Alarm | null> {
    if (fromLevel >= MAX_ESCALATION_LEVEL) return null;
    const found = await this.db.selectFrom('alarms').select('priority').where('id', '=', alarmId).executeTakeFirst();
    if (found === undefined) return null;
    const now = this.#clock.now();
    const at = iso(now);
    const level = fromLevel + 1;
    const wait = level < MAX_ESCALATION_LEVEL ? this.#escalation.afterMs[found.priority as Priority] : null;
    const alarm = await this.#group.run(async (trx) => {
      const claimed = await trx
        .updateTable('alarms')
        .set({ escalation_level: level, escalated_at: at, next_escalation_at: wait === null ? null : iso(now + wait), seq: NEXT_SEQ })
        .where('id', '=', alarmId)
        .where('escalation_level', '=', fromLevel)
        .where('status', '=', 'active')
        .where('next_escalation_at', '<=', at)
        .returningAll()
        .executeTakeFirst();
      if (claimed === undefined) return null;
      return this.#audit(trx, claimed, 'escalated', 'system', at, { level, notified: escalationTarget(level) });
    });
    if (alarm) {
      this.logger.warn(
        { alarmId, escalationLevel: level, notified: escalationTarget(level), priority: alarm.priority, seq: alarm.seq },
        'alarm escalated: nobody acknowledged it in time',
      );
      this.#emit(alarm);
      for (const listener of this.#escalationListeners) {
        try {
          listener(alarm, level);
        } catch (error) {
          this.logger.error({ alarmId, err: error }, 'escalation listener failed');
        }
      }
    }
    return alarm;
  }

  /** Called once per escalation step, on the instance that claimed it, after the alarm change itself. */
  onEscalation(listener: (alarm: Alarm, level: number) => void): () => void {
    this.#escalationListeners.add(listener);
    return () => this.#escalationListeners.delete(listener);
  }

  /** Active alarms whose next escalation step is due at `now`, most overdue first. */
  async dueEscalations(now: number, limit: number): Promise<{ id: string; escalationLevel: number }[]> {
    const rows = await this.db
      .selectFrom('alarms')
      .select(['id', 'escalation_level', 'priority'])
      .where('status', '=', 'active')
      .where('next_escalation_at', '<=', iso(now))
      .orderBy('next_escalation_at')
      .limit(limit)
      .execute();
    const due: { id: string; escalationLevel: number }[] = [];
    for (const row of rows) {
      if (this.#escalation.afterMs[row.priority as Priority] === null) {
        // This priority no longer escalates (configuration changed): clear the step instead.
        await this.db
          .updateTable('alarms')
          .set({ next_escalation_at: null })
          .where('id', '=', row.id)
          .where('escalation_level', '=', row.escalation_level)
          .execute();
        continue;
      }
      due.push({ id: row.id, escalationLevel: row.escalation_level });
    }
    return due;
  }

  /** The earliest pending escalation step (epoch ms), or null when none is pending. */
  async nextEscalationDue(): Promise<number | null> {
    const row = await this.db
      .selectFrom('alarms')
      .select((eb) => eb.fn.min('next_escalation_at').as('next'))
      .where('status', '=', 'active')
      .executeTakeFirst();
    return typeof row?.next === 'string' ? Date.parse(row.next) : null;
  }

  /** Open alarms (active or acknowledged), oldest first, and the current sequence number. */
  async open(siteId?: string): Promise<{ seq: number; alarms: Alarm[] }> {
    let query = this.db.selectFrom('alarms').selectAll().where('status', '!=', 'resolved');
    if (siteId !== undefined) query = query.where('site_id', '=', siteId);
    const rows = await query.orderBy('raised_at').execute();
    return { seq: await this.currentSeq(), alarms: rows.map(toAlarm) };
  }

  /** Every alarm changed after `since`, in its latest version: what a reconnecting tablet missed. */
  /**
   * Every alarm whose latest change has a seq above `since`, oldest change first. When the page is
   * full, `seq` is the last row's seq and `more` is true, so a client that was away for a long
   * time pages on instead of jumping past changes it never got.
   */
  async changesSince(since: number, limit = 1000): Promise<{ seq: number; alarms: Alarm[]; more: boolean }> {
    // The sequence is read first: a change that lands between the two reads is in the rows.
    const current = await this.currentSeq();
    const rows = await this.db.selectFrom('alarms').selectAll().where('seq', '>', since).orderBy('seq').limit(limit).execute();
    const alarms = rows.map(toAlarm);
    const last = alarms.at(-1)?.seq ?? since;
    if (alarms.length === limit) return { seq: last, alarms, more: true };
    return { seq: Math.max(current, last, since), alarms, more: false };
  }

  /**
   * Alarms by filter, newest first by the time the server received them (server clock, one ISO
   * format, so text order is time order), then id; `next` is the cursor of the following page.
   */
  async list(filter: AlarmFilter): Promise<{ alarms: Alarm[]; next: { receivedAt: string; id: string } | null }> {
    if (filter.sites.length === 0) return { alarms: [], next: null };
    let query = this.db.selectFrom('alarms').selectAll().where('site_id', 'in', filter.sites);
    if (filter.status?.length) query = query.where('status', 'in', filter.status);
    if (filter.priority?.length) query = query.where('priority', 'in', filter.priority);
    if (filter.rule?.length) query = query.where('rule', 'in', filter.rule);
    if (filter.residentId !== undefined) query = query.where('resident_id', '=', filter.residentId);
    if (filter.from !== undefined) query = query.where('received_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('received_at', '<', filter.to);
    const after = filter.after;
    if (after !== undefined)
      query = query.where((eb) =>
        eb.or([eb('received_at', '<', after.receivedAt), eb.and([eb('received_at', '=', after.receivedAt), eb('id', '<', after.id)])]),
      );
    const rows = await query
      .orderBy('received_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit + 1)
      .execute();
    const page = rows.slice(0, filter.limit).map(toAlarm);
    const last = page.at(-1);
    return { alarms: page, next: rows.length > filter.limit && last !== undefined ? { receivedAt: last.receivedAt, id: last.id } : null };
  }

  async get(id: string): Promise<{ alarm: Alarm; audit: AuditEntry[] } | null> {
    const row = await this.db.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return null;
    const audit = await this.db
      .selectFrom('alarm_audit')
      .select(['seq', 'action', 'actor', 'at', 'detail'])
      .where('alarm_id', '=', id)
      .orderBy('seq')
      .execute();
    return {
      alarm: toAlarm(row),
      audit: audit.map((a) => ({ ...a, detail: a.detail === null ? null : (JSON.parse(a.detail) as Record<string, unknown>) })),
    };
  }

  /** The site an alarm belongs to (null if there is no such alarm): what a command's authorization needs, one index lookup. */
  async siteOf(id: string): Promise<string | null> {
    const row = (await sql<{ site_id: string }>`select site_id from alarms where id = ${id}`.execute(this.db)).rows[0];
    return row?.site_id ?? null;
  }

  async currentSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('alarm_audit')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  #nowIso(): string {
    return iso(this.#clock.now());
  }

  /**
   * The audit row of a change the alarm row already carries: the change itself (a conditional
   * insert or update) took the next sequence number (`NEXT_SEQ`) under the group's sequence lock,
   * and the audit row is written under the same number in the same transaction.
   */
  async #audit(trx: Transaction, row: AlarmRow, action: string, actor: string, at: string, detail: object | null): Promise<Alarm> {
    await sql`insert into alarm_audit (seq, alarm_id, action, actor, at, detail)
      values (${row.seq}, ${row.id}, ${action}, ${actor}, ${at}, ${detail ? JSON.stringify(detail) : null})`.execute(trx);
    return toAlarm(row);
  }

  #emit(alarm: Alarm): void {
    for (const listener of this.#listeners) {
      try {
        listener(alarm);
      } catch (error) {
        this.logger.error({ alarmId: alarm.id, err: error }, 'alarm listener failed');
      }
    }
  }
}
