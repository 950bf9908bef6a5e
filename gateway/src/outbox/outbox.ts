import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import Database from 'better-sqlite3';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface OutboxOptions {
  /**
   * Run WAL checkpoints on a worker thread instead of inside a commit on the event loop (default:
   * on, for a file; the worker needs the built `checkpoint-worker.js` next to this module, so from
   * TypeScript sources SQLite's own checkpoints stay).
   */
  checkpointWorker?: boolean;
  /** Told when the worker is gone and SQLite's own checkpoints are back. */
  onCheckpointWorkerFailed?: (error: Error) => void;
}

export interface OutboxEntry {
  seq: number;
  item: OutboxItem;
}

/**
 * The gateway's durable outbox: every event and alarm decision is written here before anything
 * is sent, and removed only when the server has acknowledged it, so a restart or a lost uplink
 * loses nothing (at-least-once; the server de-duplicates by id). See docs/adr/0001.
 *
 * Group commit: `append` adds to an open transaction that commits once the current turn of the
 * event loop is done (setImmediate), so a burst of messages is one commit instead of one each
 * (a commit writes at least a whole WAL page: ~60 µs alone against ~9 µs per row in a batch).
 * Whatever must wait until an item is durable (the MQTT PUBACK, the local alarm publish) waits
 * with `afterCommit`.
 */
export class Outbox {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, number]>;
  readonly #peek: Database.Statement<[number, number]>;
  readonly #remove: Database.Statement<[number, number]>;
  readonly #count: Database.Statement<[]>;
  readonly #oldest: Database.Statement<[]>;
  readonly #begin: Database.Statement<[]>;
  readonly #commit: Database.Statement<[]>;
  readonly #rollback: Database.Statement<[]>;
  /** Waiting for the open transaction to commit. */
  #waiting: ((error?: Error) => void)[] = [];
  #commitScheduled: NodeJS.Immediate | null = null;
  /** Rows in the table, kept as rows come and go: COUNT(*) walks the whole table, and /metrics asks often. */
  #depth: number;

  readonly #checkpointer: WalCheckpointer | null = null;

  constructor(path: string, options: OutboxOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    // WAL + NORMAL survives a process crash (kill -9) without an fsync per message.
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    const worker = new URL('./checkpoint-worker.js', import.meta.url);
    if (path !== ':memory:' && (options.checkpointWorker ?? true) && existsSync(fileURLToPath(worker))) {
      this.#db.pragma('wal_autocheckpoint = 0');
      this.#checkpointer = new WalCheckpointer(path, (error) => {
        // Never let the WAL grow without bound: SQLite's own checkpoints again.
        if (this.#db.open) this.#db.pragma('wal_autocheckpoint = 1000');
        options.onCheckpointWorkerFailed?.(error);
      });
    }
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, created_at INTEGER NOT NULL)',
    );
    this.#insert = this.#db.prepare('INSERT INTO outbox (item, created_at) VALUES (?, ?)');
    this.#peek = this.#db.prepare('SELECT seq, item FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#remove = this.#db.prepare('DELETE FROM outbox WHERE seq >= ? AND seq <= ?');
    this.#count = this.#db.prepare('SELECT COUNT(*) AS n FROM outbox');
    this.#oldest = this.#db.prepare('SELECT created_at AS t FROM outbox ORDER BY seq LIMIT 1');
    this.#begin = this.#db.prepare('BEGIN');
    this.#commit = this.#db.prepare('COMMIT');
    this.#rollback = this.#db.prepare('ROLLBACK');
    this.#depth = (this.#count.get() as { n: number }).n;
  }

  /** Writes an item and commits at once (with anything appended before it). */
  enqueue(item: OutboxItem): number {
    const seq = this.append(item);
    this.#commitNow(true);
    return seq;
  }

  /** Commits the open batch now (instead of at the end of the turn) and tells who waited. */
  commit(): void {
    this.#commitNow(false);
  }

  /** Writes an item in the open batch; durable once the batch commits (see `afterCommit`). */
  append(item: OutboxItem): number {
    if (!this.#db.inTransaction) this.#begin.run();
    const seq = Number(this.#insert.run(JSON.stringify(item), Date.now()).lastInsertRowid);
    this.#depth++;
    this.#commitScheduled ??= setImmediate(() => {
      this.#commitScheduled = null;
      this.#commitNow(false);
    });
    return seq;
  }

  /**
   * Calls back once everything appended so far is durable: after the open batch commits, or at
   * once when nothing is open. With an error when the batch could not be committed (rolled back).
   */
  afterCommit(callback: (error?: Error) => void): void {
    if (this.#db.inTransaction) this.#waiting.push(callback);
    else callback();
  }

  /**
   * The oldest durable entries after `afterSeq` (all of them by default), in order (an open batch
   * is committed first: nothing leaves before it is on disk).
   */
  peek(limit: number, afterSeq = 0): OutboxEntry[] {
    return this.peekJson(limit, afterSeq).map((row) => ({ seq: row.seq, item: JSON.parse(row.json) as OutboxItem }));
  }

  /** As `peek`, each item as the JSON text it is stored as (nothing parsed). */
  peekJson(limit: number, afterSeq = 0): { seq: number; json: string }[] {
    this.#commitNow(true);
    return (this.#peek.all(afterSeq, limit) as { seq: number; item: string }[]).map((row) => ({ seq: row.seq, json: row.item }));
  }

  /** Removes a delivered range (inclusive). */
  remove(fromSeq: number, toSeq: number): void {
    this.#depth -= this.#remove.run(fromSeq, toSeq).changes;
  }

  depth(): number {
    return this.#depth;
  }

  /** Seconds the oldest item has waited, 0 when the outbox is empty. */
  oldestAgeSeconds(now = Date.now()): number {
    const row = this.#oldest.get() as { t: number } | undefined;
    return row === undefined ? 0 : Math.max(0, (now - row.t) / 1000);
  }

  /** Whether WAL checkpoints run on a worker thread. */
  get checkpointsInWorker(): boolean {
    return this.#checkpointer !== null;
  }

  /** Commits what is open and closes; the checkpoint worker (if any) closes its connection after. */
  close(): Promise<void> {
    this.#commitNow(false);
    const stopped = this.#checkpointer?.stop() ?? Promise.resolve();
    this.#db.close();
    return stopped;
  }

  /** Commits the open batch and tells who waited; `later` defers them to a microtask (no re-entry into a caller mid-peek). */
  #commitNow(later: boolean): void {
    if (this.#commitScheduled !== null) {
      clearImmediate(this.#commitScheduled);
      this.#commitScheduled = null;
    }
    if (!this.#db.inTransaction) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    let failure: Error | undefined;
    try {
      this.#commit.run();
    } catch (error) {
      failure = error as Error;
      if (this.#db.inTransaction) this.#rollback.run();
      // Whatever the batch did is undone: count again.
      this.#depth = (this.#count.get() as { n: number }).n;
    }
    if (waiting.length === 0) return;
    const tell = () => {
      for (const callback of waiting) callback(failure);
    };
    if (later) queueMicrotask(tell);
    else tell();
  }
}
