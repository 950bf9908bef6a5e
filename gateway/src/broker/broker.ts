import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { ConfigError } from '../config/gateway-config.js';
import { type BrokerAuthOptions, brokerAuth } from './auth.js';
import type { MessageHandler, MqttTransport } from './transport.js';

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  close(): Promise<void>;
}

/** The embedded broker as the gateway's transport: an in-process subscriber, no network hop. */
export class EmbeddedTransport implements MqttTransport {
  #broker: EmbeddedBroker | null = null;
  constructor(private readonly options: Parameters<typeof startBroker>[0]) {}

  get endpoint(): string {
    return `mqtt://${this.options.host}:${this.port}`;
  }

  get port(): number {
    if (this.#broker === null) throw new Error('broker not started');
    return this.#broker.port;
  }

  async start(subscriptions: string[], onMessage: MessageHandler): Promise<void> {
    const broker = await startBroker(this.options);
    this.#broker = broker;
    for (const filter of subscriptions) {
      // broker.subscribe is aedes' in-process subscription: it bypasses authorizeSubscribe.
      await new Promise<void>((resolve) =>
        broker.aedes.subscribe(filter, (packet, done) => onMessage(packet.topic, packet.payload as Buffer, done), resolve),
      );
    }
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const broker = this.#broker;
    if (broker === null) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve, reject) =>
      broker.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: options.qos, retain: options.retain, dup: false },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  async stop(): Promise<void> {
    await this.#broker?.close();
    this.#broker = null;
  }
}

/**
 * Starts the embedded aedes broker on TCP. A taken port fails start-up with a message that
 * names the setting to change, because on many machines Mosquitto already holds 1883.
 */
export async function startBroker(options: {
  host: string;
  port: number;
  auth: BrokerAuthOptions;
  logger: Logger;
}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    ...brokerAuth(options.auth),
    // A frozen subscriber must not deadlock the broker (aedes 1.0 drainTimeout).
    drainTimeout: 10_000,
    // Our topics have at most 6 levels; deep topics were a crash vector (GHSA-xxqp-5qx8-gj5q).
    maxTopicLevels: 16,
    connectTimeout: 10_000,
  });
  aedes.on('clientError', (client, error) => options.logger.debug({ clientId: client.id, err: error.message }, 'mqtt client error'));
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      aedes.close();
      if (error.code === 'EADDRINUSE') {
        reject(
          new ConfigError(
            `MQTT port ${options.port} on ${options.host} is already in use (another broker, such as Mosquitto, may hold it). ` +
              'Set mqtt.port in the gateway configuration (or NATTEVAKT_MQTT_PORT) to a free port.',
          ),
        );
      } else reject(error);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  options.logger.info({ host: options.host, port }, 'embedded MQTT broker listening');
  return {
    aedes,
    port,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
