import type { SiteClock } from '@nattevakt/protocol/ward';

/** A site clock reading and the local monotonic time (performance.now()) it arrived at. */
export interface ClockReading {
  clock: SiteClock;
  receivedAt: number;
}

/**
 * The site clock between updates: the last reading advanced by the elapsed local time times
 * the clock's speed, so a simulated night runs on at its pace. Without a reading, the tablet's
 * own clock.
 */
export function siteNow(reading: ClockReading | null, monotonicNow = performance.now()): number {
  if (!reading) return Date.now();
  const base = Date.parse(reading.clock.time);
  if (Number.isNaN(base)) return Date.now();
  return base + (monotonicNow - reading.receivedAt) * reading.clock.speed;
}

/** How far back a snapshot's clock may lag our own estimate before we keep ours instead. */
const SNAPSHOT_LAG_MS = 5000;

/**
 * Whether the clock in a REST snapshot should replace the running one. `clock` events are the
 * live source; a snapshot's clock may be the last reading the server got, some time ago, and
 * taking it would make the clock jump back. A new simulation (other speed or mode) always wins.
 */
export function snapshotClockWins(current: ClockReading | null, snapshot: SiteClock): boolean {
  if (!current) return true;
  if (current.clock.simulated !== snapshot.simulated || current.clock.speed !== snapshot.speed) return true;
  const lagMs = (siteNow(current) - Date.parse(snapshot.time)) / Math.max(1, Math.abs(snapshot.speed));
  return !(lagMs > SNAPSHOT_LAG_MS);
}
