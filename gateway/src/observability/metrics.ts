import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics; one registry per gateway instance. */
/** Values read at scrape time, so the gauges are never stale. */
export interface GatewayProbes {
  outboxDepth(): number;
  outboxOldestAgeSeconds(): number;
}

export function createGatewayMetrics(probes: GatewayProbes) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nattevakt_gateway_' });
  return {
    registry,
    messages: new Counter({
      name: 'nattevakt_gateway_messages_total',
      help: 'MQTT messages accepted, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    reportsFolded: new Counter({
      name: 'nattevakt_gateway_reports_folded_total',
      help: 'sensor reports that changed nothing and were not sent to the server (report by exception; the rules saw them), by sensor kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'nattevakt_gateway_rejected_messages_total',
      help: 'MQTT messages rejected, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    alarms: new Counter({
      name: 'nattevakt_gateway_alarms_total',
      help: 'alarms decided, by rule',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    alarmsAnnounced: new Counter({
      name: 'nattevakt_gateway_alarms_announced_total',
      help: 'alarms sent to the server the moment they were decided (provisional, before the outbox delivers them)',
      registers: [registry],
    }),
    decisionSeconds: new Histogram({
      name: 'nattevakt_gateway_decision_seconds',
      help: 'from MQTT message in to alarm decision out',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'nattevakt_gateway_outbox_depth',
      help: 'items waiting for the server',
      registers: [registry],
      collect() {
        this.set(probes.outboxDepth());
      },
    }),
    outboxAge: new Gauge({
      name: 'nattevakt_gateway_outbox_oldest_age_seconds',
      help: 'how long the oldest undelivered item has waited (0 when empty)',
      registers: [registry],
      collect() {
        this.set(probes.outboxOldestAgeSeconds());
      },
    }),
    localFeedClients: new Gauge({
      name: 'nattevakt_gateway_local_feed_clients',
      help: 'tablets connected to the local alarm feed (/local)',
      registers: [registry],
    }),
    uplinkConnected: new Gauge({
      name: 'nattevakt_gateway_uplink_connected',
      help: '1 while connected to the server',
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
