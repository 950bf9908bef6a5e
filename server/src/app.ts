import { join } from 'node:path';
import type { SiteClock } from '@nattevakt/protocol/ward';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { type Logger, pino } from 'pino';
import { Server } from 'socket.io';
import { AlarmFeed } from './alarms/alarm-feed.js';
import { AlarmService } from './alarms/alarm-service.js';
import { AlarmDeliveryService } from './alarms/delivery.js';
import { type Clock, EscalationScheduler, type EscalationSettings, escalationOptions, systemClock } from './alarms/escalation.js';
import { type AuthOptions, installAuth } from './auth/auth-routes.js';
import { AuthService } from './auth/auth-service.js';
import { SessionExpiry } from './auth/session-expiry.js';
import { ScenarioRunner } from './commissioning/scenario-runner.js';
import { loadSecretKey, SecretBox } from './commissioning/secret-box.js';
import { SelfTestLog } from './commissioning/self-test-log.js';
import { TestSettings } from './commissioning/test-settings.js';
import { createServerMetrics, type ServerMetrics } from './observability/metrics.js';
import { type Cluster, type ClusterOptions, redisCluster, standalone } from './realtime/cluster.js';
import { coalesceWebSocketWrites } from './realtime/coalesce-writes.js';
import { attachGatewayNamespace, gatewayConnected, relayOtherInstances } from './realtime/gateway-namespace.js';
import { attachSensorStream, userRoom } from './realtime/sensor-stream.js';
import type { GatewayNamespace, StaffNamespace } from './realtime/socket-types.js';
import { attachStaffNamespace } from './realtime/staff-namespace.js';
import { RelativeService } from './relatives/relative-service.js';
import { NightSummaryService } from './reports/night-summary-service.js';
import { RetentionJob, type RetentionOptions } from './reports/retention.js';
import { alarmDeliveryRoutes } from './routes/alarm-delivery.js';
import { alarmListRoutes } from './routes/alarm-list.js';
import { alarmRoutes } from './routes/alarms.js';
import { commissioningRoutes } from './routes/commissioning.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { HttpError } from './routes/http-error.js';
import { nightReportRoutes } from './routes/night-reports.js';
import { collectOpenApi, openApiRoute } from './routes/openapi.js';
import { relativeRoutes } from './routes/relatives.js';
import { siteAdminRoutes } from './routes/site-admin.js';
import { siteConfigRoutes } from './routes/site-config.js';
import { supervisionRoutes } from './routes/supervision.js';
import { userRoutes } from './routes/users.js';
import { wardRoutes } from './routes/ward.js';
import { webAppRoutes } from './routes/web-app.js';
import { SiteEditor } from './sites/site-editor.js';
import { SiteService } from './sites/site-service.js';
import { openRelationalStore } from './stores/relational/database.js';
import { InfluxTimeSeriesStore } from './stores/timeseries/influx-time-series.js';
import { SqliteTimeSeriesStore } from './stores/timeseries/sqlite-time-series.js';
import type { TimeSeriesStore } from './stores/timeseries/time-series-store.js';
import { ReminderFeed } from './supervision/reminder-feed.js';
import { type SupervisionOptions, SupervisionService } from './supervision/supervision-service.js';
import { WardState } from './ward/ward-state.js';

export interface AppOptions {
  /** Where the embedded stores keep their files; ':memory:' keeps everything in memory (tests). */
  dataDir: string;
  /**
   * The relational store: a `postgres://…` URL (PostgreSQL, the production engine) or a SQLite file
   * path. Default: `nattevakt.db` in `dataDir` (in memory when `dataDir` is ':memory:').
   */
  databaseUrl?: string;
  /**
   * The time-series engine: InfluxDB 2.x / 3.x / 1.8+ (`/api/v2/write` behind a durable spool in
   * `dataDir`, InfluxQL `/query` for reads). Default: the embedded SQLite store `timeseries.db`.
   */
  influx?: { url: string; token?: string; org: string; bucket: string };
  /** The built web app to serve; none when omitted. */
  webDir?: string;
  /** Structured logger; silent when omitted. */
  logger?: Logger;
  /** The server's wall clock for alarm times and escalation (tests move it by hand); the system clock when omitted. */
  clock?: Clock;
  /** Escalation delays per priority and the scheduler's safety poll; defaults in `DEFAULT_ESCALATION`. */
  escalation?: EscalationSettings;
  /** Session cookie and login rate limit (see `AuthOptions`). */
  auth?: AuthOptions;
  /**
   * More than one instance: Redis for the Socket.IO adapter and messages between instances (use
   * PostgreSQL as the relational store then). `syncPollMs`: how often each instance also reads
   * alarm and site changes from the database, in case a message was lost (default 2000).
   */
  redis?: ClusterOptions & { syncPollMs?: number };
  /** Raw-event retention (default 30 days) and the job that summarises nights before deleting (see `RetentionOptions`). */
  retention?: RetentionOptions;
  /** Evaluation reminder window and the supervision scheduler's poll (see `SupervisionOptions`). */
  supervision?: SupervisionOptions;
  /** How often expired sessions are ended and their live sockets disconnected (default 30 000 ms). */
  sessionSweepMs?: number;
  /** Scenario runs and the self-test watch (see `CommissioningOptions`). */
  commissioning?: CommissioningOptions;
}

