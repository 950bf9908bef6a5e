import { Id, Instant } from '@nattevakt/protocol/ids';
import { EvaluationReminders, LegalBasis, LegalBasisBody, LocalDate, PlanStatus, UnprotectedView } from '@nattevakt/protocol/supervision';
import type { SiteClock } from '@nattevakt/protocol/ward';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { Clock } from '../alarms/escalation.js';
import { WARD_READ_ROLES } from '../auth/auth-service.js';
import { readConfigAudit } from '../sites/config-audit.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import { legalBasisInput, type SupervisionService } from '../supervision/supervision-service.js';
import { unprotectedView } from '../supervision/unprotected.js';
import type { WardState } from '../ward/ward-state.js';
import { HttpError } from './http-error.js';
import { CARE_ADMIN_ROLES, ResidentParams, SiteParams, siteAccess } from './site-config.js';

const Reason = Type.String({ minLength: 1, maxLength: 500 });
const StatusAnswer = Type.Object({
  residentId: Id,
  status: PlanStatus,
  armed: Type.Boolean({ description: "whether the gateway now raises this resident's care alarms" }),
  revision: Type.Integer({ description: 'the site configuration revision after the change' }),
});
const LegalAnswer = Type.Object({ legalBasis: LegalBasis, armed: Type.Boolean(), revision: Type.Integer() });
const AuditEntry = Type.Object({
  seq: Type.Integer(),
  entity: Type.String({ description: 'site, room, resident, sensor, plan, legal-basis, plan-status' }),
  entityId: Type.String(),
  residentId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ description: 'created, updated, deleted, recorded, ended, evaluated, seeded, paused, resumed' }),
  actor: Type.String({ description: 'display name, or `system`' }),
  actorId: Type.String(),
  at: Instant,
  revision: Type.Union([Type.Integer(), Type.Null()]),
  detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

/**
 * The legal basis and status of each resident's supervision, the nurse in charge's evaluation
 * reminders, the "unprotected tonight" view and the configuration audit trail.
 */
