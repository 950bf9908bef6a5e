import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import Database from 'better-sqlite3';
import type { RangeOptions, TimeSeriesStore } from './time-series-store.js';

interface Row {
  id: string;
  site_id: string;
  sensor_id: string;
  sensor_kind: 'bed' | 'door';
  room_id: string;
  resident_id: string | null;
  time: number;
  sensor_time: string | null;
  occupied: number | null;
  open: number | null;
  online: number | null;
  battery: number | null;
  linkquality: number | null;
  tamper: number | null;
  battery_low: number | null;
  format: SensorEvent['format'];
  raw: string;
}

const bool = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);
const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  value === null ? {} : ({ [key]: value } as { [P in K]: V });

function toEvent(row: Row): SensorEvent {
  return {
    id: row.id,
    siteId: row.site_id,
    sensorId: row.sensor_id,
    sensorKind: row.sensor_kind,
    roomId: row.room_id,
    ...optional('residentId', row.resident_id),
    time: new Date(row.time).toISOString(),
    ...optional('sensorTime', row.sensor_time),
    ...optional('occupied', row.occupied === null ? null : row.occupied === 1),
    ...optional('open', row.open === null ? null : row.open === 1),
    ...optional('online', row.online === null ? null : row.online === 1),
    ...optional('battery', row.battery),
    ...optional('linkquality', row.linkquality),
    ...optional('tamper', row.tamper === null ? null : row.tamper === 1),
    ...optional('batteryLow', row.battery_low === null ? null : row.battery_low === 1),
    format: row.format,
    raw: row.raw,
  };
}

/** The embedded time-series adapter: one SQLite file, states as 0/1 like the InfluxDB adapter stores them. */
export class SqliteTimeSeriesStore implements TimeSeriesStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #range: Database.Statement;
  readonly #deleteBefore: Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS sensor_events (
      id TEXT PRIMARY KEY, site_id TEXT NOT NULL, sensor_id TEXT NOT NULL, sensor_kind TEXT NOT NULL, room_id TEXT NOT NULL,
      resident_id TEXT, time INTEGER NOT NULL, sensor_time TEXT, occupied INTEGER, open INTEGER, online INTEGER,
      battery INTEGER, linkquality INTEGER, tamper INTEGER, raw TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS sensor_events_site_time ON sensor_events (site_id, time);
      CREATE INDEX IF NOT EXISTS sensor_events_sensor_time ON sensor_events (site_id, sensor_id, time);`);
    // Added after the first release: older files get the columns (rows before that read back as 'native', no batteryLow).
    const columns = new Set((this.#db.pragma('table_info(sensor_events)') as { name: string }[]).map((c) => c.name));
    if (!columns.has('battery_low')) this.#db.exec('ALTER TABLE sensor_events ADD COLUMN battery_low INTEGER');
    if (!columns.has('format')) this.#db.exec("ALTER TABLE sensor_events ADD COLUMN format TEXT NOT NULL DEFAULT 'native'");
    this.#insert = this.#db.prepare(`INSERT OR IGNORE INTO sensor_events
      (id, site_id, sensor_id, sensor_kind, room_id, resident_id, time, sensor_time, occupied, open, online, battery, linkquality, tamper, raw, battery_low, format)
      VALUES (@id, @site_id, @sensor_id, @sensor_kind, @room_id, @resident_id, @time, @sensor_time, @occupied, @open, @online, @battery, @linkquality, @tamper, @raw, @battery_low, @format)`);
    this.#range = this.#db.prepare('SELECT * FROM sensor_events WHERE site_id = ? AND time >= ? AND time < ? ORDER BY time, rowid LIMIT ?');
    this.#deleteBefore = this.#db.prepare('DELETE FROM sensor_events WHERE time < ?');
  }

  async write(events: SensorEvent[]): Promise<number> {
    const insertAll = this.#db.transaction((batch: SensorEvent[]) => {
      let written = 0;
      for (const e of batch) {
        written += this.#insert.run({
          id: e.id,
          site_id: e.siteId,
          sensor_id: e.sensorId,
          sensor_kind: e.sensorKind,
          room_id: e.roomId,
          resident_id: e.residentId ?? null,
          time: Date.parse(e.time),
          sensor_time: e.sensorTime ?? null,
          occupied: bool(e.occupied),
          open: bool(e.open),
          online: bool(e.online),
          battery: e.battery ?? null,
          linkquality: e.linkquality ?? null,
          tamper: bool(e.tamper),
          raw: e.raw,
          battery_low: bool(e.batteryLow),
          format: e.format,
        }).changes;
      }
      return written;
    });
    return insertAll(events);
  }

  async range(siteId: string, from: Date, to: Date, limit = 10_000, options: RangeOptions = {}): Promise<SensorEvent[]> {
    if (options.sensors === undefined) return (this.#range.all(siteId, from.getTime(), to.getTime(), limit) as Row[]).map(toEvent);
    if (options.sensors.length === 0) return [];
    const sensors = [...new Set(options.sensors)].slice(0, 100);
    const statement = this.#db.prepare(
      `SELECT * FROM sensor_events WHERE site_id = ? AND sensor_id IN (${sensors.map(() => '?').join(', ')}) AND time >= ? AND time < ? ORDER BY time, rowid LIMIT ?`,
    );
    return (statement.all(siteId, ...sensors, from.getTime(), to.getTime(), limit) as Row[]).map(toEvent);
  }

  async deleteBefore(before: Date): Promise<void> {
    this.#deleteBefore.run(before.getTime());
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