export interface CommissioningOptions {
  /**
   * The key that encrypts stored secrets (a gateway broker's simulator password): 32 bytes as 64
   * hex digits or base64 (NATTEVAKT_SECRET_KEY). Every instance of a cluster needs the same one.
   * Default: `secret.key` in `dataDir`, created once with mode 0600 (random per process in memory).
   */
  secretKey?: string;
  /** How often the self-test watch looks for missing daily self-tests (default 30 000 ms; 0: never by itself). */
  selfTestPollMs?: number;
  /** The built-in scenarios' folder (default: the simulator package's `scenarios/`). */
  builtInScenarioDir?: string;
  /** A scenario run is aborted after this long (default 10 minutes). */
  maxScenarioRunMs?: number;
}

export interface NattevaktServer {
  app: FastifyInstance;
  logger: Logger;
  io: Server;
  sites: SiteService;
  alarms: AlarmService;
  delivery: AlarmDeliveryService;
  escalations: EscalationScheduler;
  /** Every alarm change this instance passes on to its tablets and gateways, from any instance. */
  feed: AlarmFeed;
  cluster: Cluster;
  ward: WardState;
  timeSeries: TimeSeriesStore;
  metrics: ServerMetrics;
  auth: AuthService;
  /** Night summaries per resident, kept when raw events are deleted. */
  nights: NightSummaryService;
  relatives: RelativeService;
  retention: RetentionJob;
  /** Legal basis, plan status, arming, evaluation reminders. */
  supervision: SupervisionService;
  /** Rooms, residents, sensors and plans, changed one at a time with an audit row. */
  editor: SiteEditor;
  /** Ends expired sessions and disconnects their sockets. */
  sessionExpiry: SessionExpiry;
  /** Per-site simulator connection (passwords encrypted) and self-test schedule. */
  testSettings: TestSettings;
  /** Scenario runs against a site's gateway, with their verdicts. */
  scenarios: ScenarioRunner;
  /** The self-test maintenance log and the watch for missing self-tests. */
  selfTests: SelfTestLog;
}

/**
 * The server's app factory, separate from `listen()` so tests use `app.inject` or port 0.
 * Socket.IO is attached by hand to `app.server` and closed in `onClose` (Fastify 5 has no
 * maintained socket.io plugin).
 */
