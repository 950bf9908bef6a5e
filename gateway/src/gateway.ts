import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlarmDecision, ConditionCleared } from '@nattevakt/protocol/alarm';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';
import { type Logger, pino } from 'pino';
import type { Server as SocketServer } from 'socket.io';
import type { DecodeContext } from './adapters/adapter.js';
import { nativeAdapter } from './adapters/native.js';
import { AdapterRegistry } from './adapters/registry.js';
import { zigbee2mqttAdapter } from './adapters/zigbee2mqtt.js';
import { EmbeddedTransport } from './broker/broker.js';
import { createMqttTransport, type MqttTransport } from './broker/transport.js';
import { ManualClock, type SiteClock, SystemClock } from './clock.js';
import { ConfigError, DEFAULT_UNCHANGED_REPORT_SECONDS, type GatewayConfig } from './config/gateway-config.js';
import { EventBus } from './event-bus.js';
import { LocalAlarmBoard } from './local-alarms/local-alarm-board.js';
import { attachLocalFeed } from './local-alarms/local-feed.js';
import { startHealthServer } from './observability/health-server.js';
import { createGatewayMetrics, type GatewayMetrics } from './observability/metrics.js';
import { Outbox } from './outbox/outbox.js';
import { UnchangedReports } from './outbox/unchanged-reports.js';
import { RuleRuntime } from './rules/rule-runtime.js';
import { SiteConfigStore } from './site-config-store.js';
import { Uplink } from './uplink/uplink.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Site configuration to use; else the last one stored, else `config.siteConfigFile`. */
  siteConfig?: SiteConfig;
  /** Injected site clock (tests); else from `config.clock` (a simulated clock starts unset, at 0, and follows the simulator). */
  clock?: SiteClock;
  logger?: Logger;
}

/** A stable event id from a message's topic and bytes (64 hex characters). */
const contentId = (topic: string, payload: Buffer): string => createHash('sha256').update(topic).update('\n').update(payload).digest('hex');

/** A site without residents yet: the gateway still runs its broker and waits for the server. */
const emptySite = (siteId: string): SiteConfig => ({
  version: 1,
  site: { id: siteId, name: siteId, timezone: 'Europe/Oslo' },
  rooms: [],
  residents: [],
  sensors: [],
});

/**
 * One site's gateway: the embedded broker, the sensor adapters, the rule runtime, the durable
 * outbox and the uplink. `start()` does all I/O; `stop()` undoes it in reverse order.
 */
export class Gateway {
  readonly bus = new EventBus();
  readonly metrics: GatewayMetrics = createGatewayMetrics({
    outboxDepth: () => this.outboxDepth,
    outboxOldestAgeSeconds: () => this.#outbox?.oldestAgeSeconds() ?? 0,
  });
  readonly clock: SiteClock;
  readonly logger: Logger;
  #transport: MqttTransport | null = null;
  readonly #adapters: AdapterRegistry;
  #outbox: Outbox | null = null;
  #runtime: RuleRuntime | null = null;
  #uplink: Uplink | null = null;
  #health: Awaited<ReturnType<typeof startHealthServer>> | null = null;
  #board: LocalAlarmBoard | null = null;
  #feed: SocketServer | null = null;
  #siteConfig: SiteConfig;
  readonly #store: SiteConfigStore;
  /** One decode context for every message (only `now` changes): nothing to allocate per message. */
  readonly #decodeContext: DecodeContext;
  /** External broker: commit each message before its PUBACK instead of once per turn (see #onMessage). */
  readonly #commitEachMessage: boolean;
  /** Which sensor reports go to the server (report by exception, docs/adr/0005). */
  readonly #unchanged: UnchangedReports;

  constructor(private readonly options: GatewayOptions) {
    this.logger = options.logger ?? pino({ name: 'gateway' });
    this.clock = options.clock ?? (options.config.clock === 'simulated' ? new ManualClock(0) : new SystemClock());
    this.#store = new SiteConfigStore(join(options.config.stateDir, 'site-config.json'));
    this.#siteConfig = emptySite(options.config.siteId);
    this.#adapters = new AdapterRegistry([nativeAdapter, zigbee2mqttAdapter(options.config.zigbee2mqtt)]);
    this.#decodeContext = { siteId: options.config.siteId, sensor: (id) => this.#runtime?.engine.sensor(id), now: 0, newId: randomUUID };
    this.#commitEachMessage = options.config.mqtt.mode === 'external';
    this.#unchanged = new UnchangedReports((options.config.unchangedReportSeconds ?? DEFAULT_UNCHANGED_REPORT_SECONDS) * 1000);
  }

