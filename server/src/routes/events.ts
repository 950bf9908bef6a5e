import { Id } from '@nattevakt/protocol/ids';
import { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { WARD_READ_ROLES } from '../auth/auth-service.js';
import type { SiteService } from '../sites/site-service.js';
import type { TimeSeriesStore } from '../stores/timeseries/time-series-store.js';
import { HttpError } from './http-error.js';

export const MAX_EVENTS_PER_REQUEST = 10_000;
export const DEFAULT_EVENTS_PER_REQUEST = 1_000;

const EventsParams = Type.Object({ siteId: Id }, { additionalProperties: false });
const EventsQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time', maxLength: 40, description: 'first instant, inclusive (ISO 8601 with an offset or Z)' }),
    to: Type.String({ format: 'date-time', maxLength: 40, description: 'end instant, exclusive; must be after `from`' }),
    limit: Type.Integer({
      minimum: 1,
      maximum: MAX_EVENTS_PER_REQUEST,
      default: DEFAULT_EVENTS_PER_REQUEST,
      description: 'at most this many events, the oldest first',
    }),
  },
  { additionalProperties: false },
);
const EventList = Type.Object({ events: Type.Array(SensorEvent) });

/**
 * Stored sensor events of a site by time, from the time-series port: [from, to), oldest first
 * (by the site-clock time the gateway received them, then by arrival). Staff and technicians of
 * that site only.
 */
export const eventRoutes: FastifyPluginAsync<{ sites: SiteService; timeSeries: TimeSeriesStore }> = async (app, { sites, timeSeries }) => {
  app.get<{ Params: Static<typeof EventsParams>; Querystring: Static<typeof EventsQuery> }>(
    '/api/sites/:siteId/events',
    { schema: { params: EventsParams, querystring: EventsQuery, response: { 200: EventList } } },
    async (request) => {
      const { siteId } = request.params;
      const { from, to, limit } = request.query;
      requireSite(requireRole(request, WARD_READ_ROLES), siteId);
      if (sites.get(siteId) === undefined) throw new HttpError(404, `no site "${siteId}"`);
      const start = new Date(from);
      const end = new Date(to);
      if (start.getTime() >= end.getTime()) throw new HttpError(400, 'querystring/from must be before querystring/to');
      return { events: await timeSeries.range(siteId, start, end, limit) };
    },
  );
};
