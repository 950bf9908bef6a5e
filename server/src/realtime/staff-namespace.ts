import { acknowledgeCommand, deliveredCommand, displayedCommand, resolveCommand } from '@nattevakt/protocol/alarm';
import type { CommandResult, ReceiptResult } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import type { AlarmFeed } from '../alarms/alarm-feed.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { AlarmDeliveryService } from '../alarms/delivery.js';
import { cookieValue, SESSION_COOKIE } from '../auth/auth-routes.js';
import { type AuthService, memberOf, STAFF_ROLES, sha256, WARD_READ_ROLES } from '../auth/auth-service.js';
import type { ServerMetrics } from '../observability/metrics.js';
import type { StaffNamespace } from './socket-types.js';

/**
 * `/staff`: nurses' tablets. Alarm changes are broadcast (each with its `seq`); commands come
 * back as events with a callback, not as acks of the broadcast, so they survive a reconnect.
 * The handshake needs a session cookie of a staff member (or technician, read only); the socket
 * joins `site:<id>` for each of its sites and `session:<sha256>` (disconnected at logout), and
 * hears only its sites. Commands act as the logged-in person, whatever `by` the client sends.
 */
export function attachStaffNamespace(
  nsp: StaffNamespace,
  deps: {
    alarms: AlarmService;
    feed: AlarmFeed;
    delivery: AlarmDeliveryService;
    auth: AuthService;
    metrics: ServerMetrics;
    logger: Logger;
  },
): void {
  // Escalation levels 1 and 2 go to every tablet of the site: the board says who was alerted.
  // Each instance tells its own tablets (`local`); the feed brings the other instances' changes.
  deps.feed.onAlarm((alarm) => nsp.local.to(`site:${alarm.siteId}`).emit('alarm', alarm));
  nsp.use((socket, next) => {
    const token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
    deps.auth.session(token).then(
      (user) => {
        if (user === null) return next(new Error('login required'));
        if (!WARD_READ_ROLES.includes(user.role)) return next(new Error('your role may not use the ward board'));
        socket.data.user = user;
        next();
      },
      (error: unknown) => {
        deps.logger.error({ err: error }, 'staff handshake failed');
        next(new Error('internal'));
      },
    );
  });
  nsp.on('connection', (socket) => {
    const user = socket.data.user;
    const token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
    socket.join([...user.sites.map((id) => `site:${id}`), ...(token === undefined ? [] : [`session:${sha256(token)}`])]);
    /** Refuses a command on an alarm of another site, or from a role that may only read. */
    const allowed = async (alarmId: string): Promise<CommandResult | null> => {
      if (!STAFF_ROLES.includes(user.role)) return { ok: false, error: 'forbidden' };
      const found = await deps.alarms.get(alarmId);
      if (found !== null && !memberOf(user, found.alarm.siteId)) return { ok: false, error: 'forbidden' };
      return null;
    };
    deps.metrics.staff.inc();
    socket.on('disconnect', () => deps.metrics.staff.dec());
    const reply = <R extends CommandResult | ReceiptResult>(done: unknown, result: Promise<R>) => {
      if (typeof done !== 'function') return;
      result.then(
        (r) => done(r),
        (error: unknown) => {
          deps.logger.error({ err: error }, 'staff command failed');
          done({ ok: false, error: 'internal' });
        },
      );
    };
    socket.on('acknowledge', (command, done) => {
      const checked = acknowledgeCommand.check(command);
      reply(
        done,
        checked.ok
          ? allowed(checked.value.alarmId).then((refused) => refused ?? deps.alarms.acknowledge({ ...checked.value, by: user.displayName }))
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
    socket.on('resolve', (command, done) => {
      const checked = resolveCommand.check(command);
      reply(
        done,
        checked.ok
          ? allowed(checked.value.alarmId).then((refused) => refused ?? deps.alarms.resolve({ ...checked.value, by: user.displayName }))
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
    // Receipts (IHE PCD ACM delivery confirmation and read receipt): recorded, never broadcast.
    socket.on('delivered', (command, done) => {
      const checked = deliveredCommand.check(command);
      reply<ReceiptResult>(
        done,
        checked.ok
          ? deps.delivery.delivered(checked.value)
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
    socket.on('displayed', (command, done) => {
      const checked = displayedCommand.check(command);
      reply<ReceiptResult>(
        done,
        checked.ok
          ? deps.delivery.displayed(checked.value)
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
  });
}
