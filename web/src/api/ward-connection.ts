import type { AcknowledgeCommand, Alarm, ResolveCommand } from '@nattevakt/protocol/alarm';
import type { CommandResult, StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { io, type Socket } from 'socket.io-client';
import { LocalFeed, loadLocalFeedSettings, saveLocalFeedSettings } from './local-feed.js';
import { ReceiptSender } from './receipts.js';
import { type AlarmBatch, fetchAlarmChanges, fetchOpenAlarms, fetchWard } from './rest.js';
import { WardStore } from './ward-store.js';

type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;

/** Why a command did not reach the server, so the card can say it in the nurse's language. */
export type CommandFailure = 'offline' | 'timeout' | 'rejected';
export type CommandOutcome = { ok: true; alarm: Alarm } | { ok: false; failure: CommandFailure; error: string };

const COMMAND_TIMEOUT_MS = 8000;
const RESYNC_RETRY_MS = 5000;
/** A Wi-Fi blip should not open a second connection; a link down this long should. */
const FALLBACK_AFTER_MS = 2000;

/**
 * The tablet's link to the server: REST for snapshots, Socket.IO `/staff` for live changes.
 * Socket.IO's connection-state recovery is best effort, so every connect that was not
 * recovered, and every gap in the alarm `seq`, triggers a resync over REST.
 */
export class WardConnection {
  readonly store = new WardStore();
  private socket: StaffSocket | null = null;
  private resyncRunning = false;
  private resyncAgain = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private aborter = new AbortController();
  private readonly receipts: ReceiptSender | null;
  private fallbackTimer: ReturnType<typeof setTimeout> | undefined;
  private feed: LocalFeed | null = null;
  /**
   * The gateway's feed kept open while the server is there too (when this tablet was given the
   * feed): each alarm the gateway raises comes straight from it, a hop before the server's
   * provisional alarm, and is shown the same way until the stored alarm takes it over.
   */
  private early: LocalFeed | null = null;
  /** The link was lost since the last successful resync: the next one is a recovery. */
  private outage = false;
  /** The alarm seq the tablet had when the link was lost, to tell how much the outage hid. */
  private seqAtOutage = 0;

  private readonly withAlarms: boolean;

  /**
   * `receipts`: confirm delivery and display of alarms (nurses' tablets; not a technician's
   * screen). `alarms: false`: rooms and sensors only, for roles that may not read alarms.
   */
  constructor(options: { receipts?: boolean; alarms?: boolean } = {}) {
    this.receipts = options.receipts ? new ReceiptSender(() => this.socket) : null;
    this.withAlarms = options.alarms ?? true;
  }

  start(): void {
    if (this.socket) return;
    this.aborter = new AbortController();
    const socket: StaffSocket = io('/staff');
    this.socket = socket;

    socket.on('connect', () => {
      this.startEarlyFeed();
      this.store.setLink('connected');
      clearTimeout(this.fallbackTimer);
      this.fallbackTimer = undefined;
      this.receipts?.flush();
      // After an outage always ask REST too: recovery replays packets only while the same server process lived.
      if (!socket.recovered || this.outage) this.requestResync();
    });
    socket.on('connect_error', () => this.linkLost());
    socket.on('disconnect', (reason) => {
      this.linkLost();
      // After a server-side disconnect the client does not retry by itself; a ward board must.
      if (reason === 'io server disconnect') setTimeout(() => this.socket?.connect(), RESYNC_RETRY_MS);
    });
    socket.on('alarm', (alarm) => this.receiveAlarm(alarm));
    // The gateway's decision, passed on before the server stored it: shown at once, replaced by the
    // `alarm` of the same id. No receipt (the server has no alarm to attach it to yet) and no seq.
    if (this.withAlarms) socket.on('provisionalAlarm', (decision) => this.store.applyProvisional(decision));
    socket.on('room', (room) => this.store.applyRoom(room));
    socket.on('clock', (clock) => this.store.applyClock(clock));
    socket.on('gateway', (status) => this.store.applyGateway(status));
    // Nurse in charge only: vedtak evaluations due or overdue.
    socket.on('evaluationReminders', (reminders) => this.store.applyReminders(reminders));
    // Nobody answered in time: the alarm (with its new level) and a fresh alert that ends any sound pause.
    socket.on('escalation', (alert) => {
      this.receiveAlarm(alert.alarm);
      this.store.noteEscalation(alert.alarm.id, alert.level, alert.notified);
    });

    // Load at once rather than waiting for the socket, so a slow upgrade does not delay the board.
    this.requestResync();
  }

  stop(): void {
    this.aborter.abort();
    clearTimeout(this.retryTimer);
    clearTimeout(this.fallbackTimer);
    this.fallbackTimer = undefined;
    this.feed?.stop();
    this.feed = null;
    this.early?.stop();
    this.early = null;
    // What was pushed is not lost with the connection (a remount starts it again on the same store).
    this.store.flushRooms();
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
    this.socket = null;
  }

  /** The alarm is on screen: the read receipt (sent once per alarm). */
  readonly displayed = (alarmId: string): void => {
    this.receipts?.shown(alarmId);
  };

  private linkLost(): void {
    this.store.setLink('disconnected');
    if (!this.outage) this.seqAtOutage = this.store.getSnapshot().seq;
    this.outage = true;
    if (this.feed || this.fallbackTimer !== undefined) return;
    this.fallbackTimer = setTimeout(() => {
      this.fallbackTimer = undefined;
      if (this.socket?.connected === false) this.startFallback();
    }, FALLBACK_AFTER_MS);
  }

  private startEarlyFeed(): void {
    if (this.early !== null || !this.withAlarms) return;
    const settings = loadLocalFeedSettings();
    if (!settings) return;
    this.early = new LocalFeed(
      settings,
      () => {},
      () => {},
      (alarm) => this.store.applyProvisional(alarm),
    );
    this.early.start();
  }

  private startFallback(): void {
    const settings = loadLocalFeedSettings();
    if (!settings) {
      this.store.setFallbackStatus('unconfigured');
      return;
    }
    this.feed = new LocalFeed(
      settings,
      (alarms) =>
        this.store.applyFallbackAlarms(alarms.filter((alarm) => alarm.siteId === (this.store.getSnapshot().site?.id ?? alarm.siteId))),
      (status) => this.store.setFallbackStatus(status),
    );
    this.feed.start();
  }

  /** The server is back and the tablet has caught up: the fallback is no longer needed. */
  private endOutage(): void {
    this.outage = false;
    // Whether they came replayed by Socket.IO or fetched over REST: alarm versions newer than the outage.
    const changes = [...this.store.getSnapshot().alarms.values()].filter((alarm) => alarm.seq > this.seqAtOutage).length;
    this.feed?.stop();
    this.feed = null;
    this.store.setFallbackStatus('off');
    this.store.markRecovered(changes);
  }

  acknowledge(command: AcknowledgeCommand): Promise<CommandOutcome> {
    return this.send('acknowledge', command);
  }

  resolve(command: ResolveCommand): Promise<CommandOutcome> {
    return this.send('resolve', command);
  }

  private async send(event: 'acknowledge' | 'resolve', command: AcknowledgeCommand | ResolveCommand): Promise<CommandOutcome> {
    const socket = this.socket;
    // Refuse rather than buffer: a "Jeg går" delivered minutes later would mislead colleagues.
    if (!socket?.connected) return { ok: false, failure: 'offline', error: 'not connected' };
    let result: CommandResult;
    try {
      result =
        event === 'acknowledge'
          ? await socket.timeout(COMMAND_TIMEOUT_MS).emitWithAck('acknowledge', command as AcknowledgeCommand)
          : await socket.timeout(COMMAND_TIMEOUT_MS).emitWithAck('resolve', command as ResolveCommand);
    } catch (error) {
      return { ok: false, failure: 'timeout', error: error instanceof Error ? error.message : String(error) };
    }
    if (!result.ok) return { ok: false, failure: 'rejected', error: result.error };
    this.receiveAlarm(result.alarm);
    return result;
  }

  private receiveAlarm(alarm: Alarm): void {
    this.receipts?.received([alarm]);
    const { seq, alarmsLoaded } = this.store.getSnapshot();
    if (alarm.seq <= seq + 1 || !alarmsLoaded) {
      this.store.applyAlarms([alarm], alarmsLoaded ? alarm.seq : undefined);
      return;
    }
    // Something between seq and alarm.seq never reached us: show this one now, and fetch the
    // rest without moving seq past the hole.
    this.store.applyAlarms([alarm]);
    this.requestResync();
  }

  /** Runs one resync at a time; requests that arrive meanwhile fold into one more round. */
  private requestResync(): void {
    if (this.resyncRunning) {
      this.resyncAgain = true;
      return;
    }
    this.resyncRunning = true;
    void this.resyncLoop();
  }

  private async resyncLoop(): Promise<void> {
    try {
      do {
        this.resyncAgain = false;
        await this.resyncOnce();
      } while (this.resyncAgain && !this.aborter.signal.aborted);
    } finally {
      this.resyncRunning = false;
    }
  }

  private async resyncOnce(): Promise<void> {
    const signal = this.aborter.signal;
    const before = this.store.getSnapshot();
    const requestedAt = performance.now();
    const [ward, alarms] = await Promise.allSettled([
      fetchWard(signal),
      !this.withAlarms
        ? Promise.resolve<AlarmBatch>({ seq: 0, alarms: [] })
        : before.alarmsLoaded
          ? fetchAlarmChanges(before.seq, signal)
          : fetchOpenAlarms(signal),
    ]);
    if (signal.aborted) return;
    if (ward.status === 'fulfilled') {
      this.store.applyWard(ward.value, requestedAt);
      adoptLocalFeedFromServer(ward.value);
    }
    if (alarms.status === 'fulfilled') {
      this.store.applyAlarms(alarms.value.alarms, alarms.value.seq, !before.alarmsLoaded);
      this.store.markAlarmsLoaded();
      this.receipts?.received(alarms.value.alarms);
      // A long absence comes back in pages; the loop in resyncLoop fetches the next one.
      if (alarms.value.more) this.resyncAgain = true;
    }
    const failed = [ward, alarms].find((result) => result.status === 'rejected');
    if (!failed) {
      this.store.setLoadError(null);
      if (this.outage && this.socket?.connected) this.endOutage();
      return;
    }
    this.store.setLoadError(failed.reason instanceof Error ? failed.reason.message : String(failed.reason));
    // The next connect resyncs anyway; while connected, nothing else would, so retry here.
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.socket?.connected) this.requestResync();
    }, RESYNC_RETRY_MS);
  }
}

/** Should /api/ward ever carry the gateway feed's address and token, the tablet keeps them for the day the server is gone. */
function adoptLocalFeedFromServer(view: object): void {
  const feed = (view as { localFeed?: { url?: unknown; token?: unknown } }).localFeed;
  if (feed && typeof feed.url === 'string' && typeof feed.token === 'string') saveLocalFeedSettings({ url: feed.url, token: feed.token });
}
