import { Id } from '@nattevakt/protocol/ids';
import { SensorKind, SupervisionPlan } from '@nattevakt/protocol/site-config';
import { EvaluationState, LocalDate, PlanStatus } from '@nattevakt/protocol/supervision';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { type Role, type SessionUser, WARD_READ_ROLES } from '../auth/auth-service.js';
import type { Actor } from '../sites/config-audit.js';
import type { SiteEditor } from '../sites/site-editor.js';
import type { SiteService } from '../sites/site-service.js';
import type { SupervisionService } from '../supervision/supervision-service.js';
import { HttpError } from './http-error.js';

/** Who may change rooms and sensors (the installation), and who may change residents and plans (care). */
export const INSTALL_ROLES: readonly Role[] = ['admin'];
export const CARE_ADMIN_ROLES: readonly Role[] = ['admin', 'nurse_in_charge'];

export const SiteParams = Type.Object({ siteId: Id }, { additionalProperties: false });
export const ResidentParams = Type.Object({ siteId: Id, residentId: Id }, { additionalProperties: false });
const RoomParams = Type.Object({ siteId: Id, roomId: Id }, { additionalProperties: false });
const SensorParams = Type.Object({ siteId: Id, sensorId: Id }, { additionalProperties: false });

const Revision = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
  description: 'the configuration revision pushed to the gateway by this change; null when nothing changed',
});
const Room = Type.Object({ id: Id, name: Type.String() });
const RoomBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false });
const NewRoomBody = Type.Object(
  { id: Type.Optional(Id), name: Type.String({ minLength: 1, maxLength: 60 }) },
  { additionalProperties: false },
);
const Sensor = Type.Object({ id: Id, kind: SensorKind, roomId: Id, residentId: Type.Optional(Id) });
const SensorBody = Type.Object({ kind: SensorKind, roomId: Id, residentId: Type.Optional(Id) }, { additionalProperties: false });
const NewSensorBody = Type.Object({ id: Id, kind: SensorKind, roomId: Id, residentId: Type.Optional(Id) }, { additionalProperties: false });
/** A plan as written by people: everything but `armed`, which the server derives. */
export const PlanBody = Type.Omit(SupervisionPlan, ['armed'], { additionalProperties: false });
const NewResidentBody = Type.Object(
  { id: Type.Optional(Id), name: Type.String({ minLength: 1, maxLength: 120 }), roomId: Id, plan: Type.Optional(PlanBody) },
  { additionalProperties: false },
);
const ResidentBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }), roomId: Id }, { additionalProperties: false });
export const LegalBasisSummary = Type.Union([
  Type.Object({
    kind: Type.Union([Type.Literal('consent'), Type.Literal('vedtak')]),
    evaluation: EvaluationState,
    nextEvaluationOn: Type.Union([LocalDate, Type.Null()]),
  }),
  Type.Null(),
]);
export const ResidentView = Type.Object({
  id: Id,
  name: Type.String(),
  roomId: Id,
  plan: SupervisionPlan,
  status: PlanStatus,
  legalBasis: LegalBasisSummary,
});
export type ResidentView = Static<typeof ResidentView>;

export const actorOf = (user: SessionUser): Actor => ({ id: user.id, name: user.displayName });

/** The user (of one of `roles`, member of the site) and the site's configuration; 403 / 404 otherwise. */
export function siteAccess(request: FastifyRequest<{ Params: { siteId: string } }>, roles: readonly Role[], sites: SiteService) {
  const user = requireRole(request, roles);
  requireSite(user, request.params.siteId);
  const config = sites.get(request.params.siteId);
  if (config === undefined) throw new HttpError(404, `no site "${request.params.siteId}"`);
  return { user, config, actor: actorOf(user) };
}

/**
 * REST for a site's rooms, residents, sensors and supervision plans. Reads: staff and
 * technicians of the site. Rooms and sensors: admin. Residents and plans: admin and nurse in
 * charge. Every change is saved through SiteService (next revision, pushed to the gateway) with
 * its audit row.
 */
