import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import type { RelationalSchema } from './schema.js';

export type RelationalDb = Kysely<RelationalSchema>;

/** The two engines behind the one query layer. */
export type RelationalEngine = 'sqlite' | 'postgres';

/** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite file path (or ':memory:'). */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/** Which engine a database (or a transaction on it) runs on. */
export function engineOf(db: Kysely<unknown> | Kysely<RelationalSchema>): RelationalEngine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Connects to the relational store without migrating it: PostgreSQL for a `postgres://` URL (the
 * production engine), else SQLite in a file (the embedded default) or in memory.
 */
export function connectRelationalStore<T = RelationalSchema>(target: string): Kysely<T> {
  if (isPostgresUrl(target)) {
    const pool = new pg.Pool({ connectionString: target, max: 10 });
    // An idle connection that dies (database restart) is dropped by the pool; without a listener
    // the pool's 'error' event would end the process. The next query reconnects or fails visibly.
    pool.on('error', () => {});
    // A client checked out of the pool (in a query or transaction) when the database restarts
    // emits 'error' too, and the pool listens only on idle ones: without this, a PostgreSQL
    // restart ends the process. The query in flight still fails, and the pool drops the client.
    pool.on('connect', (client) => client.on('error', () => {}));
    return new Kysely<T>({ dialect: new PostgresDialect({ pool }) });
  }
  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  const sqlite = new Database(target);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<T>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

/** Prepared statements kept for reuse; the least recently used goes when there are more. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite driver prepares every query it sends afresh, and the server sends the same few
 * hundred statements over and over (an alarm's insert, a receipt batch's upsert): preparing cost
 * more CPU than running them. Statements are only ever run to completion (`all`/`run`; nothing
 * here streams), so one prepared statement can serve every caller in turn.
 */
export function withStatementCache(db: Database.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement !== undefined) {
        // Most recently used last, so the first key is the one to drop.
        cache.delete(text);
      } else {
        statement = db.prepare(text);
        if (cache.size >= size) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

/** Opens the relational store (see `connectRelationalStore`) and migrates it to the latest schema. */
export async function openRelationalStore(target: string): Promise<RelationalDb> {
  const db = connectRelationalStore(target);
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/**
 * Serialises writers of the alarm change sequence until the transaction ends, so sequence numbers
 * become visible in order: a tablet that resyncs "changes after seq N" cannot miss a smaller seq
 * committed later. SQLite already runs one write transaction at a time; PostgreSQL takes a
 * transaction-scoped advisory lock.
 */
export async function lockAlarmSequence(trx: Kysely<RelationalSchema>): Promise<void> {
  if (engineOf(trx) === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(ALARM_SEQUENCE_LOCK)})`.execute(trx);
}

/** Advisory lock key of the alarm change sequence: any constant nothing else in the database locks on. */
const ALARM_SEQUENCE_LOCK = 0x6e76_6131;
