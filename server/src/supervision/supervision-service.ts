import { randomUUID } from 'node:crypto';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type {
  EvaluationReminder,
  EvaluationReminders,
  EvaluationState,
  LegalBasis,
  LegalBasisBody,
  LegalBasisInput,
  PlanState,
  PlanStatus,
} from '@nattevakt/protocol/supervision';
import { type Selectable, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../alarms/escalation.js';
import { HttpError } from '../routes/http-error.js';
import { type Actor, SYSTEM, writeConfigAudit } from '../sites/config-audit.js';
import type { SiteService, SiteTransaction } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import { daysBetween, isRealDate, localDate } from './dates.js';

type LegalRow = Selectable<RelationalSchema['legal_basis']>;
type StatusRow = Selectable<RelationalSchema['plan_status']>;

/** An evaluation counts as due this many days before its date (the nurse in charge's reminder window). */
export const DEFAULT_REMINDER_DAYS = 14;
/** How often the scheduler looks for pauses that ran out and evaluations that fell due. */
export const DEFAULT_SUPERVISION_POLL_MS = 60_000;

export interface SupervisionOptions {
  /** Days before a vedtak's evaluation date from which the nurse in charge is reminded (default 14). */
  reminderDays?: number;
  /** Scheduler poll interval in ms (default 60 000). */
  pollMs?: number;
}

/** Where a legal basis stands against its evaluation date on `today` (site time zone). */
export function evaluationState(
  row: Pick<LegalRow, 'kind' | 'next_evaluation_on' | 'ended_at'>,
  today: string,
  withinDays: number,
): EvaluationState {
  if (row.kind !== 'vedtak' || row.next_evaluation_on === null || row.ended_at !== null) return 'not-applicable';
  const days = daysBetween(today, row.next_evaluation_on);
  return days < 0 ? 'overdue' : days <= withinDays ? 'due' : 'ok';
}

const ACTIVE: PlanStatus = { state: 'active', reason: null, until: null, changedBy: null, changedAt: null };

const toStatus = (row: StatusRow | undefined): PlanStatus =>
  row === undefined
    ? ACTIVE
    : { state: row.state as PlanState, reason: row.reason, until: row.until, changedBy: row.changed_by, changedAt: row.changed_at };

/** What the server holds on one resident's supervision, outside the site configuration. */
export interface SupervisionRecords {
  legal: Map<string, LegalRow>;
  status: Map<string, PlanStatus>;
}

/**
 * The legal basis and status of every resident's supervision, and what follows from them:
 *
 * - A resident is armed (`plan.armed` in the configuration the gateway gets) only while a legal
 *   basis is recorded (a consent, or a vedtak under pasient- og brukerrettighetsloven § 4-6 a) and
 *   the plan is active. This is the arming policy of SiteService, so no save can bypass it.
 * - A vedtak whose evaluation date has passed stays armed and is flagged "evaluation overdue":
 *   taking a resident's protection away because paperwork is late would put the resident at risk,
 *   so the nurse in charge is reminded instead (patient safety first).
 * - Plans are paused (with a reason, optionally until an instant, after which they resume by
 *   themselves), resumed and ended. Every change is written to the audit trail in the same
 *   transaction as the configuration revision it produces, and pushed to the site's gateway.
 */
export class SupervisionService {
  readonly #listeners = new Set<(reminders: EvaluationReminders, version: number) => void>();
  readonly reminderDays: number;
  readonly #pollMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = true;
  #closed = false;

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: SupervisionOptions = {},
  ) {
    this.reminderDays = options.reminderDays ?? DEFAULT_REMINDER_DAYS;
    this.#pollMs = options.pollMs ?? DEFAULT_SUPERVISION_POLL_MS;
    if (!(Number.isInteger(this.reminderDays) && this.reminderDays >= 0 && this.reminderDays <= 365))
      throw new Error(`supervision.reminderDays must be a whole number of days from 0 to 365, got ${this.reminderDays}`);
    if (!(Number.isInteger(this.#pollMs) && this.#pollMs > 0))
      throw new Error(`supervision.pollMs must be a positive whole number of milliseconds, got ${this.#pollMs}`);
  }

  /** The arming policy: armed = a legal basis is recorded and the plan is active. */
  readonly arm = async (trx: SiteTransaction, config: SiteConfig): Promise<SiteConfig> => {
    const { legal, status } = await this.records(config.site.id, trx);
    return {
      ...config,
      residents: config.residents.map((r) => ({
        ...r,
        plan: { ...r.plan, armed: legal.has(r.id) && (status.get(r.id)?.state ?? 'active') === 'active' },
      })),
    };
  };

  /** The current legal basis and plan status of every resident of a site. */
  async records(siteId: string, db: RelationalDb | SiteTransaction = this.db): Promise<SupervisionRecords> {
    const legalRows = await db.selectFrom('legal_basis').selectAll().where('site_id', '=', siteId).where('ended_at', 'is', null).execute();
    const statusRows = await db.selectFrom('plan_status').selectAll().where('site_id', '=', siteId).execute();
    return {
      legal: new Map(legalRows.map((r) => [r.resident_id, r])),
      status: new Map(statusRows.map((r) => [r.resident_id, toStatus(r)])),
    };
  }

  /** Today in the site's time zone, by the server clock. */
  today(siteId: string): string {
    return localDate(this.clock.now(), this.sites.get(siteId)?.site.timezone ?? 'Europe/Oslo');
  }

  toLegalBasis(row: LegalRow, today: string): LegalBasis {
    return {
      id: row.id,
      residentId: row.resident_id,
      kind: row.kind as LegalBasis['kind'],
      givenBy: row.given_by as LegalBasis['givenBy'],
      guardianName: row.guardian_name,
      consentedOn: row.consented_on,
      decidedOn: row.decided_on,
      nextEvaluationOn: row.next_evaluation_on,
      reference: row.reference,
      note: row.note,
      recordedBy: row.recorded_by,
      recordedAt: row.recorded_at,
      evaluatedOn: row.evaluated_on,
      endedAt: row.ended_at,
      endedBy: row.ended_by,
      endReason: row.end_reason,
      evaluation: evaluationState(row, today, this.reminderDays),
    };
  }

  /** A resident's current legal basis (or null) and every earlier one, newest first. */
  async legalBases(siteId: string, residentId: string): Promise<{ current: LegalBasis | null; history: LegalBasis[] }> {
    const today = this.today(siteId);
    const rows = await this.db
      .selectFrom('legal_basis')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .orderBy('recorded_at', 'desc')
      .orderBy('id')
      .execute();
    const current = rows.find((r) => r.ended_at === null);
    return {
      current: current === undefined ? null : this.toLegalBasis(current, today),
      history: rows.filter((r) => r !== current).map((r) => this.toLegalBasis(r, today)),
    };
  }

  async status(siteId: string, residentId: string): Promise<PlanStatus> {
    const row = await this.db
      .selectFrom('plan_status')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .executeTakeFirst();
    return toStatus(row);
  }

  /** Records a consent or a vedtak; it replaces the current legal basis, which is kept as history. */
  async recordLegalBasis(siteId: string, residentId: string, input: LegalBasisInput, actor: Actor): Promise<LegalBasis> {
    const today = this.today(siteId);
    checkLegalBasis(input, today);
    const at = this.#nowIso();
    const id = randomUUID();
    await this.sites.change(siteId, async (config, trx) => {
      requireResident(config, residentId);
      const previous = await currentLegal(trx, siteId, residentId);
      if (previous !== undefined)
        await trx
          .updateTable('legal_basis')
          .set({ ended_at: at, ended_by: actor.name, end_reason: 'replaced by a new record' })
          .where('id', '=', previous.id)
          .execute();
      await insertLegalBasis(trx, { id, siteId, residentId, input, actor, at });
      return {
        value: id,
        audit: (revision) =>
          writeConfigAudit(trx, {
            siteId,
            entity: 'legal-basis',
            entityId: id,
            residentId,
            action: 'recorded',
            actor,
            at,
            revision,
            detail: { ...input, replaced: previous?.id ?? null },
          }),
      };
    });
    await this.#remindSite(siteId);
    const recorded = await this.db.selectFrom('legal_basis').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return this.toLegalBasis(recorded, today);
  }

  /** Ends the current legal basis (consent withdrawn, vedtak lifted): the resident is disarmed at once. */
  async endLegalBasis(siteId: string, residentId: string, reason: string, actor: Actor): Promise<LegalBasis> {
    return this.#changeCurrentLegal(siteId, residentId, actor, 'ended', async (current, trx, at) => {
      if (current === undefined) throw new HttpError(409, `resident "${residentId}" has no legal basis recorded`);
      await trx
        .updateTable('legal_basis')
        .set({ ended_at: at, ended_by: actor.name, end_reason: reason })
        .where('id', '=', current.id)
        .execute();
      return { id: current.id, detail: { reason } };
    });
  }

  /** Records that the current vedtak was evaluated and when it is to be evaluated next. */
  async recordEvaluation(
    siteId: string,
    residentId: string,
    input: { evaluatedOn: string; nextEvaluationOn: string; note?: string },
    actor: Actor,
  ): Promise<LegalBasis> {
    const today = this.today(siteId);
    requireDate('evaluatedOn', input.evaluatedOn);
    requireDate('nextEvaluationOn', input.nextEvaluationOn);
    if (input.evaluatedOn > today) throw new HttpError(400, `body/evaluatedOn: ${input.evaluatedOn} is in the future (today is ${today})`);
    if (input.nextEvaluationOn <= input.evaluatedOn)
      throw new HttpError(400, `body/nextEvaluationOn: must be after evaluatedOn (${input.evaluatedOn})`);
    return this.#changeCurrentLegal(siteId, residentId, actor, 'evaluated', async (current, trx) => {
      if (current?.kind !== 'vedtak') throw new HttpError(409, `resident "${residentId}" has no vedtak recorded to evaluate`);
      if (current.decided_on !== null && input.evaluatedOn < current.decided_on)
        throw new HttpError(400, `body/evaluatedOn: before the vedtak was decided (${current.decided_on})`);
      await trx
        .updateTable('legal_basis')
        .set({ evaluated_on: input.evaluatedOn, next_evaluation_on: input.nextEvaluationOn, reminder_state: 'none' })
        .where('id', '=', current.id)
        .execute();
      return { id: current.id, detail: { ...input, previousNextEvaluationOn: current.next_evaluation_on } };
    });
  }

  /**
   * One change to a resident's legal basis in force, in a site change (so `armed` is re-derived):
   * `change` is given the current record (none when there is none), updates it or refuses, and
   * names the record changed and the audit's detail. Then the reminders are re-derived and the
   * record is read back.
   */
  async #changeCurrentLegal(
    siteId: string,
    residentId: string,
    actor: Actor,
    action: 'ended' | 'evaluated',
    change: (current: LegalRow | undefined, trx: SiteTransaction, at: string) => Promise<{ id: string; detail: object }>,
  ): Promise<LegalBasis> {
    const at = this.#nowIso();
    const { value: id } = await this.sites.change(siteId, async (config, trx) => {
      requireResident(config, residentId);
      const { id, detail } = await change(await currentLegal(trx, siteId, residentId), trx, at);
      return {
        value: id,
        audit: (revision) =>
          writeConfigAudit(trx, { siteId, entity: 'legal-basis', entityId: id, residentId, action, actor, at, revision, detail }),
      };
    });
    await this.#remindSite(siteId);
    const row = await this.db.selectFrom('legal_basis').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return this.toLegalBasis(row, this.today(siteId));
  }

  /** Pauses a plan (the resident is disarmed) with a reason, optionally until an instant; pausing a paused plan updates both. */
  async pause(siteId: string, residentId: string, input: { reason: string; until?: string }, actor: Actor): Promise<PlanStatus> {
    if (input.until !== undefined && Date.parse(input.until) <= this.clock.now())
      throw new HttpError(400, `body/until: ${input.until} has already passed`);
    return this.#setStatus(siteId, residentId, actor, 'paused', (from) => {
      if (from === 'ended') throw new HttpError(409, `the plan of resident "${residentId}" has ended; resume it before pausing it`);
      // Stored as toISOString() text, so it compares as time with the scheduler's `now`.
      return { reason: input.reason, until: input.until === undefined ? null : new Date(input.until).toISOString() };
    });
  }

  /** Makes a paused or ended plan active again (armed again if a legal basis is recorded). */
  async resume(siteId: string, residentId: string, input: { note?: string }, actor: Actor): Promise<PlanStatus> {
    return this.#setStatus(siteId, residentId, actor, 'active', (from) => {
      if (from === 'active') throw new HttpError(409, `the plan of resident "${residentId}" is already active`);
      return { reason: input.note ?? null, until: null };
    });
  }

  /** Ends a plan: the resident is disarmed until the plan is resumed. */
  async end(siteId: string, residentId: string, input: { reason: string }, actor: Actor): Promise<PlanStatus> {
    return this.#setStatus(siteId, residentId, actor, 'ended', (from) => {
      if (from === 'ended') throw new HttpError(409, `the plan of resident "${residentId}" has already ended`);
      return { reason: input.reason, until: null };
    });
  }

  async #setStatus(
    siteId: string,
    residentId: string,
    actor: Actor,
    state: PlanState,
    decide: (from: PlanState) => { reason: string | null; until: string | null },
  ): Promise<PlanStatus> {
    const at = this.#nowIso();
    const { value } = await this.sites.change(siteId, async (config, trx) => {
      requireResident(config, residentId);
      const from = toStatus(
        await trx
          .selectFrom('plan_status')
          .selectAll()
          .where('site_id', '=', siteId)
          .where('resident_id', '=', residentId)
          .executeTakeFirst(),
      );
      const { reason, until } = decide(from.state);
      const row = {
        site_id: siteId,
        resident_id: residentId,
        state,
        reason,
        until,
        changed_by: actor.name,
        changed_by_id: actor.id,
        changed_at: at,
      };
      await trx
        .insertInto('plan_status')
        .values(row)
        .onConflict((oc) => oc.columns(['site_id', 'resident_id']).doUpdateSet(row))
        .execute();
      const action = state === 'active' ? 'resumed' : state;
      return {
        value: toStatus(row),
        audit: (revision) =>
          writeConfigAudit(trx, {
            siteId,
            entity: 'plan-status',
            entityId: residentId,
            residentId,
            action,
            actor,
            at,
            revision,
            detail: { from: from.state, reason, until },
          }),
      };
    });
    return value;
  }

  /**
   * Records a consent for each of `residentIds` that has no legal basis yet, given by the resident
   * today: for the demo ward and test sites only (`--seed-site`), never for real residents.
   */
  async seedConsent(siteId: string, residentIds: string[], actor: Actor): Promise<number> {
    const at = this.#nowIso();
    const today = this.today(siteId);
    const { value } = await this.sites.change(siteId, async (config, trx) => {
      const { legal } = await this.records(siteId, trx);
      const ids = config.residents.map((r) => r.id).filter((id) => residentIds.includes(id) && !legal.has(id));
      const input: LegalBasisInput = { kind: 'consent', givenBy: 'resident', consentedOn: today, note: 'seeded for a demo or test site' };
      for (const residentId of ids) await insertLegalBasis(trx, { id: randomUUID(), siteId, residentId, input, actor, at });
      return {
        value: ids.length,
        audit: async (revision) => {
          for (const residentId of ids)
            await writeConfigAudit(trx, {
              siteId,
              entity: 'legal-basis',
              entityId: residentId,
              residentId,
              action: 'seeded',
              actor,
              at,
              revision,
              detail: { kind: 'consent', consentedOn: today },
            });
        },
      };
    });
    return value;
  }

  /**
   * Re-derives `armed` for every site from the stored records (on start-up): a configuration
   * stored by an older version, or edited by hand, never reaches a gateway armed without a legal
   * basis. A site whose arming changes gets a new revision and an audit row.
   */
  async rederiveAll(): Promise<number> {
    let changed = 0;
    const at = this.#nowIso();
    for (const config of this.sites.list()) {
      const { revision } = await this.sites.change(config.site.id, async (_current, trx) => ({
        value: null,
        audit: async (rev) => {
          if (rev !== null)
            await writeConfigAudit(trx, {
              siteId: config.site.id,
              entity: 'site',
              entityId: config.site.id,
              action: 'rearmed',
              actor: SYSTEM,
              at,
              revision: rev,
              detail: { reason: 'armed re-derived from legal basis and plan status at start-up' },
            });
        },
      }));
      if (revision !== null) {
        changed++;
        this.logger.warn({ siteId: config.site.id, revision }, 'arming of residents corrected from legal basis and plan status');
      }
    }
    return changed;
  }

  /** The vedtak evaluations of a site due within `withinDays` or overdue, most urgent first. */
  async reminders(siteId: string, withinDays = this.reminderDays): Promise<EvaluationReminders> {
    const config = this.sites.get(siteId);
    const today = this.today(siteId);
    if (config === undefined) return { siteId, today, withinDays, reminders: [] };
    const rows = await this.db
      .selectFrom('legal_basis')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('ended_at', 'is', null)
      .where('kind', '=', 'vedtak')
      .execute();
    const reminders: EvaluationReminder[] = [];
    for (const row of rows) {
      const state = evaluationState(row, today, withinDays);
      const resident = config.residents.find((r) => r.id === row.resident_id);
      if ((state !== 'due' && state !== 'overdue') || resident === undefined || row.next_evaluation_on === null) continue;
      reminders.push({
        residentId: resident.id,
        residentName: resident.name,
        roomId: resident.roomId,
        roomName: config.rooms.find((r) => r.id === resident.roomId)?.name ?? resident.roomId,
        legalBasisId: row.id,
        reference: row.reference ?? '',
        decidedOn: row.decided_on ?? row.next_evaluation_on,
        nextEvaluationOn: row.next_evaluation_on,
        daysLeft: daysBetween(today, row.next_evaluation_on),
        state,
      });
    }
    reminders.sort((a, b) => a.daysLeft - b.daysLeft || a.roomName.localeCompare(b.roomName, 'nb'));
    return { siteId, today, withinDays, reminders };
  }

  /**
   * Called on the instance that made the change with a site's reminders when one of its
   * evaluations becomes due or overdue (once, across instances) or its legal basis changed, with
   * the site's new `site_reminders` version: the list holds every change up to that version.
   * Other instances learn of it from the version (ReminderFeed).
   */
  onReminders(listener: (reminders: EvaluationReminders, version: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * One pass of the scheduler: resumes pauses that ran out, and reminds the nurse in charge of
   * evaluations that became due or overdue. Each step is claimed by a conditional UPDATE, so with
   * several instances on one database it happens once. Resolves with what this instance did.
   */
  runDue(): Promise<{ resumed: number; reminded: number }> {
    const run = this.#running.then(() => this.#runDueNow());
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #runDueNow(): Promise<{ resumed: number; reminded: number }> {
    let resumed = 0;
    let reminded = 0;
    const now = this.#nowIso();
    const expired = await this.db.selectFrom('plan_status').selectAll().where('state', '=', 'paused').where('until', '<=', now).execute();
    for (const row of expired) {
      if (this.#closed) break;
      try {
        const { value } = await this.sites.change(row.site_id, async (config, trx) => {
          const claimed = await trx
            .updateTable('plan_status')
            .set({ state: 'active', reason: null, until: null, changed_by: SYSTEM.name, changed_by_id: SYSTEM.id, changed_at: now })
            .where('site_id', '=', row.site_id)
            .where('resident_id', '=', row.resident_id)
            .where('state', '=', 'paused')
            .where('until', '=', row.until)
            .executeTakeFirst();
          if (Number(claimed.numUpdatedRows) === 0 || !config.residents.some((r) => r.id === row.resident_id)) return { value: false };
          return {
            value: true,
            audit: (revision) =>
              writeConfigAudit(trx, {
                siteId: row.site_id,
                entity: 'plan-status',
                entityId: row.resident_id,
                residentId: row.resident_id,
                action: 'resumed',
                actor: SYSTEM,
                at: now,
                revision,
                detail: { from: 'paused', reason: `the pause ended at ${row.until}`, pauseReason: row.reason },
              }),
          };
        });
        if (value) {
          resumed++;
          this.logger.info({ siteId: row.site_id, residentId: row.resident_id, until: row.until }, 'pause ended: plan active again');
        }
      } catch (error) {
        this.logger.error(
          { siteId: row.site_id, residentId: row.resident_id, err: error },
          'resuming a plan failed; retrying at the next poll',
        );
      }
    }
    for (const config of this.sites.list()) {
      if (this.#closed) break;
      reminded += await this.#claimReminders(config.site.id);
    }
    return { resumed, reminded };
  }

  /** Claims the evaluation state changes of a site's vedtak; sends the site's reminders when one became due or overdue. */
  async #claimReminders(siteId: string): Promise<number> {
    const today = this.today(siteId);
    const rows = await this.db
      .selectFrom('legal_basis')
      .select(['id', 'kind', 'next_evaluation_on', 'ended_at', 'reminder_state', 'resident_id'])
      .where('site_id', '=', siteId)
      .where('ended_at', 'is', null)
      .where('kind', '=', 'vedtak')
      .execute();
    let claimed = 0;
    for (const row of rows) {
      const state = evaluationState(row, today, this.reminderDays);
      const next = state === 'due' || state === 'overdue' ? state : 'none';
      if (next === row.reminder_state) continue;
      const updated = await this.db
        .updateTable('legal_basis')
        .set({ reminder_state: next })
        .where('id', '=', row.id)
        .where('reminder_state', '=', row.reminder_state)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1 && next !== 'none') {
        claimed++;
        this.logger.info(
          { siteId, residentId: row.resident_id, state: next, nextEvaluationOn: row.next_evaluation_on },
          'vedtak evaluation reminder',
        );
      }
    }
    if (claimed > 0) await this.#announce(siteId);
    return claimed;
  }

  /** After a legal-basis change: claim what it changed and send the site's fresh list to the nurse in charge. */
  async #remindSite(siteId: string): Promise<void> {
    try {
      if ((await this.#claimReminders(siteId)) === 0) await this.#announce(siteId);
    } catch (error) {
      this.logger.error({ siteId, err: error }, 'sending evaluation reminders failed');
    }
  }

  /** Every site's `site_reminders` version: how many times its reminders changed. */
  async reminderVersions(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('site_reminders').select(['site_id', 'version']).execute();
    return new Map(rows.map((r) => [r.site_id, Number(r.version)]));
  }

  /**
   * A site's reminders changed: its version goes up first (one atomic upsert), then the list is
   * read, so the list holds every change up to that version, whichever instance made it.
   */
  async #announce(siteId: string): Promise<void> {
    const at = this.#nowIso();
    const { version } = await this.db
      .insertInto('site_reminders')
      .values({ site_id: siteId, version: 1, changed_at: at })
      .onConflict((oc) => oc.column('site_id').doUpdateSet({ version: sql<number>`site_reminders.version + 1`, changed_at: at }))
      .returning('version')
      .executeTakeFirstOrThrow();
    this.#emit(await this.reminders(siteId), Number(version));
  }

  #emit(reminders: EvaluationReminders, version: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(reminders, version);
      } catch (error) {
        this.logger.error({ siteId: reminders.siteId, err: error }, 'reminder listener failed');
      }
    }
  }

  start(): void {
    if (!this.#stopped || this.#closed) return;
    this.#stopped = false;
    this.#tick();
  }

  /** Stops polling and waits for a pass in progress, so the database can close after it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.runDue().then(
      () => this.#arm(),
      (error: unknown) => {
        if (!this.#stopped) this.logger.error({ err: error }, 'supervision scheduler failed; retrying at the next poll');
        this.#arm();
      },
    );
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), this.#pollMs);
    this.#timer.unref();
  }

  #nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function requireResident(config: SiteConfig, residentId: string) {
  const resident = config.residents.find((r) => r.id === residentId);
  if (resident === undefined) throw new HttpError(404, `no resident "${residentId}" at site "${config.site.id}"`);
  return resident;
}

/** Stores `input` as a resident's legal basis in force, recorded by `actor` at `at`. */
async function insertLegalBasis(
  trx: SiteTransaction,
  row: { id: string; siteId: string; residentId: string; input: LegalBasisInput; actor: Actor; at: string },
): Promise<void> {
  const { id, siteId, residentId, input, actor, at } = row;
  await trx
    .insertInto('legal_basis')
    .values({
      id,
      site_id: siteId,
      resident_id: residentId,
      kind: input.kind,
      given_by: input.kind === 'consent' ? input.givenBy : null,
      guardian_name: input.kind === 'consent' ? (input.guardianName ?? null) : null,
      consented_on: input.kind === 'consent' ? input.consentedOn : null,
      decided_on: input.kind === 'vedtak' ? input.decidedOn : null,
      next_evaluation_on: input.kind === 'vedtak' ? input.nextEvaluationOn : null,
      reference: input.kind === 'vedtak' ? input.reference : null,
      note: input.note ?? null,
      recorded_by: actor.name,
      recorded_by_id: actor.id,
      recorded_at: at,
      evaluated_on: null,
      ended_at: null,
      ended_by: null,
      end_reason: null,
    })
    .execute();
}

const currentLegal = (trx: SiteTransaction, siteId: string, residentId: string) =>
  trx
    .selectFrom('legal_basis')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('resident_id', '=', residentId)
    .where('ended_at', 'is', null)
    .executeTakeFirst();

function requireDate(field: string, value: string): void {
  if (!isRealDate(value)) throw new HttpError(400, `body/${field}: ${value} is not a date that exists`);
}

/** The fields of the kind chosen, each required with its name in the refusal. */
export function legalBasisInput(body: LegalBasisBody): LegalBasisInput {
  const need = <K extends keyof LegalBasisBody>(field: K): NonNullable<LegalBasisBody[K]> => {
    const value = body[field];
    if (value === undefined) throw new HttpError(400, `body/${field}: required for a ${body.kind}`);
    return value as NonNullable<LegalBasisBody[K]>;
  };
  const refuse = (fields: (keyof LegalBasisBody)[]) => {
    for (const field of fields) if (body[field] !== undefined) throw new HttpError(400, `body/${field}: not part of a ${body.kind}`);
  };
  const note = body.note === undefined ? {} : { note: body.note };
  if (body.kind === 'consent') {
    refuse(['decidedOn', 'nextEvaluationOn', 'reference']);
    return {
      kind: 'consent',
      givenBy: need('givenBy'),
      consentedOn: need('consentedOn'),
      ...(body.guardianName === undefined ? {} : { guardianName: body.guardianName }),
      ...note,
    };
  }
  refuse(['givenBy', 'guardianName', 'consentedOn']);
  return {
    kind: 'vedtak',
    decidedOn: need('decidedOn'),
    nextEvaluationOn: need('nextEvaluationOn'),
    reference: need('reference'),
    ...note,
  };
}

/** The checks a schema cannot make: real dates, nothing in the future, evaluation after decision, a guardian's name. */
export function checkLegalBasis(input: LegalBasisInput, today: string): void {
  if (input.kind === 'consent') {
    requireDate('consentedOn', input.consentedOn);
    if (input.consentedOn > today) throw new HttpError(400, `body/consentedOn: ${input.consentedOn} is in the future (today is ${today})`);
    if (input.givenBy === 'guardian' && input.guardianName === undefined)
      throw new HttpError(400, 'body/guardianName: required when the consent is given by a guardian');
    if (input.givenBy === 'resident' && input.guardianName !== undefined)
      throw new HttpError(400, 'body/guardianName: only for a consent given by a guardian');
    return;
  }
  requireDate('decidedOn', input.decidedOn);
  requireDate('nextEvaluationOn', input.nextEvaluationOn);
  if (input.decidedOn > today) throw new HttpError(400, `body/decidedOn: ${input.decidedOn} is in the future (today is ${today})`);
  if (input.nextEvaluationOn <= input.decidedOn)
    throw new HttpError(400, `body/nextEvaluationOn: must be after decidedOn (${input.decidedOn})`);
}