export const siteConfigRoutes: FastifyPluginAsync<{ sites: SiteService; editor: SiteEditor; supervision: SupervisionService }> = async (
  app,
  { sites, editor, supervision },
) => {
  const residentViews = async (siteId: string, ids?: string[]): Promise<ResidentView[]> => {
    const config = sites.get(siteId);
    if (config === undefined) return [];
    const { legal, status } = await supervision.records(siteId);
    const today = supervision.today(siteId);
    return config.residents
      .filter((r) => ids === undefined || ids.includes(r.id))
      .map((r) => {
        const basis = legal.get(r.id);
        return {
          id: r.id,
          name: r.name,
          roomId: r.roomId,
          plan: r.plan,
          status: status.get(r.id) ?? { state: 'active', reason: null, until: null, changedBy: null, changedAt: null },
          legalBasis:
            basis === undefined
              ? null
              : {
                  kind: basis.kind as 'consent' | 'vedtak',
                  evaluation: supervision.toLegalBasis(basis, today).evaluation,
                  nextEvaluationOn: basis.next_evaluation_on,
                },
        };
      });
  };
  const residentView = async (siteId: string, residentId: string) => {
    const [view] = await residentViews(siteId, [residentId]);
    if (view === undefined) throw new HttpError(404, `no resident "${residentId}" at site "${siteId}"`);
    return view;
  };
  const tags = ['configuration'];

  app.get(
    '/api/sites',
    {
      schema: {
        tags,
        summary: "The user's sites",
        response: {
          200: Type.Object({
            sites: Type.Array(Type.Object({ id: Id, name: Type.String(), timezone: Type.String(), revision: Type.Integer() })),
          }),
        },
      },
    },
    async (request) => {
      const user = requireRole(request, WARD_READ_ROLES);
      return {
        sites: sites
          .list()
          .filter((c) => user.sites.includes(c.site.id))
          .map((c) => ({ ...c.site, revision: c.revision ?? 0 })),
      };
    },
  );

  // Rooms
  app.get<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/rooms',
    {
      schema: {
        tags,
        summary: 'Rooms of a site',
        params: SiteParams,
        response: { 200: Type.Object({ siteId: Id, revision: Type.Integer(), rooms: Type.Array(Room) }) },
      },
    },
    async (request) => {
      const { config } = siteAccess(request, WARD_READ_ROLES, sites);
      return { siteId: config.site.id, revision: config.revision ?? 0, rooms: config.rooms };
    },
  );
  app.post<{ Params: Static<typeof SiteParams>; Body: Static<typeof NewRoomBody> }>(
    '/api/sites/:siteId/rooms',
    {
      schema: {
        tags,
        summary: 'Add a room (admin)',
        params: SiteParams,
        body: NewRoomBody,
        response: { 201: Type.Object({ room: Room, revision: Revision }) },
      },
    },
    async (request, reply) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      reply.code(201);
      return editor.createRoom(request.params.siteId, request.body, actor);
    },
  );
  app.put<{ Params: Static<typeof RoomParams>; Body: Static<typeof RoomBody> }>(
    '/api/sites/:siteId/rooms/:roomId',
    {
      schema: {
        tags,
        summary: 'Rename a room (admin)',
        params: RoomParams,
        body: RoomBody,
        response: { 200: Type.Object({ room: Room, revision: Revision }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      return editor.updateRoom(request.params.siteId, request.params.roomId, request.body, actor);
    },
  );
  app.delete<{ Params: Static<typeof RoomParams> }>(
    '/api/sites/:siteId/rooms/:roomId',
    {
      schema: {
        tags,
        summary: 'Remove an empty room (admin); 409 while residents or sensors are in it',
        params: RoomParams,
        response: { 200: Type.Object({ revision: Revision }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      return editor.deleteRoom(request.params.siteId, request.params.roomId, actor);
    },
  );

  // Sensors
  app.get<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/sensors',
    {
      schema: {
        tags,
        summary: 'Sensors of a site',
        params: SiteParams,
        response: { 200: Type.Object({ siteId: Id, revision: Type.Integer(), sensors: Type.Array(Sensor) }) },
      },
    },
    async (request) => {
      const { config } = siteAccess(request, WARD_READ_ROLES, sites);
      return { siteId: config.site.id, revision: config.revision ?? 0, sensors: config.sensors };
    },
  );
  app.post<{ Params: Static<typeof SiteParams>; Body: Static<typeof NewSensorBody> }>(
    '/api/sites/:siteId/sensors',
    {
      schema: {
        tags,
        summary: 'Add a sensor (admin); its id is the one it reports with',
        params: SiteParams,
        body: NewSensorBody,
        response: { 201: Type.Object({ sensor: Sensor, revision: Revision }) },
      },
    },
    async (request, reply) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      reply.code(201);
      return editor.createSensor(request.params.siteId, request.body, actor);
    },
  );
  app.put<{ Params: Static<typeof SensorParams>; Body: Static<typeof SensorBody> }>(
    '/api/sites/:siteId/sensors/:sensorId',
    {
      schema: {
        tags,
        summary: 'Change a sensor: kind, room, resident (admin)',
        params: SensorParams,
        body: SensorBody,
        response: { 200: Type.Object({ sensor: Sensor, revision: Revision }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      return editor.updateSensor(request.params.siteId, request.params.sensorId, request.body, actor);
    },
  );
  app.delete<{ Params: Static<typeof SensorParams> }>(
    '/api/sites/:siteId/sensors/:sensorId',
    {
      schema: { tags, summary: 'Remove a sensor (admin)', params: SensorParams, response: { 200: Type.Object({ revision: Revision }) } },
    },
    async (request) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      return editor.deleteSensor(request.params.siteId, request.params.sensorId, actor);
    },
  );

  // Residents
  app.get<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/residents',
    {
      schema: {
        tags,
        summary: 'Residents of a site with their plan, plan status and legal basis in short',
        params: SiteParams,
        response: { 200: Type.Object({ siteId: Id, revision: Type.Integer(), residents: Type.Array(ResidentView) }) },
      },
    },
    async (request) => {
      const { config } = siteAccess(request, WARD_READ_ROLES, sites);
      return { siteId: config.site.id, revision: config.revision ?? 0, residents: await residentViews(config.site.id) };
    },
  );
  app.get<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId',
    { schema: { tags, summary: 'One resident', params: ResidentParams, response: { 200: Type.Object({ resident: ResidentView }) } } },
    async (request) => {
      siteAccess(request, WARD_READ_ROLES, sites);
      return { resident: await residentView(request.params.siteId, request.params.residentId) };
    },
  );
  app.post<{ Params: Static<typeof SiteParams>; Body: Static<typeof NewResidentBody> }>(
    '/api/sites/:siteId/residents',
    {
      schema: {
        tags,
        summary: 'Add a resident (admin, nurse in charge); unarmed until a legal basis is recorded',
        params: SiteParams,
        body: NewResidentBody,
        response: { 201: Type.Object({ resident: ResidentView, revision: Revision }) },
      },
    },
    async (request, reply) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { value: id, revision } = await editor.createResident(request.params.siteId, request.body, actor);
      reply.code(201);
      return { resident: await residentView(request.params.siteId, id), revision };
    },
  );
  app.put<{ Params: Static<typeof ResidentParams>; Body: Static<typeof ResidentBody> }>(
    '/api/sites/:siteId/residents/:residentId',
    {
      schema: {
        tags,
        summary: 'Rename a resident or move them to another room (admin, nurse in charge)',
        params: ResidentParams,
        body: ResidentBody,
        response: { 200: Type.Object({ resident: ResidentView, revision: Revision }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { revision } = await editor.updateResident(request.params.siteId, request.params.residentId, request.body, actor);
      return { resident: await residentView(request.params.siteId, request.params.residentId), revision };
    },
  );
  app.delete<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId',
    {
      schema: {
        tags,
        summary: 'Remove a resident (admin, nurse in charge); their legal basis is ended and kept as history',
        params: ResidentParams,
        response: { 200: Type.Object({ revision: Revision }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { revision } = await editor.deleteResident(request.params.siteId, request.params.residentId, actor);
      return { revision };
    },
  );

  // Supervision plans
  const PlanView = Type.Object({ residentId: Id, plan: SupervisionPlan, status: PlanStatus, legalBasis: LegalBasisSummary });
  app.get<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId/plan',
    { schema: { tags, summary: "A resident's supervision plan", params: ResidentParams, response: { 200: PlanView } } },
    async (request) => {
      siteAccess(request, WARD_READ_ROLES, sites);
      const view = await residentView(request.params.siteId, request.params.residentId);
      return { residentId: view.id, plan: view.plan, status: view.status, legalBasis: view.legalBasis };
    },
  );
  app.put<{ Params: Static<typeof ResidentParams>; Body: Static<typeof PlanBody> }>(
    '/api/sites/:siteId/residents/:residentId/plan',
    {
      schema: {
        tags,
        summary: "Replace a resident's supervision plan (admin, nurse in charge); `armed` is derived, never sent",
        params: ResidentParams,
        body: PlanBody,
        response: { 200: Type.Composite([PlanView, Type.Object({ revision: Revision })]) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, CARE_ADMIN_ROLES, sites);
      const { revision } = await editor.setPlan(request.params.siteId, request.params.residentId, request.body, actor);
      const view = await residentView(request.params.siteId, request.params.residentId);
      return { residentId: view.id, plan: view.plan, status: view.status, legalBasis: view.legalBasis, revision };
    },
  );
};
