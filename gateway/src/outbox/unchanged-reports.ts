import type { SensorEvent } from '@nattevakt/protocol/sensor-event';

/**
 * Report by exception (docs/adr/0005): which sensor reports go into the outbox, and so to the
 * server. Zigbee sensors re-report their state whether or not it changed (bed mats every few
 * seconds, door contacts on a timer), and nine in ten messages on a ward say nothing new. The
 * rules still see every report; only the copy for the server is thinned:
 *
 * - a report that changes something the server keeps (occupied, open, online, tamper, battery,
 *   the low-battery flag, the sensor's room or resident) is kept at once, always;
 * - a report that changes none of it is kept if the sensor's last kept report is at least
 *   `intervalMs` old (site clock), so the server still sees the sensor alive (and its link
 *   quality) at least that often;
 * - the rest are folded: counted, not stored, not sent.
 *
 * `intervalMs` 0 keeps every report. One entry per sensor that has reported (the site's sensors:
 * unknown ones are rejected before they get here).
 */
export class UnchangedReports {
  readonly #last = new Map<string, { key: string; at: number }>();

  constructor(private readonly intervalMs: number) {}

  /** Whether to keep this report for the server; if so, it becomes the sensor's last kept one. */
  keep(event: SensorEvent, now: number): boolean {
    if (this.intervalMs <= 0) return true;
    const key = `${event.roomId}|${event.residentId}|${event.occupied}|${event.open}|${event.online}|${event.tamper}|${event.battery}|${event.batteryLow}`;
    const last = this.#last.get(event.sensorId);
    // A clock that went back (a simulated night restarted) keeps the report too.
    if (last !== undefined && last.key === key && now >= last.at && now - last.at < this.intervalMs) return false;
    this.#last.set(event.sensorId, { key, at: now });
    return true;
  }

  /** Forgets every sensor: the next report of each is kept (after the outbox lost what it held). */
  reset(): void {
    this.#last.clear();
  }
}
