import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ConfigError } from '../config/gateway-config.js';
import type { MessageHandler, MqttTransport } from './transport.js';

export interface ExternalTransportOptions {
  /** The site broker, e.g. `mqtt://mosquitto.local:1883` or `mqtts://…`. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Stable across restarts: the broker keeps this client's session (and queued QoS 1 messages) under it. */
  clientId: string;
  /** CA certificate file for an `mqtts://` broker with a private CA. */
  caFile?: string | undefined;
  logger: Logger;
  /** Reconnect delay: doubles from `initialMs` up to `maxMs`, with jitter; back to `initialMs` once connected. */
  backoff?: { initialMs: number; maxMs: number };
}

/** The url for logs and /health: credentials in it are removed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

/**
 * External-broker mode: the gateway is a client of the site's own broker (Mosquitto, say).
 * It subscribes at QoS 1 with a persistent session (clean session 0, stable client id), so the
 * broker queues the sensors' QoS 1 messages while the gateway restarts and delivers them after
 * [MQTT-3.1.2-4, MQTT-3.1.2-5]. Each message is acknowledged once the gateway has handled it, that
 * is, taken ownership of it [MQTT-4.3.2-2]. It reconnects forever, with backoff.
 */
export class ExternalTransport implements MqttTransport {
  #client: MqttClient | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #delay: number;
  #stopping = false;
  readonly #backoff: { initialMs: number; maxMs: number };

  constructor(private readonly options: ExternalTransportOptions) {
    this.#backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.#delay = this.#backoff.initialMs;
  }

  get endpoint(): string {
    return redactUrl(this.options.url);
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * Connects and subscribes. Resolves once subscribed, or as soon as the first attempt fails
   * (the gateway starts anyway and keeps retrying); rejects if the broker refuses a
   * subscription, because then alarms could never be decided.
   */
  async start(subscriptions: string[], onMessage: MessageHandler): Promise<void> {
    const { logger } = this.options;
    this.#stopping = false;
    const ca = this.options.caFile === undefined ? undefined : readCa(this.options.caFile);
    const clientOptions: IClientOptions = {
      clientId: this.options.clientId,
      clean: false,
      username: this.options.username,
      password: this.options.password,
      // Reconnecting is ours (#scheduleReconnect), with backoff; mqtt.js only retries at a fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
      ...(ca !== undefined ? { ca } : {}),
    };
    const client = mqtt.connect(this.options.url, clientOptions);
    this.#client = client;
    // mqtt.js sends the PUBACK when this callback is called: after the gateway has handled the message.
    client.handleMessage = (packet, callback) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      onMessage(packet.topic, payload, () => callback());
    };

    let first = true;
    let settle: ((error?: Error) => void) | null = null;
    const started = new Promise<void>((resolve, reject) => {
      settle = (error) => {
        settle = null;
        if (error) reject(error);
        else resolve();
      };
    });

    client.on('connect', (connack) => {
      this.#delay = this.#backoff.initialMs;
      logger.info({ endpoint: this.endpoint, sessionPresent: connack.sessionPresent }, 'connected to the external MQTT broker');
      // A resumed session keeps its subscriptions [MQTT-3.1.2-4]. The first connection of this
      // process subscribes anyway, in case the adapters' filters changed since the last run.
      if (connack.sessionPresent && !first) return;
      first = false;
      const filters = Object.fromEntries(subscriptions.map((filter) => [filter, { qos: 1 as const }]));
      // mqtt.js rejects when any filter is refused and hands the SUBACK over on the error.
      client.subscribeAsync(filters).then(
        () => {
          logger.info({ filters: subscriptions }, 'subscribed on the external MQTT broker');
          settle?.();
        },
        (error: unknown) => {
          const granted = (error as { packet?: { granted?: unknown[] } }).packet?.granted;
          if (!Array.isArray(granted)) {
            logger.warn({ err: String(error) }, 'subscribing on the external MQTT broker failed; retrying on reconnect');
            return;
          }
          // SUBACK 0x80: the broker refused a filter (MQTT 3.1.1 §3.9.3), usually by its ACL.
          const refused = subscriptions.filter((_filter, i) => typeof granted[i] === 'number' && (granted[i] as number) & 0x80);
          const refusal = new ConfigError(
            `the MQTT broker at ${this.endpoint} refused the subscription to ${refused.join(', ')} (SUBACK 0x80): ` +
              `give ${this.options.username ?? 'the gateway'} read access to these topics in the broker's ACL`,
          );
          logger.error({ refused }, refusal.message);
          settle?.(refusal);
        },
      );
    });
    client.on('error', (error) => logger.warn({ endpoint: this.endpoint, err: error.message }, 'external MQTT broker error'));
    client.on('close', () => {
      if (this.#stopping) return;
      if (settle !== null) {
        logger.error({ endpoint: this.endpoint }, 'external MQTT broker not reachable: starting without it and retrying');
        settle();
      }
      this.#scheduleReconnect(client);
    });
    try {
      await started;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  #scheduleReconnect(client: MqttClient): void {
    if (this.#reconnectTimer !== null || this.#stopping) return;
    const delay = this.#delay / 2 + (Math.random() * this.#delay) / 2;
    this.#delay = Math.min(this.#delay * 2, this.#backoff.maxMs);
    this.options.logger.info({ endpoint: this.endpoint, inMs: Math.round(delay) }, 'reconnecting to the external MQTT broker');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#stopping) return;
      // Keep the stores: QoS 1 alarms not yet acknowledged are sent again after reconnecting [MQTT-4.4.0-1].
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const client = this.#client;
    if (client === null) return Promise.reject(new Error('external MQTT transport not started'));
    // While disconnected, mqtt.js keeps the message and sends it once connected again.
    return client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain }).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    // A clean DISCONNECT keeps the session on the broker (clean session 0); give in-flight
    // acknowledgements a moment, then cut the connection.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.stream?.destroy();
        resolve();
      }, 3_000);
      client.end(!client.connected, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`mqtt.external.caFile: cannot read ${path}: ${(error as Error).message}`);
  }
}
