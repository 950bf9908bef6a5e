import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from './migrations.js';
import type { RelationalSchema } from './schema.js';

export type RelationalDb = Kysely<RelationalSchema>;

/**
 * Opens the relational store: SQLite in a file (the embedded default) through Kysely, the query
 * layer that PostgreSQL will share (issue 5), and migrates it.
 */
export async function openRelationalStore(path: string): Promise<RelationalDb> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<RelationalSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db as Kysely<unknown>);
  return db;
}