export const supervisionRoutes: FastifyPluginAsync<{
  db: RelationalDb;
  sites: SiteService;
  supervision: SupervisionService;
  ward: WardState;
  alarms: AlarmService;
  clocks: Map<string, SiteClock>;
  clock: Clock;
}> = async (app, deps) => {
  const { sites, supervision } = deps;
  const tags = ['supervision'];
  const after = (siteId: string, residentId: string) => {
    const config = sites.get(siteId);
    return {
      armed: config?.residents.find((r) => r.id === residentId)?.plan.armed ?? false,
      revision: config?.revision ?? 0,
    };
  };

  app.get<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId/legal-basis',
    {
      schema: {
        tags,
        summary: "A resident's current legal basis and its history (admin, nurse in charge)",
        params: ResidentParams,
        response: { 200: Type.Object({ current: Type.Union([LegalBasis, Type.Null()]), history: Type.Array(LegalBasis) }) },
      },
    },
    async (request) => {
      const { config } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { residentId } = request.params;
      const known = config.residents.some((r) => r.id === residentId);
      const bases = await supervision.legalBases(config.site.id, residentId);
      if (!known && bases.current === null && bases.history.length === 0)
        throw new HttpError(404, `no resident "${residentId}" at site "${config.site.id}"`);
      return bases;
    },
  );
  app.post<{ Params: Static<typeof ResidentParams>; Body: Static<typeof LegalBasisBody> }>(
    '/api/sites/:siteId/residents/:residentId/legal-basis',
    {
      schema: {
        tags,
        summary: 'Record a consent or a vedtak (§ 4-6 a); it replaces the current one and arms an active plan (admin, nurse in charge)',
        params: ResidentParams,
        body: LegalBasisBody,
        response: { 201: LegalAnswer },
      },
    },
    async (request, reply) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const legalBasis = await supervision.recordLegalBasis(siteId, residentId, legalBasisInput(request.body), actor);
      reply.code(201);
      return { legalBasis, ...after(siteId, residentId) };
    },
  );
  app.post<{ Params: Static<typeof ResidentParams>; Body: { reason: string } }>(
    '/api/sites/:siteId/residents/:residentId/legal-basis/end',
    {
      schema: {
        tags,
        summary: 'End the current legal basis (consent withdrawn, vedtak lifted): the resident is disarmed at once',
        params: ResidentParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: LegalAnswer },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const legalBasis = await supervision.endLegalBasis(siteId, residentId, request.body.reason, actor);
      return { legalBasis, ...after(siteId, residentId) };
    },
  );
  app.post<{ Params: Static<typeof ResidentParams>; Body: { evaluatedOn: string; nextEvaluationOn: string; note?: string } }>(
    '/api/sites/:siteId/residents/:residentId/legal-basis/evaluation',
    {
      schema: {
        tags,
        summary: 'Record that the current vedtak was evaluated, and its next evaluation date',
        params: ResidentParams,
        body: Type.Object(
          { evaluatedOn: LocalDate, nextEvaluationOn: LocalDate, note: Type.Optional(Type.String({ maxLength: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: LegalAnswer },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const legalBasis = await supervision.recordEvaluation(siteId, residentId, request.body, actor);
      return { legalBasis, ...after(siteId, residentId) };
    },
  );

  app.post<{ Params: Static<typeof ResidentParams>; Body: { reason: string; until?: string } }>(
    '/api/sites/:siteId/residents/:residentId/plan/pause',
    {
      schema: {
        tags,
        summary: 'Pause a plan with a reason, optionally until an instant when it resumes by itself (admin, nurse in charge)',
        params: ResidentParams,
        body: Type.Object({ reason: Reason, until: Type.Optional(Instant) }, { additionalProperties: false }),
        response: { 200: StatusAnswer },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const status = await supervision.pause(siteId, residentId, request.body, actor);
      return { residentId, status, ...after(siteId, residentId) };
    },
  );
  app.post<{ Params: Static<typeof ResidentParams>; Body: { note?: string } }>(
    '/api/sites/:siteId/residents/:residentId/plan/resume',
    {
      schema: {
        tags,
        summary: 'Make a paused or ended plan active again (admin, nurse in charge)',
        params: ResidentParams,
        body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 200: StatusAnswer },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const status = await supervision.resume(siteId, residentId, request.body ?? {}, actor);
      return { residentId, status, ...after(siteId, residentId) };
    },
  );
  app.post<{ Params: Static<typeof ResidentParams>; Body: { reason: string } }>(
    '/api/sites/:siteId/residents/:residentId/plan/end',
    {
      schema: {
        tags,
        summary: 'End a plan (admin, nurse in charge)',
        params: ResidentParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: StatusAnswer },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { siteId, residentId } = request.params;
      const status = await supervision.end(siteId, residentId, request.body, actor);
      return { residentId, status, ...after(siteId, residentId) };
    },
  );

  app.get<{ Params: Static<typeof SiteParams>; Querystring: { withinDays?: number } }>(
    '/api/sites/:siteId/evaluation-reminders',
    {
      schema: {
        tags,
        summary: 'Vedtak evaluations due within `withinDays` (default 14) or overdue (admin, nurse in charge)',
        params: SiteParams,
        querystring: Type.Object(
          { withinDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })) },
          { additionalProperties: false },
        ),
        response: { 200: EvaluationReminders },
      },
    },
    async (request) => {
      siteAccess(request, CARE_ADMIN_ROLES, sites);
      return supervision.reminders(request.params.siteId, request.query.withinDays ?? supervision.reminderDays);
    },
  );

  app.get<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/unprotected',
    {
      schema: {
        tags,
        summary: 'Every resident whose protection is weakened tonight, and why (the "Unprotected tonight" panel)',
        params: SiteParams,
        response: { 200: UnprotectedView },
      },
    },
    async (request) => {
      const { config } = siteAccess(request, WARD_READ_ROLES, sites);
      const siteId = config.site.id;
      const siteClock = deps.clocks.get(siteId);
      const [records, rooms, open] = await Promise.all([supervision.records(siteId), deps.ward.rooms(siteId), deps.alarms.open(siteId)]);
      return unprotectedView({
        config,
        legal: records.legal,
        status: records.status,
        rooms,
        openAlarms: open.alarms,
        now: siteClock?.simulated ? Date.parse(siteClock.time) : deps.clock.now(),
        today: supervision.today(siteId),
        reminderDays: supervision.reminderDays,
      });
    },
  );

  app.get<{ Params: Static<typeof SiteParams>; Querystring: { residentId?: string; before?: number; limit?: number } }>(
    '/api/sites/:siteId/audit',
    {
      schema: {
        tags,
        summary: 'Who changed what in the configuration, legal bases and plan status, newest first (admin, nurse in charge)',
        params: SiteParams,
        querystring: Type.Object(
          {
            residentId: Type.Optional(Id),
            before: Type.Optional(Type.Integer({ minimum: 1, description: 'only entries with a smaller seq (paging)' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntry) }) },
      },
    },
    async (request) => {
      siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { residentId, before, limit } = request.query;
      return {
        entries: await readConfigAudit(deps.db, request.params.siteId, {
          ...(residentId !== undefined ? { residentId } : {}),
          ...(before !== undefined ? { before } : {}),
          limit: limit ?? 100,
        }),
      };
    },
  );
};
