import type { SiteClock } from '@nattevakt/protocol/ward';
import { WardView } from '@nattevakt/protocol/ward';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.js';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { WARD_READ_ROLES } from '../auth/auth-service.js';
import type { SiteService } from '../sites/site-service.js';
import type { WardState } from '../ward/ward-state.js';
import { HttpError } from './http-error.js';

/** The nurse's board: every room of a site with its live state. */
export const wardRoutes: FastifyPluginAsync<{
  sites: SiteService;
  ward: WardState;
  alarms: AlarmService;
  clocks: Map<string, SiteClock>;
  gatewayConnected: (siteId: string) => Promise<boolean>;
}> = async (app, deps) => {
  app.get<{ Querystring: { site?: string } }>(
    '/api/ward',
    {
      schema: {
        querystring: Type.Object({ site: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: WardView },
      },
    },
    async (request) => {
      const user = requireRole(request, WARD_READ_ROLES);
      if (request.query.site !== undefined) requireSite(user, request.query.site);
      // Without `site`: the first of the user's sites that is configured.
      const config =
        request.query.site === undefined
          ? deps.sites.list().find((c) => user.sites.includes(c.site.id))
          : deps.sites.get(request.query.site);
      if (config === undefined)
        throw new HttpError(404, request.query.site === undefined ? 'no site is configured yet' : `no site "${request.query.site}"`);
      const siteId = config.site.id;
      const localFeed = await deps.sites.localFeed(siteId);
      return {
        site: config.site,
        gatewayConnected: await deps.gatewayConnected(siteId),
        clock: deps.clocks.get(siteId) ?? null,
        rooms: await deps.ward.rooms(siteId),
        seq: await deps.alarms.currentSeq(),
        ...(localFeed === undefined ? {} : { localFeed }),
      };
    },
  );
};
