import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { ServerMetrics } from '../observability/metrics.js';
import type { RelationalDb } from '../stores/relational/database.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  uptimeSeconds: Type.Number(),
  /** The relational store answered. */
  database: Type.Boolean(),
  /** Redis answered a PING; null when this instance runs alone (no Redis configured). */
  redis: Type.Union([Type.Boolean(), Type.Null()]),
  gatewaysConnected: Type.Number(),
});

const Live = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() });

/**
 * Health for load balancers and probes, and Prometheus metrics. `/api/health` is readiness: 503
 * while the database or (with more than one instance) Redis is down, so a load balancer sends
 * nobody here. `/api/health/live` is liveness: the process answers, whatever its dependencies do.
 */
export const healthRoutes: FastifyPluginAsync<{ db: RelationalDb; metrics: ServerMetrics; redis: () => Promise<boolean | null> }> = async (
  app,
  { db, metrics, redis: redisHealthy },
) => {
  app.get('/api/health', { schema: { response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const [database, redis] = await Promise.all([
      sql`select 1`.execute(db).then(
        () => true,
        () => false,
      ),
      redisHealthy().catch(() => false),
    ]);
    const ready = database && redis !== false;
    const gateways = (await metrics.gateways.get()).values[0]?.value ?? 0;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ok' : 'degraded',
      uptimeSeconds: Math.round(process.uptime()),
      database,
      redis,
      gatewaysConnected: gateways,
    });
  });
  app.get('/api/health/live', { schema: { response: { 200: Live } } }, async () => ({
    status: 'ok' as const,
    uptimeSeconds: Math.round(process.uptime()),
  }));
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};
