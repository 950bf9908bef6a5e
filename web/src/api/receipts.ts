import type { Alarm } from '@nattevakt/protocol/alarm';
import type { ReceiptResult, StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import type { Socket } from 'socket.io-client';
import { deviceId } from './device.js';

type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;

const RECEIPT_TIMEOUT_MS = 8000;

/**
 * Delivery confirmation and read receipt for every alarm this tablet gets (IHE PCD ACM: the
 * handset reports "delivered" and "read" back, so the server can measure and escalate). Each is
 * sent once per alarm version (delivered) or once per alarm (displayed); what could not be sent
 * waits for the next connect. Receipts never change an alarm, so they are safe to repeat.
 */
export class ReceiptSender {
  /** Highest seq the server confirmed as delivered, per alarm. */
  private readonly delivered = new Map<string, number>();
  /** Highest seq waiting to be confirmed, per alarm. */
  private readonly deliveredPending = new Map<string, number>();
  private readonly displayed = new Set<string>();
  private readonly displayedPending = new Set<string>();
  private readonly inFlight = new Set<string>();

  constructor(private readonly socket: () => StaffSocket | null) {}

  received(alarms: readonly Alarm[]): void {
    for (const alarm of alarms) {
      if ((this.delivered.get(alarm.id) ?? 0) >= alarm.seq) continue;
      if ((this.deliveredPending.get(alarm.id) ?? 0) < alarm.seq) this.deliveredPending.set(alarm.id, alarm.seq);
    }
    this.flush();
  }

  shown(alarmId: string): void {
    if (this.displayed.has(alarmId)) return;
    this.displayedPending.add(alarmId);
    this.flush();
  }

  /** Sends whatever waits; called after every connect. */
  flush(): void {
    const socket = this.socket();
    if (!socket?.connected) return;
    const device = deviceId();
    for (const [alarmId, seq] of this.deliveredPending) {
      const key = `delivered:${alarmId}:${seq}`;
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      this.deliveredPending.delete(alarmId);
      void this.send(socket, 'delivered', { alarmId, seq, device }).then((ok) => {
        this.inFlight.delete(key);
        if (ok) this.delivered.set(alarmId, Math.max(seq, this.delivered.get(alarmId) ?? 0));
        else if ((this.deliveredPending.get(alarmId) ?? 0) < seq) this.deliveredPending.set(alarmId, seq);
      });
    }
    for (const alarmId of this.displayedPending) {
      const key = `displayed:${alarmId}`;
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      this.displayedPending.delete(alarmId);
      void this.send(socket, 'displayed', { alarmId, device }).then((ok) => {
        this.inFlight.delete(key);
        if (ok) this.displayed.add(alarmId);
        else this.displayedPending.add(alarmId);
      });
    }
  }

  private async send(
    socket: StaffSocket,
    event: 'delivered' | 'displayed',
    command: { alarmId: string; seq: number; device: string } | { alarmId: string; device: string },
  ): Promise<boolean> {
    try {
      const result: ReceiptResult =
        event === 'delivered'
          ? await socket.timeout(RECEIPT_TIMEOUT_MS).emitWithAck('delivered', command as { alarmId: string; seq: number; device: string })
          : await socket.timeout(RECEIPT_TIMEOUT_MS).emitWithAck('displayed', command);
      // A refusal (unknown alarm, bad id) will not get better by retrying: count it as done.
      return result.ok || !result.error.startsWith('internal');
    } catch {
      return false;
    }
  }
}
