import { Counter, Gauge, Registry } from 'prom-client';

/** Why the broker refused a connection, a packet or a message; each is a label value. */
export type RefusalReason =
  | 'bad-credentials'
  | 'no-credentials'
  | 'auth-overload'
  | 'publish-denied'
  | 'subscribe-denied'
  | 'oversize'
  | 'too-many-levels'
  | 'rate-limited' // a QoS 0 message dropped
  | 'flood-disconnect';

export interface BrokerMetrics {
  refused: Counter<'reason'>;
  throttled: Counter;
  clients: Gauge;
}

const byRegistry = new WeakMap<Registry, BrokerMetrics>();

/**
 * The broker's metrics, registered once on the gateway's registry (a gateway that is stopped and
 * started again reuses them; prom-client refuses to register a name twice).
 */
export function brokerMetrics(registry: Registry = new Registry()): BrokerMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const metrics: BrokerMetrics = {
    refused: new Counter({
      name: 'nattevakt_gateway_mqtt_refused_total',
      help: 'MQTT connections, packets and messages the embedded broker refused or dropped, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    throttled: new Counter({
      name: 'nattevakt_gateway_mqtt_throttled_messages_total',
      help: 'QoS 1 and 2 messages held back (not lost) because their client was over its rate limit',
      registers: [registry],
    }),
    clients: new Gauge({
      name: 'nattevakt_gateway_mqtt_clients',
      help: 'MQTT clients connected to the embedded broker',
      registers: [registry],
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
