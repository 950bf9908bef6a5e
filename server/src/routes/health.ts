import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { ServerMetrics } from '../observability/metrics.js';
import type { RelationalDb } from '../stores/relational/database.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  uptimeSeconds: Type.Number(),
  database: Type.Boolean(),
  gatewaysConnected: Type.Number(),
});

/** Health for load balancers and probes, and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<{ db: RelationalDb; metrics: ServerMetrics }> = async (app, { db, metrics }) => {
  app.get('/api/health', { schema: { response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    let database = true;
    try {
      await sql`select 1`.execute(db);
    } catch {
      database = false;
    }
    const gateways = (await metrics.gateways.get()).values[0]?.value ?? 0;
    return reply
      .code(database ? 200 : 503)
      .send({ status: database ? 'ok' : 'degraded', uptimeSeconds: Math.round(process.uptime()), database, gatewaysConnected: gateways });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};
