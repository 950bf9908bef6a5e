import type { AcknowledgeCommand, Alarm, AlarmDecision, ConditionCleared, ResolveCommand } from '@nattevakt/protocol/alarm';
import type { CommandResult } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';

type AlarmRow = RelationalSchema['alarms'];

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
  };
}

export type AlarmListener = (alarm: Alarm) => void;

/**
 * The alarm lifecycle: active → acknowledged ("Jeg går") → resolved with an outcome; the
 * gateway's "condition cleared" is recorded on the alarm but never closes it. Every change is
 * one audit row whose id is the alarm's new sequence number, in the same transaction.
 */
export class AlarmService {
  readonly #listeners = new Set<AlarmListener>();

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly logger: Logger,
  ) {}

  onChange(listener: AlarmListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores a gateway's decision once; a re-delivered decision changes nothing. Returns the alarm if new. */
  async raise(decision: AlarmDecision, siteId: string): Promise<Alarm | null> {
    const config = this.sites.get(siteId);
    const residentName = config?.residents.find((r) => r.id === decision.residentId)?.name ?? '';
    const roomName = config?.rooms.find((r) => r.id === decision.roomId)?.name ?? decision.roomId;
    const receivedAt = new Date().toISOString();
    const alarm = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('alarms')
        .values({
          id: decision.id,
          site_id: siteId,
          resident_id: decision.residentId ?? null,
          room_id: decision.roomId,
          sensor_id: decision.sensorId,
          rule: decision.rule,
          priority: decision.priority,
          raised_at: decision.raisedAt,
          decided_at: decision.decidedAt,
          received_at: receivedAt,
          evidence: JSON.stringify(decision.evidence),
          status: 'active',
          seq: 0,
          resident_name: residentName,
          room_name: roomName,
          condition_cleared_at: null,
          acknowledged_at: null,
          acknowledged_by: null,
          resolved_at: null,
          resolved_by: null,
          outcome: null,
          note: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return null;
      return this.#audit(trx, decision.id, 'raised', `gateway:${siteId}`, receivedAt, { rule: decision.rule });
    });
    if (alarm) {
      this.logger.info({ alarmId: alarm.id, rule: alarm.rule, roomId: alarm.roomId, seq: alarm.seq }, 'alarm received');
      this.#emit(alarm);
    }
    return alarm;
  }

  async conditionCleared(cleared: ConditionCleared, siteId: string): Promise<Alarm | null> {
    const at = new Date().toISOString();
    const alarm = await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('alarms')
        .set({ condition_cleared_at: cleared.clearedAt })
        .where('id', '=', cleared.alarmId)
        .where('site_id', '=', siteId)
        .where('condition_cleared_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return null;
      return this.#audit(trx, cleared.alarmId, 'condition-cleared', `gateway:${siteId}`, at, { clearedAt: cleared.clearedAt });
    });
    if (alarm) {
      this.logger.info({ alarmId: alarm.id, seq: alarm.seq }, 'alarm condition cleared');
      this.#emit(alarm);
    }
    return alarm;
  }

  /** "Jeg går": the first nurse to go owns the alarm; the same nurse again is a no-op. */
  async acknowledge(command: AcknowledgeCommand): Promise<CommandResult> {
    const at = new Date().toISOString();
    const result = await this.db.transaction().execute(async (trx): Promise<CommandResult & { changed?: boolean }> => {
      const row = await trx.selectFrom('alarms').selectAll().where('id', '=', command.alarmId).executeTakeFirst();
      if (row === undefined) return { ok: false, error: 'not-found' };
      if (row.status === 'resolved') return { ok: false, error: 'already-resolved' };
      if (row.status === 'acknowledged') {
        return row.acknowledged_by === command.by
          ? { ok: true, alarm: toAlarm(row) }
          : { ok: false, error: `already-acknowledged:${row.acknowledged_by}` };
      }
      await trx
        .updateTable('alarms')
        .set({ status: 'acknowledged', acknowledged_at: at, acknowledged_by: command.by })
        .where('id', '=', row.id)
        .execute();
      return { ok: true, alarm: await this.#audit(trx, row.id, 'acknowledged', command.by, at, null), changed: true };
    });
    if (result.ok && result.changed) {
      this.logger.info({ alarmId: result.alarm.id, by: command.by, seq: result.alarm.seq }, 'alarm acknowledged');
      this.#emit(result.alarm);
    }
    return result.ok ? { ok: true, alarm: result.alarm } : result;
  }

  async resolve(command: ResolveCommand): Promise<CommandResult> {
    const at = new Date().toISOString();
    const result = await this.db.transaction().execute(async (trx): Promise<CommandResult> => {
      const row = await trx.selectFrom('alarms').selectAll().where('id', '=', command.alarmId).executeTakeFirst();
      if (row === undefined) return { ok: false, error: 'not-found' };
      if (row.status === 'resolved') return { ok: false, error: 'already-resolved' };
      if (command.outcome === 'other' && !command.note?.trim()) return { ok: false, error: 'note-required' };
      await trx
        .updateTable('alarms')
        .set({ status: 'resolved', resolved_at: at, resolved_by: command.by, outcome: command.outcome, note: command.note ?? null })
        .where('id', '=', row.id)
        .execute();
      return { ok: true, alarm: await this.#audit(trx, row.id, 'resolved', command.by, at, { outcome: command.outcome }) };
    });
    if (result.ok) {
      this.logger.info({ alarmId: result.alarm.id, by: command.by, outcome: command.outcome, seq: result.alarm.seq }, 'alarm resolved');
      this.#emit(result.alarm);
    }
    return result;
  }

  /** Open alarms (active or acknowledged), oldest first, and the current sequence number. */
  async open(siteId?: string): Promise<{ seq: number; alarms: Alarm[] }> {
    let query = this.db.selectFrom('alarms').selectAll().where('status', '!=', 'resolved');
    if (siteId !== undefined) query = query.where('site_id', '=', siteId);
    const rows = await query.orderBy('raised_at').execute();
    return { seq: await this.currentSeq(), alarms: rows.map(toAlarm) };
  }

  /** Every alarm changed after `since`, in its latest version: what a reconnecting tablet missed. */
  async changesSince(since: number, limit = 1000): Promise<{ seq: number; alarms: Alarm[] }> {
    const rows = await this.db.selectFrom('alarms').selectAll().where('seq', '>', since).orderBy('seq').limit(limit).execute();
    return { seq: await this.currentSeq(), alarms: rows.map(toAlarm) };
  }

  async get(id: string): Promise<{ alarm: Alarm; audit: { seq: number; action: string; actor: string; at: string }[] } | null> {
    const row = await this.db.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return null;
    const audit = await this.db
      .selectFrom('alarm_audit')
      .select(['seq', 'action', 'actor', 'at'])
      .where('alarm_id', '=', id)
      .orderBy('seq')
      .execute();
    return { alarm: toAlarm(row), audit };
  }

  async currentSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('alarm_audit')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async #audit(
    trx: Parameters<Parameters<ReturnType<RelationalDb['transaction']>['execute']>[0]>[0],
    alarmId: string,
    action: string,
    actor: string,
    at: string,
    detail: object | null,
  ): Promise<Alarm> {
    const audit = await trx
      .insertInto('alarm_audit')
      .values({ alarm_id: alarmId, action, actor, at, detail: detail ? JSON.stringify(detail) : null })
      .returning('seq')
      .executeTakeFirstOrThrow();
    const row = await trx.updateTable('alarms').set({ seq: audit.seq }).where('id', '=', alarmId).returningAll().executeTakeFirstOrThrow();
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
