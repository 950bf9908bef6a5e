#!/usr/bin/env node
/**
 * Backup and restore of the server's relational store (sites, gateway tokens, alarms and their
 * audit trail, people and sessions). See deploy/README.md, "Backup and restore".
 *
 *   node deploy/scripts/backup-server.mjs backup  --database-url URL|FILE --out FILE
 *   node deploy/scripts/backup-server.mjs restore --database-url URL|FILE --from FILE
 *
 * PostgreSQL (postgres://…): pg_dump's custom format, restored by pg_restore in one transaction
 * (--clean --if-exists: the tables are replaced, nothing else in the database is touched).
 * pg_dump and pg_restore must be at least the server's major version.
 * SQLite (a file path): SQLite's online backup API through better-sqlite3, safe while the server
 * runs and writes; restore with the server stopped.
 * Both check the result: the backup is read back and its tables counted (printed as JSON).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';

class UsageError extends Error {}
const isPostgres = (target) => /^postgres(ql)?:\/\//i.test(target);

const usage = `usage: backup-server.mjs backup  --database-url URL|FILE --out FILE
       backup-server.mjs restore --database-url URL|FILE --from FILE`;

/** Rows per table of a SQLite file, which also proves it opens and passes the integrity check. */
function sqliteSummary(path) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`${path}: integrity check failed: ${check}`);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT count(*) AS n FROM "${name}"`).get().n]));
  } finally {
    db.close();
  }
}

async function postgresSummary(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    const counts = {};
    for (const { tablename } of rows)
      counts[tablename] = Number((await client.query(`SELECT count(*) AS n FROM "${tablename}"`)).rows[0].n);
    return counts;
  } finally {
    await client.end();
  }
}

function run(program, args) {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new UsageError(`${program} is not installed (Debian: apt-get install postgresql-client)`);
    throw new Error(`${program} failed: ${error.stderr || error.message}`);
  }
}

/** Password-free URL for messages. */
const redact = (target) => (isPostgres(target) ? target.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') : target);

async function backup(target, out) {
  if (existsSync(out)) throw new UsageError(`${out} exists: choose a new file, a backup never overwrites one`);
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  if (isPostgres(target)) {
    run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${partial}`, target]);
    run('pg_restore', ['--list', partial]); // reads the whole table of contents back
  } else {
    if (!existsSync(target)) throw new UsageError(`${target}: no such SQLite database`);
    const db = new Database(target, { fileMustExist: true });
    try {
      await db.backup(partial);
    } finally {
      db.close();
    }
    sqliteSummary(partial);
  }
  renameSync(partial, out);
  return { backup: out, bytes: statSync(out).size, from: redact(target) };
}

async function restore(target, from) {
  if (!existsSync(from)) throw new UsageError(`${from}: no such backup`);
  if (isPostgres(target)) {
    run('pg_restore', [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${target}`,
      from,
    ]);
    return { restored: redact(target), from, tables: await postgresSummary(target) };
  }
  sqliteSummary(from);
  const source = new Database(from, { readonly: true, fileMustExist: true });
  try {
    // The backup API replaces every page of the target, through SQLite, so its WAL stays consistent.
    await source.backup(target);
  } finally {
    source.close();
  }
  return { restored: target, from, tables: sqliteSummary(target) };
}

async function main() {
  const { values, positionals } = parseArgs({
    options: { 'database-url': { type: 'string' }, out: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) return void process.stdout.write(`${usage}\n`);
  const target = values['database-url'] ?? process.env.DATABASE_URL;
  if (!target) throw new UsageError(`--database-url (or DATABASE_URL) is required\n${usage}`);
  const [command] = positionals;
  let result;
  if (command === 'backup') {
    if (!values.out) throw new UsageError(`backup needs --out FILE\n${usage}`);
    result = await backup(target, values.out);
    result.tables = isPostgres(target) ? await postgresSummary(target) : sqliteSummary(values.out);
  } else if (command === 'restore') {
    if (!values.from) throw new UsageError(`restore needs --from FILE\n${usage}`);
    result = await restore(target, values.from);
  } else throw new UsageError(usage);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`backup-server: ${error instanceof UsageError ? error.message : error.stack}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
