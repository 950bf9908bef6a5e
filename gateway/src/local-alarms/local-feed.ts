import { timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { LocalAlarm, LocalAlarmBoard, LocalAlarmChange, OpenAlarmsSnapshot } from './local-alarm-board.js';

/** The feed's whole list goes out at most this often; every change goes at once as `alarm`. */
export const FEED_SNAPSHOT_INTERVAL_MS = 1000;

/** Events of the gateway's read-only `/local` namespace. */
export interface LocalFeedEvents {
  /** All open alarms, on connect and after changes (a burst of changes gives one snapshot). */
  snapshot: (open: LocalAlarm[]) => void;
  /** One alarm that changed (resolved ones carry only id and status). */
  alarm: (alarm: LocalAlarmChange) => void;
}

const sameToken = (expected: string, given: unknown): boolean =>
  typeof given === 'string' && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

/**
 * The ward's fallback: tablets that cannot reach the server read open alarms straight from the
 * gateway. Tablets given the feed also keep it open while the server is there: each raised alarm
 * (`alarm`) reaches them from here first, a hop before the server's provisional alarm.
 * Authenticated by a token, read-only (no client events are handled).
 */
export function attachLocalFeed(
  httpServer: HttpServer,
  board: LocalAlarmBoard,
  options: { token: string; allowedOrigins: string[]; logger: Logger; clients?: { inc(): void; dec(): void } },
): Server {
  const io = new Server(httpServer, { serveClient: false, cors: { origin: options.allowedOrigins } });
  const feed = io.of('/local');
  feed.use((socket, next) => {
    if (sameToken(options.token, (socket.handshake.auth as { token?: unknown }).token)) return next();
    options.logger.warn({ address: socket.handshake.address }, 'local alarm feed refused: wrong token');
    return next(new Error('unauthorized'));
  });
  feed.on('connection', (socket) => {
    options.clients?.inc();
    socket.on('disconnect', () => options.clients?.dec());
    socket.emit('snapshot', board.open());
  });
  board.onChange((changed) => feed.emit('alarm', changed));
  // The whole list, coalesced: a burst of changes is one snapshot, not one per change. Each
  // change already went out on its own (`alarm`), so the list, which the feed encodes afresh for
  // its clients, goes at most once a second: under a flood of alarms, encoding every open alarm
  // 20 times a second was an eighth of the gateway's CPU.
  let latest: OpenAlarmsSnapshot | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sentAt = 0;
  board.onSnapshot((snapshot) => {
    latest = snapshot;
    if (timer !== null) return;
    timer = setTimeout(
      () => {
        timer = null;
        sentAt = Date.now();
        const open = latest?.open ?? [];
        latest = null;
        feed.emit('snapshot', [...open]);
      },
      Math.max(0, sentAt + FEED_SNAPSHOT_INTERVAL_MS - Date.now()),
    );
    // A pending snapshot never keeps a stopping gateway alive.
    timer.unref();
  });
  return io;
}
