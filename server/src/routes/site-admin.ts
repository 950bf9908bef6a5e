import { Id, Instant } from '@nattevakt/protocol/ids';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireRole } from '../auth/auth-routes.js';
import { SiteAdmin } from '../sites/site-admin.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import { actorOf, INSTALL_ROLES, SiteParams, siteAccess } from './site-config.js';

const GatewayToken = Type.String({
  description: "the gateway's token, shown this once: only its SHA-256 is stored (give it to the gateway as NATTEVAKT_GATEWAY_TOKEN)",
});
const NewSiteBody = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 120 }),
    timezone: Type.String({ minLength: 1, maxLength: 64, default: 'Europe/Oslo', description: 'IANA time zone; default Europe/Oslo' }),
  },
  { additionalProperties: false },
);

/**
 * Sites as an admin creates them, and their gateway tokens. A new site starts empty (rooms,
 * residents and sensors follow over the configuration routes) with a gateway token returned once;
 * the creating admin becomes a member. Rotating a token revokes the old one at once and
 * disconnects the gateway that used it. Both are in the site's audit trail (`GET …/audit`).
 */
export const siteAdminRoutes: FastifyPluginAsync<{
  db: RelationalDb;
  sites: SiteService;
  now: () => number;
  /** Disconnects the site's gateway (on every instance) after its token was replaced. */
  disconnectGateway: (siteId: string) => void;
}> = async (app, { db, sites, now, disconnectGateway }) => {
  const admin = new SiteAdmin(db, sites, now, disconnectGateway);
  const tags = ['configuration'];

  app.post<{ Body: Static<typeof NewSiteBody> }>(
    '/api/sites',
    {
      schema: {
        tags,
        summary: 'Create a site (admin), with its gateway token (returned once); 409 when the id is taken',
        body: NewSiteBody,
        response: {
          201: Type.Object({
            site: Type.Object({ id: Id, name: Type.String(), timezone: Type.String() }),
            revision: Type.Integer(),
            gatewayToken: GatewayToken,
          }),
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(requireRole(request, INSTALL_ROLES));
      const created = await admin.create(request.body, actor);
      request.log.info({ siteId: created.site.id, by: actor.id }, 'site created');
      reply.code(201);
      return created;
    },
  );

  app.post<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/gateway-token',
    {
      schema: {
        tags,
        summary: "Replace the site's gateway token (admin of the site): the old one stops working and its gateway is disconnected",
        params: SiteParams,
        response: { 200: Type.Object({ siteId: Id, gatewayToken: GatewayToken, rotatedAt: Instant }) },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, INSTALL_ROLES, sites);
      const rotated = await admin.rotateGatewayToken(request.params.siteId, actor);
      request.log.info({ siteId: request.params.siteId, by: actor.id }, 'gateway token rotated');
      return { siteId: request.params.siteId, ...rotated };
    },
  );
};
