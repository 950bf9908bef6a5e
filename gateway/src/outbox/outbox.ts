import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import Database from 'better-sqlite3';

export interface OutboxEntry {
  seq: number;
  item: OutboxItem;
}

/**
 * The gateway's durable outbox: every event and alarm decision is written here before anything
 * is sent, and removed only when the server has acknowledged it, so a restart or a lost uplink
 * loses nothing (at-least-once; the server de-duplicates by id). See docs/adr/0001.
 */
export class Outbox {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, number]>;
  readonly #peek: Database.Statement<[number]>;
  readonly #remove: Database.Statement<[number, number]>;
  readonly #depth: Database.Statement<[]>;
  readonly #oldest: Database.Statement<[]>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    // WAL + NORMAL survives a process crash (kill -9) without an fsync per message.
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, created_at INTEGER NOT NULL)',
    );
    this.#insert = this.#db.prepare('INSERT INTO outbox (item, created_at) VALUES (?, ?)');
    this.#peek = this.#db.prepare('SELECT seq, item FROM outbox ORDER BY seq LIMIT ?');
    this.#remove = this.#db.prepare('DELETE FROM outbox WHERE seq >= ? AND seq <= ?');
    this.#depth = this.#db.prepare('SELECT COUNT(*) AS n FROM outbox');
    this.#oldest = this.#db.prepare('SELECT created_at AS t FROM outbox ORDER BY seq LIMIT 1');
  }

  enqueue(item: OutboxItem): number {
    return Number(this.#insert.run(JSON.stringify(item), Date.now()).lastInsertRowid);
  }

  /** The oldest entries, in order. */
  peek(limit: number): OutboxEntry[] {
    return (this.#peek.all(limit) as { seq: number; item: string }[]).map((row) => ({
      seq: row.seq,
      item: JSON.parse(row.item) as OutboxItem,
    }));
  }

  /** Removes a delivered range (inclusive). */
  remove(fromSeq: number, toSeq: number): void {
    this.#remove.run(fromSeq, toSeq);
  }

  depth(): number {
    return (this.#depth.get() as { n: number }).n;
  }

  /** Seconds the oldest item has waited, 0 when the outbox is empty. */
  oldestAgeSeconds(now = Date.now()): number {
    const row = this.#oldest.get() as { t: number } | undefined;
    return row === undefined ? 0 : Math.max(0, (now - row.t) / 1000);
  }

  close(): void {
    this.#db.close();
  }
}
