import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { GatewayStatus } from '@nattevakt/protocol/socket-events';
import type { RoomState, SiteClock } from '@nattevakt/protocol/ward';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';

/** What one server instance tells the others (Socket.IO server-side events over the Redis adapter). */
export interface ClusterEvents {
  /** An alarm changed on the sending instance (the receiver passes it on once; see AlarmFeed). */
  alarm: (alarm: Alarm) => void;
  /** A gateway connected to the sending instance announced an alarm it has just decided (not stored yet). */
  provisionalAlarm: (decision: AlarmDecision) => void;
  /** A site's configuration was saved on the sending instance: reload it from the database. */
  site: (siteId: string) => void;
  /** The site clock a gateway connected to the sending instance reported. */
  clock: (clock: SiteClock) => void;
  /** A room's live state changed on the sending instance. */
  room: (room: RoomState) => void;
  /** A site's gateway connected to, or left, the sending instance. */
  gateway: (status: GatewayStatus) => void;
  /** Sensor events ingested on the sending instance, for the technicians following a sensor here. */
  sensorEvents: (events: SensorEvent[]) => void;
  /** A site's evaluation reminders changed (its `site_reminders` version): send the fresh list (see ReminderFeed). */
  reminders: (change: { siteId: string; version: number }) => void;
}

export interface ClusterOptions {
  /** `redis://[user:password@]host:port[/db]`; `rediss://` for TLS. */
  url: string;
  /** Prefix of every Redis key and channel this installation uses, so several can share one Redis. */
  keyPrefix?: string;
}

/**
 * How this server instance reaches the others. With Redis it installs the Socket.IO Redis
 * Streams adapter (rooms, `fetchSockets`, `disconnectSockets` and connection-state recovery
 * across instances) and carries `ClusterEvents` as server-side events. Alone (no Redis) every
 * call is local and `publish` is a no-op.
 *
 * Messages between instances are best effort (Redis may restart): whatever must not be missed
 * is also in the database, and each receiver catches up from there (AlarmFeed, SiteService).
 */
export interface Cluster {
  /** Whether other instances may exist (Redis is configured). */
  readonly clustered: boolean;
  publish<E extends keyof ClusterEvents>(event: E, ...args: Parameters<ClusterEvents[E]>): void;
  /** Messages from the other instances (never this instance's own). */
  on<E extends keyof ClusterEvents>(event: E, listener: ClusterEvents[E]): void;
  /** Called each time the link to Redis is back after it was lost. */
  onReconnect(listener: () => void): void;
  /** Whether Redis answers a PING within a second; null when there is no Redis. */
  healthy(): Promise<boolean | null>;
  close(): Promise<void>;
}

/** A single instance: nothing to tell anybody. */
export const standalone: Cluster = {
  clustered: false,
  publish: () => {},
  on: () => {},
  onReconnect: () => {},
  healthy: async () => null,
  close: async () => {},
};

/**
 * The adapter sends some commands without awaiting them (SUBSCRIBE on its own connections,
 * PUBLISH of server-side events, SET of a session). When a connection closes with such a command
 * still queued (this instance stopping while Redis is away), its rejection would be unhandled and
 * end the process. Callers that do await still see the rejection; connections the adapter makes
 * with `duplicate()` are treated the same.
 */
function quiet(redis: Redis): Redis {
  const client = redis as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  for (const command of ['publish', 'set', 'subscribe', 'ssubscribe']) {
    const send = client[command]?.bind(redis);
    if (send === undefined) continue;
    client[command] = (...args: unknown[]) => {
      const sent = send(...args);
      if (sent instanceof Promise) sent.catch(() => {});
      return sent;
    };
  }
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (...args: Parameters<Redis['duplicate']>) => quiet(duplicate(...args));
  return redis;
}

/** Connects to Redis and installs the Socket.IO Redis Streams adapter on `io` (before namespaces are used). */
export function redisCluster(io: Server, options: ClusterOptions, logger: Logger): Cluster {
  const prefix = options.keyPrefix ?? 'nattevakt:';
  const redis = new Redis(options.url, {
    // Reconnect quickly and keep trying: while Redis is away, commands wait in ioredis' offline queue.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    maxRetriesPerRequest: null,
    connectionName: 'nattevakt-server',
  });
  quiet(redis);
  let lost = false;
  let closed = false;
  const reconnectListeners: (() => void)[] = [];
  redis.on('error', (error: Error) => {
    if (!lost) logger.error({ err: error }, 'redis connection lost; instances cannot reach each other until it is back');
    lost = true;
  });
  redis.on('close', () => {
    lost = true;
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.warn('redis connection restored');
    for (const listener of reconnectListeners) listener();
  });
  io.adapter(
    createAdapter(redis, {
      streamName: `${prefix}socket.io`,
      channelPrefix: `${prefix}socket.io`,
      sessionKeyPrefix: `${prefix}sio:session:`,
      // Each XREAD blocks at most this long, so a closing instance lets go of Redis soon.
      blockTimeInMs: 1_000,
    }),
  );
  const bus = io as unknown as {
    serverSideEmit(event: string, ...args: unknown[]): boolean;
    on(event: string, listener: (...args: unknown[]) => void): void;
  };
  return {
    clustered: true,
    publish(event, ...args) {
      if (closed) return;
      // While Redis is away commands wait in ioredis' queue. A site clock comes every second and is
      // stale by the time Redis is back: not worth queueing for a long outage.
      // Live sensor events likewise: the stored ones are there to read.
      if ((event === 'clock' || event === 'sensorEvents') && redis.status !== 'ready') return;
      try {
        bus.serverSideEmit(event, ...args);
      } catch (error) {
        logger.error({ err: error, event }, 'could not tell the other instances');
      }
    },
    on(event, listener) {
      bus.on(event, listener as (...args: unknown[]) => void);
    },
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
    async healthy() {
      if (redis.status !== 'ready') return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((done) => {
        timer = setTimeout(() => done(false), 1_000);
      });
      try {
        return await Promise.race([redis.ping().then((answer) => answer === 'PONG'), late]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      // Closing every namespace's adapter stops the adapter's own Redis clients.
      await Promise.all([...io._nsps.values()].map((nsp) => nsp.adapter.close()));
      redis.disconnect();
    },
  };
}
