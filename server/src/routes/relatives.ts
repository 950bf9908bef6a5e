import { Id } from '@nattevakt/protocol/ids';
import { RelativeLastNight, RelativeResidentList, RelativeTrend } from '@nattevakt/protocol/night-summary';
import { AccessLog, ConsentInput, Relatives } from '@nattevakt/protocol/relatives';
import { addNights } from '@nattevakt/protocol/rules/nights';
import type { Resident } from '@nattevakt/protocol/site-config';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import type { SessionUser } from '../auth/auth-service.js';
import type { RelativeService } from '../relatives/relative-service.js';
import { lastEndedNight, type NightSummaryService } from '../reports/night-summary-service.js';
import { relativeText } from '../reports/relative-text.js';
import type { SiteService } from '../sites/site-service.js';
import { HttpError } from './http-error.js';
import { REPORT_ROLES } from './night-reports.js';

const ResidentParams = Type.Object({ siteId: Id, residentId: Id }, { additionalProperties: false });
const Username = Type.String({ minLength: 1, maxLength: 100 });

/**
 * Relatives. The nurse in charge (or an admin) of the site links relative users to a resident and
 * records or withdraws the resident's (or guardian's) consent to share with them, and reads the
 * access log. A relative sees only linked residents with a consent in force, and only summaries:
 * last night in plain words and a trend of the last nights. Every read by a relative, and every
 * refused one, is written to the access log.
 */
