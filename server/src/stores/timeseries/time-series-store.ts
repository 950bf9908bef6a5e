import type { SensorEvent } from '@nattevakt/protocol/sensor-event';

export interface RangeOptions {
  /** Only events of these sensors (at most 100). */
  sensors?: readonly string[];
}

/**
 * The time-series port: sensor events by time. Adapters: the embedded SQLite store (default),
 * InfluxDB (issue 5). Writes are idempotent by event id.
 */
export interface TimeSeriesStore {
  /** Stores events; an id seen before is skipped. Returns how many were new. */
  write(events: SensorEvent[]): Promise<number>;
  /** Events of a site in [from, to), oldest first; only those of `options.sensors` when given (a replay of one room). */
  range(siteId: string, from: Date, to: Date, limit?: number, options?: RangeOptions): Promise<SensorEvent[]>;
  /**
   * Deletes the events of every site whose time is before `before` (retention); events at or after
   * it stay. Idempotent. Night summaries must be made first: nothing can rebuild a night after this.
   */
  deleteBefore(before: Date): Promise<void>;
  close(): Promise<void>;
}
