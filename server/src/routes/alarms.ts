import { Alarm } from '@nattevakt/protocol/alarm';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.js';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { type SessionUser, STAFF_ROLES } from '../auth/auth-service.js';
import { HttpError } from './http-error.js';

const AlarmList = Type.Object({
  seq: Type.Integer(),
  alarms: Type.Array(Alarm),
  more: Type.Optional(Type.Boolean({ description: 'true when the page was full: ask again with since=seq' })),
});

/** Alarm reads over REST: the open list, and the changes a reconnecting tablet missed. */
export const alarmRoutes: FastifyPluginAsync<{ alarms: AlarmService }> = async (app, { alarms }) => {
  /** The alarms of the user's sites, or of `site` (403 when the user is not a member). */
  const visible = (user: SessionUser, site: string | undefined, list: { seq: number; alarms: Alarm[]; more?: boolean }) => {
    if (site !== undefined) requireSite(user, site);
    const sites = site === undefined ? user.sites : [site];
    return { seq: list.seq, alarms: list.alarms.filter((a) => sites.includes(a.siteId)), ...(list.more ? { more: true } : {}) };
  };
  const Site = Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only this site (default: all of yours)' }));

  app.get<{ Querystring: { site?: string } }>(
    '/api/alarms/open',
    { schema: { querystring: Type.Object({ site: Site }, { additionalProperties: false }), response: { 200: AlarmList } } },
    async (request) => visible(requireRole(request, STAFF_ROLES), request.query.site, await alarms.open()),
  );

  app.get<{ Querystring: { since: number; site?: string } }>(
    '/api/alarms/changes',
    {
      schema: {
        querystring: Type.Object(
          { since: Type.Integer({ minimum: 0, description: 'the highest alarm seq the client has seen' }), site: Site },
          { additionalProperties: false },
        ),
        response: { 200: AlarmList },
      },
    },
    async (request) => visible(requireRole(request, STAFF_ROLES), request.query.site, await alarms.changesSince(request.query.since)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/alarms/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: Type.Object({
            alarm: Alarm,
            audit: Type.Array(
              Type.Object({
                seq: Type.Integer(),
                action: Type.String({ description: 'raised, acknowledged, condition-cleared, escalated, resolved' }),
                actor: Type.String({ description: 'a nurse, `gateway:<site>`, or `system` (escalation)' }),
                at: Type.String(),
                detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const user = requireRole(request, STAFF_ROLES);
      const found = await alarms.get(request.params.id);
      if (found === null) throw new HttpError(404, 'no such alarm');
      requireSite(user, found.alarm.siteId);
      return found;
    },
  );
};
