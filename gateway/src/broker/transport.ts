import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError, type MqttConfig } from '../config/gateway-config.js';
import { EmbeddedTransport } from './broker.js';
import { ExternalTransport } from './external-transport.js';

/** Called for every message a sensor publishes; `done` acknowledges it to the transport. */
export type MessageHandler = (topic: string, payload: Buffer, done: () => void) => void;

/**
 * Where the gateway meets its sensors: the embedded aedes broker, or (external-broker mode) a
 * client of the site's own broker. The rest of the gateway does not know which.
 */
export interface MqttTransport {
  /** For logs and /health: where sensors connect. */
  readonly endpoint: string;
  start(subscriptions: string[], onMessage: MessageHandler): Promise<void>;
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** The transport `mqtt.mode` asks for. No I/O here: that happens in `start()`. */
export function createMqttTransport(options: {
  mqtt: MqttConfig;
  siteId: string;
  acceptClock: boolean;
  registry?: Registry;
  logger: Logger;
}): MqttTransport {
  const { mqtt, siteId, logger } = options;
  switch (mqtt.mode) {
    case 'embedded':
      return new EmbeddedTransport(options);
    case 'external': {
      if (mqtt.external === undefined) throw new ConfigError('mqtt.external is required when mqtt.mode is "external"');
      if (mqtt.devices.length > 0 || mqtt.users.length > 0) {
        logger.warn('mqtt.devices and mqtt.users are ignored in external-broker mode: the site broker authenticates its clients');
      }
      return new ExternalTransport({ ...mqtt.external, clientId: mqtt.external.clientId ?? `nattevakt-gateway-${siteId}`, logger });
    }
    default: {
      const exhaustive: never = mqtt.mode;
      throw new ConfigError(`unknown mqtt.mode ${JSON.stringify(exhaustive)}`);
    }
  }
}
