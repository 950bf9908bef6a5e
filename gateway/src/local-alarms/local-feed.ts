import { timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { LocalAlarm, LocalAlarmBoard, LocalAlarmChange } from './local-alarm-board.js';

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
  // The whole list, as the board coalesces it (at most once a second): each change already went out on its own.
  board.onSnapshot((snapshot) => feed.emit('snapshot', [...snapshot.open]));
  return io;
}
