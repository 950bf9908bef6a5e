import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError, type MqttConfig } from '../config/gateway-config.js';
import { brokerAuth, type RefusalDetail, topicMatches } from './auth.js';
import { brokerMetrics, type RefusalReason } from './broker-metrics.js';
import { Credentials, type MqttIdentity } from './credentials.js';
import { guardPacketSize } from './packet-size-guard.js';
import { LogThrottle, type RateLimit, RateLimiter } from './rate-limit.js';
import type { MessageHandler, MqttTransport } from './transport.js';

export interface EmbeddedBrokerOptions {
  /** Listeners, credentials and limits (`mqtt` in the gateway configuration). */
  mqtt: Pick<MqttConfig, 'host' | 'port' | 'tls' | 'devices' | 'users' | 'limits'>;
  siteId: string;
  /** Only a gateway in simulated-clock mode accepts the simulator's clock topic. */
  acceptClock: boolean;
  /**
   * The gateway's subscription filters: what `onMessage` is given, and what anonymous demo
   * clients may publish to.
   */
  subscriptions?: readonly string[];
  /** The gateway's handler for client publications matching `subscriptions`. */
  onMessage?: MessageHandler;
  /** The gateway's Prometheus registry; the broker adds its counters to it. */
  registry?: Registry;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** Plain MQTT port, null when `mqtt.port` is null. */
  readonly port: number | null;
  /** MQTT over TLS port, null without `mqtt.tls`. */
  readonly tlsPort: number | null;
  close(): Promise<void>;
}

/** Where a QoS 0 message over the rate limit goes: a broker topic no client may subscribe to. */
const DROPPED_TOPIC = '$SYS/nattevakt/dropped';

/**
 * The rate limit of a connection, or undefined for none. Demo mode (anonymous), the deprecated
 * plain-password users and the simulator keep the behaviour of before: the simulator plays a
 * whole ward over one connection. A device's own `rateLimit` always applies.
 */
/** A bridge's default limit, in devices' worth of the per-device limit. */
const BRIDGE_RATE_FACTOR = 50;

function rateLimitOf(identity: MqttIdentity, limits: MqttConfig['limits']): RateLimit | undefined {
  switch (identity.role) {
    case 'anonymous':
    case 'legacy':
      return undefined;
    case 'simulator':
      return identity.rateLimit;
    case 'sensor':
    case 'consumer':
      return identity.rateLimit ?? { messagesPerSecond: limits.messagesPerSecond, burst: limits.burst };
    case 'bridge':
      // One Zigbee2MQTT bridge carries a whole ward and replays every device's state when it starts.
      return (
        identity.rateLimit ?? { messagesPerSecond: limits.messagesPerSecond * BRIDGE_RATE_FACTOR, burst: limits.burst * BRIDGE_RATE_FACTOR }
      );
    default: {
      const exhaustive: never = identity;
      throw new Error(`unknown identity ${JSON.stringify(exhaustive)}`);
    }
  }
}

/** The embedded broker as the gateway's transport: an in-process subscriber, no network hop. */
export class EmbeddedTransport implements MqttTransport {
  #broker: EmbeddedBroker | null = null;
  constructor(private readonly options: EmbeddedBrokerOptions) {}

  get endpoint(): string {
    const { host, tls } = this.options.mqtt;
    const broker = this.#started();
    const endpoints: string[] = [];
    if (broker.port !== null) endpoints.push(`mqtt://${host}:${broker.port}`);
    if (broker.tlsPort !== null) endpoints.push(`mqtts://${tls?.host ?? host}:${broker.tlsPort}`);
    return endpoints.join(', ');
  }

  /** The plain MQTT port (useful with port 0). */
  get port(): number {
    const port = this.#started().port;
    if (port === null) throw new Error('plain MQTT is disabled (mqtt.port is null)');
    return port;
  }

  /** The MQTT over TLS port. */
  get tlsPort(): number {
    const port = this.#started().tlsPort;
    if (port === null) throw new Error('MQTT over TLS is not configured (mqtt.tls)');
    return port;
  }

  #started(): EmbeddedBroker {
    if (this.#broker === null) throw new Error('broker not started');
    return this.#broker;
  }

