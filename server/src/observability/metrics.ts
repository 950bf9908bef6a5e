import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics; one registry per app instance (tests run several). */
export function createServerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nattevakt_server_' });
  return {
    registry,
    ingested: new Counter({
      name: 'nattevakt_server_ingested_items_total',
      help: 'outbox items ingested from gateways, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'nattevakt_server_rejected_items_total',
      help: 'outbox items rejected, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    httpRefused: new Counter({
      name: 'nattevakt_server_http_refused_requests_total',
      help: 'HTTP requests answered with 4xx or 5xx, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'nattevakt_server_duplicate_events_total',
      help: 're-delivered sensor events skipped',
      registers: [registry],
    }),
    provisional: new Counter({
      name: 'nattevakt_server_provisional_alarms_total',
      help: 'alarms a gateway announced the moment it decided them, passed on to the tablets before they were stored',
      registers: [registry],
    }),
    gatewayLatency: new Histogram({
      name: 'nattevakt_server_alarm_gateway_to_server_seconds',
      help: 'from the gateway decision to the server receiving the alarm',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    alarmCommitSize: new Histogram({
      name: 'nattevakt_server_alarm_operations_per_commit',
      help: "alarm operations (a gateway batch's decisions, a nurse's acknowledge or resolve, an escalation step) committed together in one transaction",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    gateways: new Gauge({ name: 'nattevakt_server_gateways_connected', help: 'gateways connected', registers: [registry] }),
    staff: new Gauge({ name: 'nattevakt_server_staff_clients_connected', help: 'nurse tablets connected', registers: [registry] }),
  };
}
export type ServerMetrics = ReturnType<typeof createServerMetrics>;