  /** The embedded broker's port (embedded mode only). */
  get mqttPort(): number {
    if (!(this.#transport instanceof EmbeddedTransport)) throw new Error('gateway not started with an embedded broker');
    return this.#transport.port;
  }

  get healthPort(): number {
    if (this.#health === null) throw new Error('gateway not started');
    return this.#health.port;
  }

  get siteConfig(): SiteConfig {
    return this.#siteConfig;
  }

  get outboxDepth(): number {
    return this.#outbox?.depth() ?? 0;
  }

  get uplinkConnected(): boolean {
    return this.#uplink?.connected ?? false;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    this.#siteConfig = this.#initialSiteConfig();
    const log = (module: string) => this.logger.child({ module });

    this.#outbox = new Outbox(join(config.stateDir, 'outbox.db'), {
      onCheckpointWorkerFailed: (error) =>
        this.logger.warn({ err: error.message }, 'outbox checkpoint worker gone: SQLite checkpoints on the event loop again'),
    });
    this.#runtime = new RuleRuntime(this.#siteConfig, this.clock, this.bus, log('rules'));
    this.#runtime.start();
    // The local board first (it tells the tablets on the local feed: two hops to the nurse), then
    // the gateway's own listener (it announces the alarm to the server: three hops).
    this.#board = new LocalAlarmBoard(join(config.stateDir, 'open-alarms.json'), this.bus, log('local-alarms'));
    this.#board.start();
    this.bus.on('alarmRaised', this, (alarm) => this.#onAlarm(alarm));
    // On-site systems read the open alarms from a retained topic, also while the uplink is down.
    this.#board.onSnapshot(({ json }) => {
      this.#transport
        ?.publish(`${topics.alarms(config.siteId)}/active`, json, { qos: 1, retain: true })
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'cannot publish the open alarms'));
    });

    this.bus.on('conditionCleared', this, (cleared) => this.#onCleared(cleared));
    this.bus.on('siteConfigChanged', this, (siteConfig) => {
      this.#siteConfig = siteConfig;
      this.#store.save(siteConfig);
      this.logger.info(
        { residents: siteConfig.residents.length, sensors: siteConfig.sensors.length },
        'site configuration updated and stored',
      );
    });

    this.#transport = createMqttTransport({
      mqtt: config.mqtt,
      siteId: config.siteId,
      acceptClock: this.clock instanceof ManualClock,
      registry: this.metrics.registry,
      logger: log('broker'),
    });
    await this.#transport.start(this.#adapters.subscriptions(config.siteId), (topic, payload, done) =>
      this.#onMessage(topic, payload, done),
    );
    // The broker keeps retained messages in memory only: after a restart the open alarms are listed
    // again at once, not at the next change (alarms already delivered to the server bring none).
    this.#transport
      .publish(`${topics.alarms(config.siteId)}/active`, this.#board.json(), { qos: 1, retain: true })
      .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'cannot publish the open alarms'));
    // The broker itself warns loudly when it accepts anonymous clients (no mqtt.devices).

    if (config.server !== null) {
      this.#uplink = new Uplink(
        {
          ...config.server,
          siteId: config.siteId,
          ...(config.localFeed?.publicUrl ? { localFeed: { url: config.localFeed.publicUrl, token: config.localFeed.token } } : {}),
        },
        this.#outbox,
        this.bus,
        this.clock,
        this.metrics,
        log('uplink'),
        () => this.#siteConfig.revision ?? 0,
      );
      this.#uplink.start();
    } else this.logger.warn('no server configured: alarms go to the local alarm topic only');

    this.#health = await startHealthServer({
      host: config.http.host,
      port: config.http.port,
      registry: this.metrics.registry,
      health: () => ({
        healthy: this.#transport !== null,
        siteId: config.siteId,
        mqtt: this.#transport?.endpoint ?? null,
        uplinkConnected: this.uplinkConnected,
        outboxDepth: this.outboxDepth,
        residents: this.#siteConfig.residents.length,
        clock: new Date(this.clock.now()).toISOString(),
      }),
    });
    if (config.localFeed !== undefined) {
      this.#feed = attachLocalFeed(this.#health.server, this.#board, {
        ...config.localFeed,
        logger: log('local-feed'),
        clients: this.metrics.localFeedClients,
      });
    }
    this.logger.info({ siteId: config.siteId, mqtt: this.#transport.endpoint, healthPort: this.#health.port }, 'gateway started');
  }

  async stop(): Promise<void> {
    this.bus.removeAllOf(this);
    this.#runtime?.stop();
    this.#uplink?.stop();
    this.#board?.stop();
    this.#feed?.engine.close();
    await this.#transport?.stop();
    await this.#health?.close();
    await this.#outbox?.close();
    this.#transport = null;
    this.#health = null;
    this.#outbox = null;
    this.logger.info('gateway stopped');
  }

  /** Given configuration first, then the stored one, then the boot file; what it runs with is stored. */
  #initialSiteConfig(): SiteConfig {
    if (this.options.siteConfig !== undefined) {
      this.#store.save(this.options.siteConfig);
      return this.options.siteConfig;
    }
    const stored = this.#store.load();
    if (stored !== null) return stored;
    const file = this.options.config.siteConfigFile;
    if (file === undefined) return emptySite(this.options.config.siteId);
    const checked = checkSiteConfig(JSON.parse(readFileSync(file, 'utf8')));
    if (!checked.ok) throw new ConfigError(`siteConfigFile ${file} is invalid:\n  ${checked.errors.join('\n  ')}`);
    this.#store.save(checked.value);
    return checked.value;
  }

  #onMessage(topic: string, payload: Buffer, done: () => void): void {
    try {
      const started = process.hrtime.bigint();
      const context = this.#decodeContext;
      context.now = this.clock.now();
      const result = this.#adapters.decode(topic, payload, context);
      switch (result.type) {
        case 'event': {
          const event = result.event;
          // A message that carries the sensor's own timestamp is identified by its content: when a
          // sensor re-sends it (we crashed after storing it, before the PUBACK), the server keeps one.
          if (event.sensorTime !== undefined) event.id = contentId(topic, payload);
          this.metrics.messages.inc({ kind: event.sensorKind });
          if (this.#unchanged.keep(event, context.now)) this.#outbox?.append({ type: 'event', event });
          else this.metrics.reportsFolded.inc({ kind: event.sensorKind });
          const before = this.#alarmsDecided;
          this.bus.emit('sensorEvent', event);
          if (this.#alarmsDecided > before) this.metrics.decisionSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          break;
        }
        case 'clock':
          if (this.clock instanceof ManualClock && this.clock.advanceTo(result.time, result.speed))
            this.bus.emit('clockAdvanced', result.time);
          break;
        case 'ignored':
          break;
        case 'rejected':
          this.metrics.rejected.inc({ reason: result.reason });
          this.logger.warn(
            { topic: topic.slice(0, 200), sensorId: result.sensorId, reason: result.reason, detail: result.detail },
            'sensor message rejected',
          );
          break;
        default: {
          const exhaustive: never = result;
          throw new Error(`unhandled decode result ${JSON.stringify(exhaustive)}`);
        }
      }
    } catch (error) {
      // A bug in one message's handling must never stop the broker delivering the next.
      this.metrics.rejected.inc({ reason: 'internal' });
      this.logger.error({ err: error, topic: topic.slice(0, 200) }, 'failed to handle sensor message');
    } finally {
      // The PUBACK only once the message is on disk: the outbox commits a burst of messages at once.
      // From the site's broker (external mode) mqtt.js hands over the next message only after this
      // one's PUBACK, so waiting for the end of the turn would take one message per turn of the
      // event loop, and the broker would queue the rest, then drop them (Mosquitto keeps 1,000 per
      // client by default): there, each message is committed at once.
      if (this.#commitEachMessage) this.#outbox?.commit();
      this.#whenDurable(() => {
        done();
        this.#uplink?.flush();
      });
    }
  }

  /** Runs `then` once everything appended to the outbox is durable (at once without an outbox). */
  #whenDurable(then: () => void): void {
    const outbox = this.#outbox;
    if (outbox === null) {
      then();
      return;
    }
    outbox.afterCommit((error) => {
      if (error) {
        this.logger.error({ err: error.message }, 'outbox commit failed');
        // What was kept of unchanged reports may be gone with it: keep the next report of each sensor.
        this.#unchanged.reset();
      }
      then();
    });
  }

  #alarmsDecided = 0;

  #onAlarm(alarm: AlarmDecision): void {
    // The nurses see it now; it becomes an alarm with a lifecycle when the outbox delivers it.
    this.#uplink?.announce(alarm);
    this.#alarmsDecided++;
    this.metrics.alarms.inc({ rule: alarm.rule });
    this.#outbox?.append({ type: 'alarm', alarm });
    // On-site consumers get the alarm even with the uplink down, once it is durably in the outbox.
    this.#whenDurable(() => {
      this.#transport?.publish(topics.alarms(alarm.siteId), JSON.stringify(alarm), { qos: 1, retain: false }).catch((error: unknown) => {
        this.logger.error({ alarmId: alarm.id, err: (error as Error).message }, 'local alarm publish failed');
      });
      this.#uplink?.flush();
    });
  }

  #onCleared(cleared: ConditionCleared): void {
    this.#outbox?.append({ type: 'cleared', cleared });
    this.#whenDurable(() => this.#uplink?.flush());
  }
}