export const relativeRoutes: FastifyPluginAsync<{
  sites: SiteService;
  relatives: RelativeService;
  nights: NightSummaryService;
  now: () => number;
}> = async (app, deps) => {
  const residentOf = (siteId: string, residentId: string): Resident => {
    const config = deps.sites.get(siteId);
    const resident = config?.residents.find((r) => r.id === residentId);
    if (resident === undefined) throw new HttpError(404, `no resident "${residentId}" at site "${siteId}"`);
    return resident;
  };
  const staff = (request: FastifyRequest, siteId: string, residentId: string): SessionUser => {
    const user = requireRole(request, REPORT_ROLES);
    requireSite(user, siteId);
    residentOf(siteId, residentId);
    return user;
  };
  const overview = async (siteId: string, residentId: string) => ({
    links: await deps.relatives.links(siteId, residentId),
    consent: await deps.relatives.consent(siteId, residentId),
    consents: await deps.relatives.consentHistory(siteId, residentId),
  });

  app.get<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId/relatives',
    {
      schema: {
        tags: ['relatives'],
        summary: "A resident's relatives and consent to share",
        params: ResidentParams,
        response: { 200: Relatives },
      },
    },
    async (request) => {
      staff(request, request.params.siteId, request.params.residentId);
      return overview(request.params.siteId, request.params.residentId);
    },
  );

  const LinkParams = Type.Object({ siteId: Id, residentId: Id, username: Username }, { additionalProperties: false });
  app.put<{ Params: Static<typeof LinkParams> }>(
    '/api/sites/:siteId/residents/:residentId/relatives/:username',
    { schema: { tags: ['relatives'], summary: 'Link a relative user to a resident', params: LinkParams, response: { 200: Relatives } } },
    async (request) => {
      const { siteId, residentId, username } = request.params;
      const user = staff(request, siteId, residentId);
      await deps.relatives.link(siteId, residentId, username, user);
      request.log.info({ siteId, residentId, relative: username, by: user.id }, 'relative linked');
      return overview(siteId, residentId);
    },
  );

  app.delete<{ Params: Static<typeof LinkParams> }>(
    '/api/sites/:siteId/residents/:residentId/relatives/:username',
    { schema: { tags: ['relatives'], summary: 'Unlink a relative', params: LinkParams, response: { 200: Relatives } } },
    async (request) => {
      const { siteId, residentId, username } = request.params;
      const user = staff(request, siteId, residentId);
      if (!(await deps.relatives.unlink(siteId, residentId, username)))
        throw new HttpError(404, `"${username}" is not linked to resident "${residentId}"`);
      request.log.info({ siteId, residentId, relative: username, by: user.id }, 'relative unlinked');
      return overview(siteId, residentId);
    },
  );

  app.post<{ Params: Static<typeof ResidentParams>; Body: ConsentInput }>(
    '/api/sites/:siteId/residents/:residentId/sharing-consent',
    {
      schema: {
        tags: ['relatives'],
        summary: "Record the resident's (or guardian's) consent to share with relatives",
        params: ResidentParams,
        body: ConsentInput,
        response: { 200: Relatives },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      const user = staff(request, siteId, residentId);
      await deps.relatives.recordConsent(siteId, residentId, request.body, user);
      request.log.info({ siteId, residentId, givenBy: request.body.givenBy, by: user.id }, 'consent to share with relatives recorded');
      return overview(siteId, residentId);
    },
  );

  app.delete<{ Params: Static<typeof ResidentParams> }>(
    '/api/sites/:siteId/residents/:residentId/sharing-consent',
    {
      schema: {
        tags: ['relatives'],
        summary: 'Withdraw the consent to share with relatives',
        params: ResidentParams,
        response: { 200: Relatives },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      const user = staff(request, siteId, residentId);
      await deps.relatives.withdrawConsent(siteId, residentId, user);
      request.log.info({ siteId, residentId, by: user.id }, 'consent to share with relatives withdrawn');
      return overview(siteId, residentId);
    },
  );

  app.get<{ Params: { siteId: string }; Querystring: { residentId?: string; limit: number } }>(
    '/api/sites/:siteId/relative-access-log',
    {
      schema: {
        tags: ['relatives'],
        summary: 'Every read by a relative: who, which resident, what, when',
        params: Type.Object({ siteId: Id }, { additionalProperties: false }),
        querystring: Type.Object(
          { residentId: Type.Optional(Id), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: AccessLog },
      },
    },
    async (request) => {
      const user = requireRole(request, REPORT_ROLES);
      requireSite(user, request.params.siteId);
      const { residentId, limit } = request.query;
      return { entries: await deps.relatives.accessLog(request.params.siteId, { ...(residentId ? { residentId } : {}), limit }) };
    },
  );

  // --- The relative's own view ---

  /** The resident if this relative may see them now; the read (or the refusal) is logged either way. */
  const visible = async (request: FastifyRequest, siteId: string, residentId: string, what: string): Promise<Resident> => {
    const user = requireRole(request, ['relative']);
    if (!(await deps.relatives.maySee(user.id, siteId, residentId))) {
      await deps.relatives.logAccess(user, siteId, residentId, `refused:${what}`);
      throw new HttpError(403, 'you may not see this resident: not linked to you, or no consent to share is recorded');
    }
    const resident = deps.sites.get(siteId)?.residents.find((r) => r.id === residentId);
    if (resident === undefined) throw new HttpError(404, 'this resident is no longer at the site');
    await deps.relatives.logAccess(user, siteId, residentId, what);
    return resident;
  };

  app.get(
    '/api/relative/residents',
    { schema: { tags: ['relative view'], summary: 'The residents I may follow', response: { 200: RelativeResidentList } } },
    async (request) => {
      const user = requireRole(request, ['relative']);
      const residents = [];
      for (const { siteId, residentId } of await deps.relatives.visibleTo(user.id)) {
        const resident = deps.sites.get(siteId)?.residents.find((r) => r.id === residentId);
        if (resident === undefined) continue;
        await deps.relatives.logAccess(user, siteId, residentId, 'residents');
        residents.push({ siteId, residentId, name: resident.name });
      }
      return { residents };
    },
  );

  app.get<{ Params: Static<typeof ResidentParams> }>(
    '/api/relative/residents/:siteId/:residentId/last-night',
    {
      schema: {
        tags: ['relative view'],
        summary: 'Last night in plain words',
        params: ResidentParams,
        response: { 200: RelativeLastNight },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      const resident = await visible(request, siteId, residentId, 'last-night');
      const zone = deps.sites.get(siteId)?.site.timezone ?? 'Europe/Oslo';
      const night = lastEndedNight(deps.now(), resident.plan.nightWindow, zone);
      const summary = await deps.nights.get(siteId, residentId, night);
      if (summary === null)
        return {
          siteId,
          residentId,
          name: resident.name,
          night: null,
          verdict: null,
          text: { nb: 'Det finnes ingen oppsummering av natten ennå.', en: 'There is no summary of the night yet.' },
        };
      return { siteId, residentId, name: resident.name, night, verdict: summary.verdict, text: relativeText(summary) };
    },
  );

  app.get<{ Params: Static<typeof ResidentParams>; Querystring: { nights: number } }>(
    '/api/relative/residents/:siteId/:residentId/trend',
    {
      schema: {
        tags: ['relative view'],
        summary: 'The last nights: time in bed, times up, alarms',
        params: ResidentParams,
        querystring: Type.Object({ nights: Type.Integer({ minimum: 1, maximum: 60, default: 14 }) }, { additionalProperties: false }),
        response: { 200: RelativeTrend },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      const resident = await visible(request, siteId, residentId, 'trend');
      const zone = deps.sites.get(siteId)?.site.timezone ?? 'Europe/Oslo';
      const last = lastEndedNight(deps.now(), resident.plan.nightWindow, zone);
      const first = addNights(last, 1 - request.query.nights);
      const stored = new Map((await deps.nights.list(siteId, residentId, first, last)).map((s) => [s.night, s]));
      const nights = [];
      for (let night = first; night <= last; night = addNights(night, 1)) {
        const s = stored.get(night);
        nights.push({
          night,
          verdict: s?.verdict ?? null,
          timeInBedMinutes: s?.timeInBedMinutes ?? null,
          bedExits: s?.bedExits ?? null,
          alarms: s === undefined ? null : s.alarms.filter((a) => a.priority !== 'technical').length,
        });
      }
      return { siteId, residentId, name: resident.name, nights };
    },
  );
};
