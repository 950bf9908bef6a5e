import { acknowledgeCommand, deliveredCommand, displayedCommand, resolveCommand } from '@nattevakt/protocol/alarm';
import type { CommandResult, ReceiptResult } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { AlarmDeliveryService } from '../alarms/delivery.js';
import type { ServerMetrics } from '../observability/metrics.js';
import type { StaffNamespace } from './socket-types.js';

/**
 * `/staff`: nurses' tablets. Alarm changes are broadcast (each with its `seq`); commands come
 * back as events with a callback, not as acks of the broadcast, so they survive a reconnect.
 * No login yet (issue 4): the server listens on loopback only until then.
 */
export function attachStaffNamespace(
  nsp: StaffNamespace,
  deps: { alarms: AlarmService; delivery: AlarmDeliveryService; metrics: ServerMetrics; logger: Logger },
): void {
  // Escalation levels 1 and 2 go to every tablet too until roles exist: the board says who was alerted.
  deps.alarms.onChange((alarm) => nsp.emit('alarm', alarm));
  nsp.on('connection', (socket) => {
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
          ? deps.alarms.acknowledge(checked.value)
          : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
      );
    });
    socket.on('resolve', (command, done) => {
      const checked = resolveCommand.check(command);
      reply(
        done,
        checked.ok ? deps.alarms.resolve(checked.value) : Promise.resolve({ ok: false, error: `invalid: ${checked.errors.join('; ')}` }),
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
