import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import Database from 'better-sqlite3';

export interface SpooledEvent {
  seq: number;
  event: SensorEvent;
}

/**
 * A durable outbox in front of a remote time-series engine: one small SQLite file. Events are
 * appended in `append()` (one transaction, fsync'd by WAL on commit) and removed by `ack()` only
 * after the engine confirmed the write, so they survive a crash or a restart and are sent again.
 *
 * It also remembers the ids it accepted (`seen`) for `seenRetentionMs`, so `append()` can answer
 * "how many were new" like the embedded store; re-sending an already-delivered event after that
 * window is harmless because the engine point is keyed by series + timestamp (idempotent).
 * Events an engine rejects as malformed (HTTP 400/422) go to `dead_letter`, never silently lost.
 */
export class DurableSpool {
  readonly #db: Database.Database;
  readonly #seen: Database.Statement;
  readonly #enqueue: Database.Statement;
  readonly #peek: Database.Statement;
  readonly #ack: Database.Statement;
  readonly #depth: Database.Statement;
  readonly #pending: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #dead: Database.Statement;
  readonly #pruneDead: Database.Statement;
  #closed = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // FULL: an acknowledged append must survive power loss, not only a process crash.
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS spool (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, site_id TEXT NOT NULL, time INTEGER NOT NULL, event TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS spool_site_time ON spool (site_id, time);
      CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS seen_at ON seen (at);
      CREATE TABLE IF NOT EXISTS dead_letter (id TEXT PRIMARY KEY, at INTEGER NOT NULL, reason TEXT NOT NULL, event TEXT NOT NULL);`);
    this.#seen = this.#db.prepare('INSERT OR IGNORE INTO seen (id, at) VALUES (?, ?)');
    this.#enqueue = this.#db.prepare('INSERT OR IGNORE INTO spool (id, site_id, time, event) VALUES (?, ?, ?, ?)');
    this.#peek = this.#db.prepare('SELECT seq, event FROM spool ORDER BY seq LIMIT ?');
    this.#ack = this.#db.prepare('DELETE FROM spool WHERE seq = ?');
    this.#depth = this.#db.prepare('SELECT count(*) AS n FROM spool').pluck();
    this.#pending = this.#db
      .prepare('SELECT event FROM spool WHERE site_id = ? AND time >= ? AND time < ? ORDER BY time, seq LIMIT ?')
      .pluck();
    this.#prune = this.#db.prepare('DELETE FROM seen WHERE at < ?');
    this.#dead = this.#db.prepare('INSERT OR REPLACE INTO dead_letter (id, at, reason, event) VALUES (?, ?, ?, ?)');
    this.#pruneDead = this.#db.prepare('DELETE FROM dead_letter WHERE at < ?');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Appends the events not seen before; returns how many were new. */
  append(events: SensorEvent[], now = Date.now()): number {
    return this.#db.transaction((batch: SensorEvent[]) => {
      let added = 0;
      for (const e of batch) {
        if (this.#seen.run(e.id, now).changes === 0) continue;
        this.#enqueue.run(e.id, e.siteId, Date.parse(e.time), JSON.stringify(e));
        added++;
      }
      return added;
    })(events);
  }

  /** The oldest spooled events, in append order. */
  peek(limit: number): SpooledEvent[] {
    return (this.#peek.all(limit) as { seq: number; event: string }[]).map((r) => ({
      seq: r.seq,
      event: JSON.parse(r.event) as SensorEvent,
    }));
  }

  /** Removes events the engine has confirmed. */
  ack(seqs: number[]): void {
    this.#db.transaction((all: number[]) => {
      for (const seq of all) this.#ack.run(seq);
    })(seqs);
  }

  /** Moves an event the engine will never accept out of the way, keeping it for inspection. */
  deadLetter(item: SpooledEvent, reason: string, now = Date.now()): void {
    this.#db.transaction(() => {
      this.#dead.run(item.event.id, now, reason.slice(0, 1000), JSON.stringify(item.event));
      this.#ack.run(item.seq);
    })();
  }

  /** Events waiting to be sent: a gauge (`nattevakt_timeseries_spool_depth`-style). */
  depth(): number {
    return this.#depth.get() as number;
  }

  /** Spooled (not yet delivered) events of a site in [from, to), so reads see their own writes. */
  pending(siteId: string, fromMs: number, toMs: number, limit: number): SensorEvent[] {
    return (this.#pending.all(siteId, fromMs, toMs, limit) as string[]).map((e) => JSON.parse(e) as SensorEvent);
  }

  /** Forgets accepted ids older than `before` (ms since epoch). */
  pruneSeen(before: number): number {
    return this.#prune.run(before).changes;
  }

  /** Deletes dead letters (raw events too) dead-lettered before `before` (ms since epoch): retention. */
  pruneDeadLetters(before: number): number {
    return this.#pruneDead.run(before).changes;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
