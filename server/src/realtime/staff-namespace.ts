import {
  type Alarm,
  acknowledgeCommand,
  deliveredCommand,
  displayedCommand,
  MAX_ESCALATION_LEVEL,
  resolveCommand,
} from '@nattevakt/protocol/alarm';
import type { CommandResult, ReceiptResult } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import type { AlarmFeed } from '../alarms/alarm-feed.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { AlarmDeliveryService } from '../alarms/delivery.js';
import { EscalationAlerts } from '../alarms/escalation.js';
import { cookieValue, SESSION_COOKIE } from '../auth/auth-routes.js';
import { type AuthService, memberOf, type Role, STAFF_ROLES, sha256, WARD_READ_ROLES } from '../auth/auth-service.js';
import type { ServerMetrics } from '../observability/metrics.js';
import type { ReminderFeed } from '../supervision/reminder-feed.js';
import type { SupervisionService } from '../supervision/supervision-service.js';
import type { StaffNamespace } from './socket-types.js';

/** The room of one role's sockets at one site (escalation level 2, evaluation reminders). */
export const roleRoom = (siteId: string, role: Role) => `site:${siteId}:role:${role}`;

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
    /** Evaluation reminders for the nurse in charge; none when omitted. */
    supervision?: SupervisionService;
    /** Changes of the reminders, from this instance and the others; without it only the list on connecting. */
    reminders?: ReminderFeed;
  },
): void {
  // The alarm change of an escalation step (its new seq, "sent to the nurse in charge") reaches
  // every board of the site like any other change, so no board has a hole in its sequence. The
  // alert to act goes only to those the step targets: level 1 every staff member of the site,
  // level 2 the nurse in charge, or everyone when no nurse in charge is online (an alarm must
  // never escalate into nobody). Like the change itself, each instance alerts its own tablets,
  // deciding from the change the feed passes on (EscalationAlerts): no wait for Redis, no
  // adapter broadcast, so each tablet is alerted once whichever instance claimed the step.
  const escalations = new EscalationAlerts(deps.alarms);
  const alertEscalation = async (alarm: Alarm) => {
    const level = await escalations.levelToAlert(alarm);
    if (level === null) return;
    const everyone = STAFF_ROLES.map((role) => roleRoom(alarm.siteId, role));
    if (level < MAX_ESCALATION_LEVEL) {
      nsp.local.to(everyone).emit('escalation', { alarm, level, notified: 'all-nurses' });
      return;
    }
    const inCharge = roleRoom(alarm.siteId, 'nurse_in_charge');
    if ((nsp.adapter.rooms.get(inCharge)?.size ?? 0) > 0) {
      nsp.local.to(inCharge).emit('escalation', { alarm, level, notified: 'nurse-in-charge' });
      return;
    }
    // None here: one on another instance is alerted there. Only when none is online anywhere, or
    // that cannot be known within a second (Redis away), are this instance's nurses alerted.
    if ((await onlineAnywhere(nsp, inCharge, 1_000)) > 0) return;
    deps.logger.warn({ alarmId: alarm.id, siteId: alarm.siteId }, 'no nurse in charge online: escalation goes to every nurse');
    nsp.local.to(everyone).emit('escalation', { alarm, level, notified: 'all-nurses' });
  };
  // Evaluation reminders: each instance tells its own nurses in charge, once per change (ReminderFeed).
  deps.reminders?.onReminders((reminders) =>
    nsp.local.to(roleRoom(reminders.siteId, 'nurse_in_charge')).emit('evaluationReminders', reminders),
  );
  // Every alarm change, escalation steps included, goes to every tablet of the site.
  // Each instance tells its own tablets (`local`); the feed brings the other instances' changes.
  deps.feed.onAlarm((alarm) => {
    nsp.local.to(`site:${alarm.siteId}`).emit('alarm', alarm);
    alertEscalation(alarm).catch((error: unknown) => deps.logger.error({ alarmId: alarm.id, err: error }, 'escalation alert failed'));
  });
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
    socket.join([
      ...user.sites.flatMap((id) => [`site:${id}`, roleRoom(id, user.role)]),
      ...(token === undefined ? [] : [`session:${sha256(token)}`]),
    ]);
    if (user.role === 'nurse_in_charge' && deps.supervision !== undefined) {
      const supervision = deps.supervision;
      // The nurse in charge sees the site's due and overdue evaluations on connecting.
      Promise.all(user.sites.map((id) => supervision.reminders(id))).then(
        (all) => {
          for (const reminders of all) if (reminders.reminders.length > 0) socket.emit('evaluationReminders', reminders);
        },
        (error: unknown) => deps.logger.error({ err: error }, 'reading evaluation reminders failed'),
      );
    }
    /** Refuses a command on an alarm of another site, or from a role that may only read. */
    const allowed = async (alarmId: string): Promise<CommandResult | null> => {
      if (!STAFF_ROLES.includes(user.role)) return { ok: false, error: 'forbidden' };
      const siteId = await deps.alarms.siteOf(alarmId);
      if (siteId !== null && !memberOf(user, siteId)) return { ok: false, error: 'forbidden' };
      return null;
    };
    /** A receipt names an alarm of one of the user's sites; any other is refused, not recorded (checked in the receipt's batch). */
    const receiptAllowed = (siteId: string) => memberOf(user, siteId);
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
          ? deps.delivery.delivered(checked.value, receiptAllowed)
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
    socket.on('displayed', (command, done) => {
      const checked = displayedCommand.check(command);
      reply<ReceiptResult>(
        done,
        checked.ok
          ? deps.delivery.displayed(checked.value, receiptAllowed)
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
  });
}

/** How many sockets are in `room` on every instance; 0 when the answer does not come within `timeoutMs`. */
async function onlineAnywhere(nsp: StaffNamespace, room: string, timeoutMs: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<number>((done) => {
    timer = setTimeout(() => done(0), timeoutMs);
  });
  const count = nsp
    .in(room)
    .fetchSockets()
    .then(
      (sockets) => sockets.length,
      () => 0,
    );
  try {
    return await Promise.race([count, late]);
  } finally {
    clearTimeout(timer);
  }
}
