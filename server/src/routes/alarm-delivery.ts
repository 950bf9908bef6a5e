import { Instant } from '@nattevakt/protocol/ids';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlarmDeliveryService } from '../alarms/delivery.js';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { STAFF_ROLES } from '../auth/auth-service.js';
import { HttpError } from './http-error.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Ms = Nullable(Type.Integer({ description: 'milliseconds' }));

const Latencies = Type.Object({
  decidedToReceived: Ms,
  receivedToFirstDelivered: Ms,
  receivedToFirstDisplayed: Ms,
  receivedToAcknowledged: Ms,
});

const Receipt = Type.Object({
  alarmId: Type.String(),
  device: Type.String(),
  seq: Nullable(Type.Integer()),
  deliveredAt: Nullable(Instant),
  displayedAt: Nullable(Instant),
});

export const DeliveryTimeline = Type.Object({
  alarmId: Type.String(),
  siteId: Type.String(),
  rule: Type.String(),
  priority: Type.String(),
  status: Type.String(),
  escalationLevel: Type.Integer(),
  stages: Type.Object({
    conditionSince: Instant,
    sensorAt: Nullable(Instant),
    raisedAt: Instant,
    decidedAt: Instant,
    receivedAt: Instant,
    firstDeliveredAt: Nullable(Instant),
    firstDisplayedAt: Nullable(Instant),
    acknowledgedAt: Nullable(Instant),
    acknowledgedBy: Nullable(Type.String()),
    conditionClearedAt: Nullable(Instant),
    resolvedAt: Nullable(Instant),
    resolvedBy: Nullable(Type.String()),
  }),
  escalations: Type.Array(Type.Object({ level: Type.Integer(), at: Instant })),
  devices: Type.Array(Receipt),
  latencyMs: Latencies,
});

const Stats = Type.Object({ count: Type.Integer(), p50: Ms, p90: Ms, max: Ms });

export const LatencyReport = Type.Object({
  from: Instant,
  to: Instant,
  siteId: Nullable(Type.String()),
  alarms: Type.Integer({ description: 'acknowledged or resolved alarms received in [from, to)' }),
  escalated: Type.Integer(),
  escalatedToNurseInCharge: Type.Integer(),
  latencyMs: Type.Object({
    decidedToReceived: Stats,
    receivedToFirstDelivered: Stats,
    receivedToFirstDisplayed: Stats,
    receivedToAcknowledged: Stats,
  }),
});

const DAY_MS = 24 * 60 * 60_000;

/**
 * Where an alarm was on its way to a nurse, and how fast alarms get there: the delivery
 * timeline of one alarm, and percentiles over a period (no standard sets a number; we measure).
 */
export const alarmDeliveryRoutes: FastifyPluginAsync<{ delivery: AlarmDeliveryService; now: () => number }> = async (
  app,
  { delivery, now },
) => {
  app.get<{ Params: { id: string } }>(
    '/api/alarms/:id/delivery',
    {
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: DeliveryTimeline },
      },
    },
    async (request) => {
      const user = requireRole(request, STAFF_ROLES);
      const timeline = await delivery.timeline(request.params.id);
      if (timeline === null) throw new HttpError(404, 'no such alarm');
      requireSite(user, timeline.siteId);
      return timeline;
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; site?: string } }>(
    '/api/reports/alarm-latency',
    {
      schema: {
        querystring: Type.Object(
          {
            from: Type.Optional(
              Type.String({ format: 'date-time', maxLength: 40, description: 'alarms received at or after; default 24 h before `to`' }),
            ),
            to: Type.Optional(
              Type.String({ format: 'date-time', maxLength: 40, description: 'end of the period (exclusive); default now' }),
            ),
            site: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: LatencyReport },
      },
    },
    async (request) => {
      const user = requireRole(request, STAFF_ROLES);
      // Without `site`: the user's only site; someone with several sites names one.
      const site = request.query.site ?? (user.sites.length === 1 ? user.sites[0] : undefined);
      if (site === undefined) throw new HttpError(400, 'name the site: `site` is required when you belong to several sites');
      requireSite(user, site);
      const to = request.query.to === undefined ? new Date(now()) : new Date(request.query.to);
      const from = request.query.from === undefined ? new Date(to.getTime() - DAY_MS) : new Date(request.query.from);
      if (!(from.getTime() < to.getTime())) throw new HttpError(400, '`from` must be before `to`');
      return delivery.latencyReport(from, to, site);
    },
  );
};