export async function buildApp(options: AppOptions): Promise<NattevaktServer> {
  const root = options.logger ?? pino({ level: 'silent' });
  const app: FastifyInstance = Fastify({
    loggerInstance: root as unknown as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    // Unknown fields are refused with a 400, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // A malformed URL or an over-long path parameter is answered before routing, where no hook runs:
    // in our error shape, and counted here (requests arrive only after `metrics` below exists).
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      metrics.httpRefused.inc({ method: request.method, route: '(before routing)', status: String(status) });
      void (reply as unknown as FastifyReply).code(status).send({ error: error.message });
    },
  });
  const logger = root.child({ module: 'server' });
  const clock = options.clock ?? systemClock;
  const escalation = escalationOptions(options.escalation);
  const memory = options.dataDir === ':memory:';
  const db = await openRelationalStore(options.databaseUrl ?? (memory ? ':memory:' : join(options.dataDir, 'nattevakt.db')));
  const timeSeries: TimeSeriesStore = options.influx
    ? new InfluxTimeSeriesStore({
        ...options.influx,
        spoolPath: memory ? ':memory:' : join(options.dataDir, 'timeseries-spool.db'),
        logger: root.child({ module: 'timeseries' }),
      })
    : new SqliteTimeSeriesStore(memory ? ':memory:' : join(options.dataDir, 'timeseries.db'));
  const metrics = createServerMetrics();
  const sites = new SiteService(db);
  const supervision = new SupervisionService(db, sites, clock, root.child({ module: 'supervision' }), options.supervision);
  // No configuration reaches a gateway armed without a legal basis and an active plan.
  sites.setArmingPolicy(supervision.arm);
  await sites.load();
  await supervision.rederiveAll();
  const editor = new SiteEditor(sites, clock);
  // With more than one instance the ward state is read from the database; alone, from memory.
  const ward = new WardState(db, sites, { shared: options.redis !== undefined });
  await ward.load();
  const alarms = new AlarmService(db, sites, root.child({ module: 'alarms' }), {
    clock,
    escalation,
    committed: (operations) => metrics.alarmCommitSize.observe(operations),
  });
  const delivery = new AlarmDeliveryService(db, root.child({ module: 'alarm-delivery' }), { clock });
  const escalations = new EscalationScheduler(alarms, escalation, clock, root.child({ module: 'escalation' }));
  const clocks = new Map<string, SiteClock>();
  const auth = new AuthService(db, () => clock.now());
  const sessionExpiry = new SessionExpiry(auth, root.child({ module: 'sessions' }), options.sessionSweepMs);
  const nights = new NightSummaryService(db, sites, timeSeries, clock, root.child({ module: 'night-summaries' }));
  const relatives = new RelativeService(
    db,
    () => clock.now(),
    (siteId) => sites.get(siteId)?.site.timezone ?? 'Europe/Oslo',
  );
  const retention = new RetentionJob(nights, timeSeries, clock, root.child({ module: 'retention' }), options.retention);
  const testSettings = new TestSettings(db, new SecretBox(loadSecretKey(options.commissioning?.secretKey, options.dataDir)), () =>
    clock.now(),
  );
  const selfTests = new SelfTestLog(
    db,
    sites,
    testSettings,
    alarms,
    clock,
    root.child({ module: 'self-test' }),
    options.commissioning?.selfTestPollMs,
  );

  // One central error handler: 4xx say what was wrong; a 5xx never leaks its internals.
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: 'internal error', requestId: request.id });
    }
    return reply.code(status).send({ error: error.message });
  });
  // Every refused request counted by route and status: hostile or broken clients show on a dashboard.
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 400) return;
    metrics.httpRefused.inc({ method: request.method, route: request.routeOptions.url ?? '(no route)', status: String(reply.statusCode) });
  });
  // Before any route: the OpenAPI document is built from every route's schema.
  const openApi = collectOpenApi(app, { title: 'Nattevakt', version: '0.1.0' });

  const io = new Server(app.server, {
    serveClient: false,
    maxHttpBufferSize: 2 * 1024 * 1024,
    // Best effort only: a tablet that comes back resyncs over REST by seq in any case. Not with
    // more than one instance: each instance emits to its own sockets only (see Cluster), which
    // the Redis adapter does not keep for recovery, so a "recovered" tablet could miss alarms.
    ...(options.redis ? {} : { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false } }),
  });
  coalesceWebSocketWrites(io);
  const cluster = options.redis ? redisCluster(io, options.redis, root.child({ module: 'cluster' })) : standalone;
  const feed = new AlarmFeed(alarms, cluster, root.child({ module: 'alarm-feed' }), { pollMs: options.redis?.syncPollMs ?? 2_000 });
  const reminderFeed = new ReminderFeed(supervision, cluster, root.child({ module: 'reminder-feed' }), {
    pollMs: options.redis?.syncPollMs ?? 2_000,
  });
  const staff = io.of('/staff') as unknown as StaffNamespace;
  const gatewayNsp = io.of('/gateway') as unknown as GatewayNamespace;
  attachStaffNamespace(staff, {
    alarms,
    feed,
    delivery,
    auth,
    metrics,
    supervision,
    reminders: reminderFeed,
    logger: root.child({ module: 'staff' }),
  });
  // Technicians following one sensor get its events live, from this instance's gateways and the others'.
  const sensorStream = attachSensorStream(staff, { sites, logger: root.child({ module: 'sensor-stream' }) });
  cluster.on('sensorEvents', sensorStream);
  const scenarios = new ScenarioRunner({
    db,
    sites,
    settings: testSettings,
    clocks,
    clock,
    logger: root.child({ module: 'scenarios' }),
    notify: {
      progress: (userId, progress) => staff.to(userRoom(userId)).emit('scenarioProgress', progress),
      finished: (userId, run) => staff.to(userRoom(userId)).emit('scenarioFinished', run),
    },
    ...(options.commissioning?.builtInScenarioDir !== undefined ? { builtInDir: options.commissioning.builtInScenarioDir } : {}),
    ...(options.commissioning?.maxScenarioRunMs !== undefined ? { maxRunMs: options.commissioning.maxScenarioRunMs } : {}),
  });
  attachGatewayNamespace(gatewayNsp, {
    sites,
    alarms,
    ward,
    // Late events (a gateway's outbox after an outage) send their nights back to the summary job.
    timeSeries: nights.watching(timeSeries),
    metrics,
    logger: root.child({ module: 'gateway-ingest' }),
    staff,
    clocks,
    cluster,
    onEvents: (events) => {
      sensorStream(events);
      cluster.publish('sensorEvents', events);
    },
  });
  relayOtherInstances({ staff, cluster, clocks });
  // The gateway learns every configuration change and every alarm change of its site, from the
  // instance it is connected to (each instance learns both from the others; see Cluster).
  sites.onChange((config, origin) => {
    gatewayNsp.local.to(`site:${config.site.id}`).emit('config', config);
    if (origin === 'here') cluster.publish('site', config.site.id);
  });
  cluster.on('site', (siteId) => {
    sites.reload(siteId).catch((error: unknown) => logger.error({ siteId, err: error }, 'could not reload a site saved elsewhere'));
  });
  const refreshSites = () => {
    sites.refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not look for site changes made elsewhere'));
  };
  cluster.onReconnect(refreshSites);
  const siteTimer = cluster.clustered ? setInterval(refreshSites, options.redis?.syncPollMs ?? 2_000) : undefined;
  siteTimer?.unref();
  // The gateway is told what people did to its alarms (acknowledged, resolved). An alarm still
  // active changed only by what the gateway itself sent (raised, condition cleared) or by an
  // escalation step, none of which its local board shows: two of every alarm's four changes,
  // each a frame to write here and one to decode there, for nothing.
  feed.onAlarm((alarm) => {
    if (alarm.status !== 'active') gatewayNsp.local.to(`site:${alarm.siteId}`).emit('alarm', alarm);
  });
  await feed.start();
  await reminderFeed.start();

  // Upgraded WebSocket connections keep the HTTP server from closing, so they go first (preClose).
  app.addHook('preClose', async () => {
    io.engine.close();
  });
  app.addHook('onClose', async () => {
    clearInterval(siteTimer);
    await scenarios.stop();
    await selfTests.stop();
    await escalations.stop();
    await supervision.stop();
    await sessionExpiry.stop();
    await retention.stop();
    await reminderFeed.stop();
    await feed.stop();
    await cluster.close();
    await timeSeries.close();
    await db.destroy();
    logger.info('server stopped');
  });

  await installAuth(app, auth, options.auth);
  // Logging out ends that session's live connections too.
  auth.onLogout((tokenSha256) => staff.in(`session:${tokenSha256}`).disconnectSockets(true));
  await app.register(healthRoutes, { db, metrics, redis: () => cluster.healthy() });
  await app.register(wardRoutes, {
    sites,
    ward,
    alarms,
    clocks,
    gatewayConnected: (siteId) => gatewayConnected(gatewayNsp, cluster, siteId),
  });
  await app.register(alarmRoutes, { alarms });
  await app.register(alarmDeliveryRoutes, { delivery, now: () => clock.now() });
  await app.register(eventRoutes, { sites, timeSeries });
  await app.register(siteConfigRoutes, { sites, editor, supervision });
  await app.register(supervisionRoutes, { db, sites, supervision, ward, alarms, clocks, clock });
  openApiRoute(app, openApi);
  const now = () => clock.now();
  await app.register(nightReportRoutes, { sites, nights, timeSeries, db, now, rawEventDays: retention.rawEventDays });
  await app.register(relativeRoutes, { sites, relatives, nights, now });
  await app.register(alarmListRoutes, { alarms });
  await app.register(userRoutes, { db, auth, sites, now });
  // A replaced gateway token disconnects the gateway that used the old one, on every instance.
  const disconnectGateway = (siteId: string) => gatewayNsp.in(`site:${siteId}`).disconnectSockets(true);
  await app.register(siteAdminRoutes, { db, sites, now, disconnectGateway });
  await app.register(commissioningRoutes, { sites, settings: testSettings, runner: scenarios, selfTests });
  if (options.webDir !== undefined) await app.register(webAppRoutes, { webDir: options.webDir });
  escalations.start();
  supervision.start();
  sessionExpiry.start();
  retention.start();
  selfTests.start();
  return {
    app,
    logger: root,
    io,
    sites,
    alarms,
    delivery,
    escalations,
    feed,
    cluster,
    ward,
    timeSeries,
    metrics,
    auth,
    nights,
    relatives,
    retention,
    supervision,
    editor,
    sessionExpiry,
    testSettings,
    scenarios,
    selfTests,
  };
}
