import { type AlarmDecision, alarmDecision } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { type BatchAck, type GatewayStatus, MAX_BATCH_ITEMS, type OutboxItem, outboxItem } from '@nattevakt/protocol/socket-events';
import type { RoomState, SiteClock } from '@nattevakt/protocol/ward';
import type { Logger } from 'pino';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { ServerMetrics } from '../observability/metrics.js';
import type { SiteService } from '../sites/site-service.js';
import type { TimeSeriesStore } from '../stores/timeseries/time-series-store.js';
import type { WardState } from '../ward/ward-state.js';
import type { Cluster } from './cluster.js';
import type { GatewayNamespace, GatewaySocket, StaffNamespace } from './socket-types.js';

export interface GatewayIngestDeps {
  sites: SiteService;
  alarms: AlarmService;
  ward: WardState;
  timeSeries: TimeSeriesStore;
  metrics: ServerMetrics;
  logger: Logger;
  staff: StaffNamespace;
  clocks: Map<string, SiteClock>;
  cluster: Cluster;
  /** Told the sensor events of each batch once stored (technicians' live sensor stream); none when omitted. */
  onEvents?: (events: SensorEvent[]) => void;
}

type SiteNews = { room: RoomState; clock: SiteClock; gateway: GatewayStatus; provisionalAlarm: AlarmDecision };

/**
 * Tells the site's tablets on this instance at once and the other instances through the
 * cluster: not through an adapter broadcast, which would wait for Redis even for the tablets here.
 */
function tellStaff<E extends keyof SiteNews>(deps: Pick<GatewayIngestDeps, 'staff' | 'cluster'>, event: E, news: SiteNews[E]): void {
  const tablets = deps.staff.local.to(`site:${news.siteId}`) as unknown as { emit(event: E, news: SiteNews[E]): void };
  tablets.emit(event, news);
  (deps.cluster.publish as (event: E, news: SiteNews[E]) => void)(event, news);
}

/** What the other instances tell about their gateways goes to this instance's tablets; their site clocks are kept. */
export function relayOtherInstances(deps: Pick<GatewayIngestDeps, 'staff' | 'cluster' | 'clocks'>): void {
  const local = (siteId: string) => deps.staff.local.to(`site:${siteId}`);
  deps.cluster.on('room', (room) => local(room.siteId).emit('room', room));
  deps.cluster.on('gateway', (status) => local(status.siteId).emit('gateway', status));
  deps.cluster.on('provisionalAlarm', (decision) => local(decision.siteId).emit('provisionalAlarm', decision));
  deps.cluster.on('clock', (clock) => {
    deps.clocks.set(clock.siteId, clock);
    local(clock.siteId).emit('clock', clock);
  });
}

/**
 * Whether the site's gateway is connected to this or another instance. Other instances are asked
 * through Redis for at most a second: while Redis is away the answer is what this instance knows.
 */