  async start(subscriptions: string[], onMessage: MessageHandler): Promise<void> {
    this.#broker = await startBroker({ ...this.options, subscriptions, onMessage });
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
 * Starts the embedded aedes broker on plain TCP, TLS or both. A taken port fails start-up with
 * a message that names the setting to change, because on many machines Mosquitto holds 1883.
 */
export async function startBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { mqtt, logger } = options;
  const { limits } = mqtt;
  const metrics = brokerMetrics(options.registry);
  const logThrottle = new LogThrottle();
  const refused = (reason: RefusalReason, detail: RefusalDetail & { size?: number | string; max?: number; over?: number }) => {
    metrics.refused.inc({ reason });
    if (!logThrottle.allow(`${reason}/${detail.username ?? detail.clientId}`)) return;
    logger.warn({ reason, ...detail, ...(detail.topic !== undefined ? { topic: detail.topic.slice(0, 200) } : {}) }, 'mqtt refused');
  };

  const credentials = new Credentials(mqtt);
  if (credentials.anonymous) {
    logger.warn(
      'MQTT broker accepts ANONYMOUS clients (no mqtt.devices configured): for demos only. ' +
        'Enrol each sensor, bridge and consumer in mqtt.devices (see gateway/README.md, "Broker and security").',
    );
  }
  if (mqtt.users.length > 0) {
    logger.warn('mqtt.users (plain-text passwords) is deprecated: move each user to mqtt.devices with a hashed password');
  }
  const auth = brokerAuth({
    siteId: options.siteId,
    demoFilters: options.subscriptions ?? [],
    credentials,
    acceptClock: options.acceptClock,
    onRefused: refused,
  });
  const limiter = new RateLimiter({
    messagesPerSecond: limits.messagesPerSecond,
    burst: limits.burst,
    disconnectAfter: limits.floodDisconnectAfter,
  });

  /** A connection the guard cut (oversize packet) whose last chunk aedes may still be parsing. */
  const severed = (client: Client): boolean => !client.closed && client.conn.destroyed;
  const closedError = () => new Error('connection closed by the broker');

  /**
   * Hands an accepted publication to the gateway and lets aedes acknowledge it only afterwards.
   * aedes writes the PUBACK before it delivers a QoS 1 message to subscribers, in-process ones
   * included (lib/handlers/publish.js), so a crash in between would lose a message the sensor was
   * told we have [MQTT-4.3.2-2: PUBACK after "accepting ownership"]. authorizePublish runs before
   * the PUBACK, so the gateway takes the message here: a crash now means a resend, not a loss.
   * (QoS 2 is treated like QoS 1: a resent QoS 2 message may reach the gateway twice.)
   */
  const subscriptions = options.subscriptions ?? [];
  const handOver = (packet: PublishPacket, done: (error?: Error | null) => void) => {
    const onMessage = options.onMessage;
    if (onMessage === undefined || !subscriptions.some((filter) => topicMatches(filter, packet.topic))) return done(null);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    onMessage(packet.topic, payload, () => done(null));
  };

  const hooks: AedesOptions = {
    preConnect(client, _packet, done) {
      if (severed(client)) return done(closedError(), false);
      return done(null, true);
    },
    authenticate: auth.authenticate,
    authorizeSubscribe(client, subscription, done) {
      if (severed(client)) return done(closedError(), null);
      return auth.authorizeSubscribe?.(client, subscription, done);
    },
    authorizePublish(client, packet, done) {
      if (client !== null && severed(client)) return done(closedError());
      auth.authorizePublish?.(client, packet, (error) => {
        if (error || client === null) return done(error);
        // Wills are published while their connection closes (client.closed): they are not a flood.
        if (client.closed) return handOver(packet, done);
        const identity = auth.identityOf(client);
        const limit = identity === undefined ? undefined : rateLimitOf(identity, limits);
        if (identity === undefined || limit === undefined) return handOver(packet, done);
        const username = 'username' in identity ? identity.username : undefined;
        const verdict = limiter.take(username !== undefined ? `user:${username}` : `client:${client.id}`, packet.qos, limit);
        const report = (what: string, count: number | undefined) => {
          if (count === undefined) return;
          logger.warn(
            { clientId: client.id, username, count, topic: packet.topic.slice(0, 200) },
            `mqtt client over its message rate limit: ${what}`,
          );
        };
        switch (verdict.action) {
          case 'accept':
            return handOver(packet, done);
          case 'delay': {
            // Unacknowledged until then; aedes reads no more from this client meanwhile, so TCP
            // backpressure slows the sender down and nothing it was promised is lost.
            metrics.throttled.inc();
            report('holding QoS 1 messages back', verdict.report);
            const timer = setTimeout(() => {
              // A client gone meanwhile sends the message again after reconnecting [MQTT-4.4.0-1].
              if (client.closed || aedes.closed) done(closedError());
              else handOver(packet, done);
            }, verdict.delayMs);
            timer.unref();
            return;
          }
          case 'drop':
            metrics.refused.inc({ reason: 'rate-limited' });
            report('dropping QoS 0 messages', verdict.report);
            // QoS 0 promises at most once delivery: the message is dropped. aedes can drop a
            // message only by closing the connection, but authorizePublish may rewrite the packet
            // (docs/Aedes.md), so it goes to a broker topic no client can subscribe to.
            packet.topic = DROPPED_TOPIC;
            packet.payload = Buffer.alloc(0);
            packet.retain = false;
            return done(null);
          case 'disconnect':
            refused('flood-disconnect', { clientId: client.id, username, over: verdict.over });
            return done(new Error(`disconnected for flooding: ${verdict.over} messages over the rate limit`));
          default: {
            const exhaustive: never = verdict;
            throw new Error(`unknown verdict ${JSON.stringify(exhaustive)}`);
          }
        }
      });
    },
  };

  const aedes = await Aedes.createBroker({
    ...hooks,
    // No mqemitter queue: messages complete synchronously in authorizePublish, and a queue of them
    // drains recursively until the stack overflows under a burst (mcollina/mqemitter#204; found by
    // bench/src/decision-latency.ts at 2,000 msg/s). Slow subscribers are bounded by drainTimeout.
    concurrency: 0,
    // A frozen subscriber must not deadlock the broker (aedes 1.0 drainTimeout).
    drainTimeout: limits.drainTimeoutMs,
    // Our topics have at most 6 levels; deep topics were a crash vector (GHSA-xxqp-5qx8-gj5q).
    maxTopicLevels: limits.maxTopicLevels,
    // "If the Server does not receive a CONNECT Packet within a reasonable amount of time [...] the
    // Server SHOULD close the connection" (MQTT 3.1.1 §3.1.4).
    connectTimeout: limits.connectTimeoutMs,
  });
  const onClientError = (client: Client, error: Error) => {
    if (error.message === 'topic has too many levels') refused('too-many-levels', { clientId: client.id });
    else logger.debug({ clientId: client.id, err: error.message }, 'mqtt client error');
  };
  aedes.on('clientError', onClientError);
  aedes.on('connectionError', onClientError);
  const countClients = () => metrics.clients.set(aedes.connectedClients);
  aedes.on('client', countClients);
  aedes.on('clientDisconnect', countClients);

  const onConnection = (conn: Duplex) => {
    const client = aedes.handle(conn);
    guardPacketSize(conn, limits.maxPacketBytes, (size) =>
      refused('oversize', { clientId: client.id, size: Number.isFinite(size) ? size : 'malformed', max: limits.maxPacketBytes }),
    );
  };

  const servers: { server: Server; sockets: Set<Socket> }[] = [];
  const closeAll = async () => {
    const closing = servers.map(
      ({ server, sockets }) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Connections still in their TLS handshake are not aedes' yet: end them here.
          for (const socket of sockets) socket.destroy();
        }),
    );
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
  };
  const sweep = setInterval(() => limiter.sweep(), 60_000);
  sweep.unref();

  try {
    let port: number | null = null;
    let tlsPort: number | null = null;
    if (mqtt.port !== null) {
      const server = createServer(onConnection);
      servers.push({ server, sockets: trackSockets(server) });
      port = await listen(server, mqtt.host, mqtt.port, 'mqtt.port');
    }
    if (mqtt.tls !== undefined) {
      const tls = mqtt.tls;
      const server = createTlsServer(
        {
          cert: readSetting(tls.certFile, 'mqtt.tls.certFile'),
          key: readSetting(tls.keyFile, 'mqtt.tls.keyFile'),
          handshakeTimeout: limits.connectTimeoutMs,
        },
        onConnection,
      );
      server.on('tlsClientError', (error) => logger.debug({ err: error.message }, 'mqtt TLS handshake failed'));
      servers.push({ server, sockets: trackSockets(server) });
      tlsPort = await listen(server, tls.host ?? mqtt.host, tls.port, 'mqtt.tls.port');
    }
    logger.info({ host: mqtt.host, port, tlsPort, limits }, 'embedded MQTT broker listening');
    return {
      aedes,
      port,
      tlsPort,
      async close() {
        clearInterval(sweep);
        await closeAll();
      },
    };
  } catch (error) {
    clearInterval(sweep);
    await closeAll();
    throw error;
  }
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

function readSetting(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${path}: ${(error as Error).message}`);
  }
}

function listen(server: Server, host: string, port: number, setting: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new ConfigError(
            `MQTT port ${port} on ${host} is already in use (another broker, such as Mosquitto, may hold it). ` +
              `Set ${setting} in the gateway configuration${setting === 'mqtt.port' ? ' (or NATTEVAKT_MQTT_PORT)' : ''} to a free port.`,
          ),
        );
      } else reject(error);
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