export async function gatewayConnected(nsp: GatewayNamespace, cluster: Cluster, siteId: string): Promise<boolean> {
  if ((await nsp.local.in(`site:${siteId}`).fetchSockets()).length > 0) return true;
  if (!cluster.clustered) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((done) => {
    timer = setTimeout(() => done(false), 1_000);
  });
  try {
    return await Promise.race([
      nsp
        .in(`site:${siteId}`)
        .fetchSockets()
        .then((sockets) => sockets.length > 0),
      late,
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/gateway`: authenticated by a per-gateway token; ingests acknowledged batches from the
 * gateway's outbox. Ingestion is idempotent by id, so a batch re-sent after a lost ack is harmless.
 */
/** How long a gateway's batches are refused after one failed: shorter than its 2 s retry, longer than a round trip. */
const REFUSE_AFTER_FAILURE_MS = 1_000;

export function attachGatewayNamespace(nsp: GatewayNamespace, deps: GatewayIngestDeps): void {
  const { logger, metrics } = deps;
  /** Per site, the tail of its batches being stored one after another. */
  const batchQueues = new Map<string, Promise<void>>();
  nsp.use((socket, next) => {
    deps.sites.authenticateGateway((socket.handshake.auth as { token?: unknown }).token).then(
      (siteId) => {
        if (siteId === null) {
          logger.warn({ address: socket.handshake.address }, 'gateway refused: unknown token');
          next(new Error('unauthorized'));
          return;
        }
        socket.data.siteId = siteId;
        next();
      },
      (error: unknown) => next(error as Error),
    );
  });

  nsp.on('connection', (socket: GatewaySocket) => {
    const { siteId } = socket.data;
    void socket.join(`site:${siteId}`);
    metrics.gateways.inc();
    logger.info({ siteId, id: socket.id }, 'gateway connected');
    // The gateway may announce its local alarm feed, the tablets' fallback when this server is gone.
    const announced = (socket.handshake.auth as { localFeed?: unknown }).localFeed;
    if (announced !== undefined)
      deps.sites.announceLocalFeed(siteId, announced).then(
        (result) => {
          if (!result.ok) logger.warn({ siteId, errors: result.errors }, 'gateway announced a malformed local feed; ignored');
        },
        (error: unknown) => logger.error({ siteId, err: error }, 'could not record the gateway’s local feed'),
      );
    tellStaff(deps, 'gateway', { siteId, connected: true });
    // Read afresh: another instance may have saved it a moment ago.
    deps.sites.reload(siteId).then(
      (config) => {
        if (config) socket.emit('config', config);
      },
      (error: unknown) => {
        logger.error({ siteId, err: error }, 'could not read the site configuration for its gateway');
        const config = deps.sites.get(siteId);
        if (config) socket.emit('config', config);
      },
    );

    // A gateway keeps several batches in flight: they are stored one after another, in the order
    // they came, also across its reconnections (one queue per site), so an alarm is never stored
    // after the clearing that followed it. A failed batch refuses the ones already sent behind it
    // (and for a moment after: the gateway forgets its window and resends from the oldest after 2 s).
    let refuseUntil = 0;
    socket.on('batch', (items, ack) => {
      if (typeof ack !== 'function') return;
      const queued = (batchQueues.get(siteId) ?? Promise.resolve()).then(async () => {
        // Unanswerable: the gateway sends the batch again on its next connection.
        if (socket.disconnected) return;
        if (Date.now() < refuseUntil) {
          ack({ ok: false, accepted: 0, rejected: [], error: 'an earlier batch failed; resend from it' });
          return;
        }
        let result: BatchAck;
        try {
          result = await ingest(deps, siteId, items);
        } catch (error) {
          logger.error({ siteId, err: error }, 'batch ingestion failed');
          result = { ok: false, accepted: 0, rejected: [], error: 'internal error; retry' };
        }
        if (!result.ok) refuseUntil = Date.now() + REFUSE_AFTER_FAILURE_MS;
        ack(result);
      });
      batchQueues.set(siteId, queued);
      void queued.then(() => {
        if (batchQueues.get(siteId) === queued) batchQueues.delete(siteId);
      });
    });
    // An alarm the moment the gateway decided it: to the site's tablets at once, marked provisional.
    // Nothing is stored and nothing waits for the site's batch queue; the batch that follows stores it.
    socket.on('alarmDecided', (decision) => {
      const checked = alarmDecision.check(decision);
      if (!checked.ok) {
        metrics.rejected.inc({ reason: 'schema' });
        logger.warn({ siteId, errors: checked.errors.slice(0, 5) }, 'gateway announced a malformed alarm; ignored');
        return;
      }
      if (checked.value.siteId !== siteId) {
        metrics.rejected.inc({ reason: 'wrong-site' });
        logger.warn({ siteId, claimed: checked.value.siteId }, 'gateway announced an alarm of another site; ignored');
        return;
      }
      metrics.provisional.inc();
      tellStaff(deps, 'provisionalAlarm', checked.value);
    });
    socket.on('clock', (clock) => {
      if (typeof clock !== 'object' || clock === null || typeof clock.time !== 'string' || Number.isNaN(Date.parse(clock.time))) return;
      const value: SiteClock = { siteId, time: clock.time, simulated: clock.simulated === true, speed: Number(clock.speed) || 1 };
      deps.clocks.set(siteId, value);
      tellStaff(deps, 'clock', value);
    });
    socket.on('disconnect', (reason) => {
      metrics.gateways.dec();
      logger.warn({ siteId, reason }, 'gateway disconnected');
      void gatewayConnected(nsp, deps.cluster, siteId).then((still) => {
        if (!still) tellStaff(deps, 'gateway', { siteId, connected: false });
      });
    });
  });
}

/** Validates and stores one batch, in order. Items that can never be stored are rejected by index. */
export async function ingest(deps: GatewayIngestDeps, siteId: string, batch: unknown): Promise<BatchAck> {
  let items = batch;
  // The gateway sends its outbox rows as one JSON array in a binary attachment.
  if (batch instanceof Uint8Array) {
    try {
      items = JSON.parse(Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength).toString('utf8'));
    } catch {
      deps.metrics.rejected.inc({ reason: 'schema' });
      return { ok: false, accepted: 0, rejected: [], error: 'a binary batch is the JSON text of an array of outbox items' };
    }
  }
  if (!Array.isArray(items)) return { ok: false, accepted: 0, rejected: [], error: 'a batch is an array of outbox items' };
  if (items.length > MAX_BATCH_ITEMS) return { ok: false, accepted: 0, rejected: [], error: `at most ${MAX_BATCH_ITEMS} items per batch` };
  const rejected: BatchAck['rejected'] = [];
  const valid: OutboxItem[] = [];
  items.forEach((item, index) => {
    const checked = outboxItem.check(item);
    if (!checked.ok) {
      rejected.push({ index, error: checked.errors.join('; ') });
      deps.metrics.rejected.inc({ reason: 'schema' });
      return;
    }
    const itemSite =
      checked.value.type === 'event'
        ? checked.value.event.siteId
        : checked.value.type === 'alarm'
          ? checked.value.alarm.siteId
          : checked.value.cleared.siteId;
    if (itemSite !== siteId) {
      rejected.push({ index, error: `item is for site ${itemSite}, this gateway is authenticated for ${siteId}` });
      deps.metrics.rejected.inc({ reason: 'wrong-site' });
      return;
    }
    valid.push(checked.value);
  });
  if (rejected.length) deps.logger.warn({ siteId, rejected: rejected.slice(0, 5) }, 'gateway batch items rejected');

  // Alarms first (in their order, with their clearings): a nurse waits for nothing the events need.
  // Nothing of an alarm depends on the batch's events being stored; a batch that fails after its
  // alarms is sent again and the alarms, stored by id, are not raised twice.
  // They are stored in one transaction (one commit for the batch's alarms, not one each).
  const decisions: Exclude<OutboxItem, { type: 'event' }>[] = [];
  for (const item of valid) {
    deps.metrics.ingested.inc({ type: item.type });
    if (item.type !== 'event') decisions.push(item);
  }
  for (const { alarm, raised } of await deps.alarms.applyDecisions(decisions, siteId)) {
    if (raised) deps.metrics.gatewayLatency.observe(Math.max(0, Date.parse(alarm.receivedAt) - Date.parse(alarm.decidedAt)) / 1000);
  }
  const events: SensorEvent[] = valid.flatMap((i) => (i.type === 'event' ? [i.event] : []));
  if (events.length) {
    const written = await deps.timeSeries.write(events);
    deps.metrics.duplicates.inc(events.length - written);
    deps.onEvents?.(events);
    // The rooms' live state: the batch's sensor states in one write, each changed room told once.
    for (const room of await deps.ward.applyMany(events)) tellStaff(deps, 'room', room);
  }
  return { ok: true, accepted: valid.length, rejected };
}
