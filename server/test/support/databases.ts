/**
 * The relational engines the server suites run on: SQLite always, PostgreSQL when it is reachable
 * (`NATTEVAKT_TEST_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/test, the maintenance
 * connection). Every app gets a fresh database, dropped again by `reset()`; apps given the same
 * `dataDir` share one, as they share one SQLite file. Without PostgreSQL the suites fail when
 * `CI=true`, and otherwise run on SQLite only, with a loud warning.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { RelationalEngine } from '../../src/stores/relational/database.js';

export interface TestEngine {
  name: RelationalEngine;
  /**
   * Store options for `buildApp`: without `dataDir` a fresh empty database (and in-memory time
   * series); with one, the database every app given that directory shares. `databaseUrl` is also
   * what `connectRelationalStore` takes.
   */
  store(dataDir?: string): Promise<{ dataDir: string; databaseUrl: string }>;
  /** Drops the databases made since the last reset (call after the apps are closed). */
  reset(): Promise<void>;
}

export const sqlite: TestEngine = {
  name: 'sqlite',
  store: async (dataDir) => ({
    dataDir: dataDir ?? ':memory:',
    databaseUrl: dataDir === undefined ? ':memory:' : join(dataDir, 'nattevakt.db'),
  }),
  reset: async () => {},
};

const maintenanceUrl = process.env.NATTEVAKT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function maintenance<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function postgresEngine(): TestEngine {
  const made: string[] = [];
  const byDir = new Map<string, string>();
  const fresh = async () => {
    const name = `nattevakt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await maintenance((c) => c.query(`create database ${name}`));
    made.push(name);
    const url = new URL(maintenanceUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    name: 'postgres',
    async store(dataDir) {
      if (dataDir === undefined) return { dataDir: ':memory:', databaseUrl: await fresh() };
      let databaseUrl = byDir.get(dataDir);
      if (databaseUrl === undefined) {
        databaseUrl = await fresh();
        byDir.set(dataDir, databaseUrl);
      }
      return { dataDir, databaseUrl };
    },
    async reset() {
      byDir.clear();
      const names = made.splice(0);
      if (names.length > 0)
        await maintenance(async (c) => {
          for (const name of names) await c.query(`drop database if exists ${name} with (force)`);
        });
    },
  };
}

async function postgresReachable(): Promise<Error | null> {
  try {
    await maintenance((c) => c.query('select 1'));
    return null;
  } catch (error) {
    return error as Error;
  }
}

const unreachable = await postgresReachable();
if (unreachable !== null) {
  const message = `PostgreSQL is not reachable at ${maintenanceUrl} (${unreachable.message})`;
  if (process.env.CI === 'true') throw new Error(`${message}: the server suites must run on PostgreSQL in CI`);
  console.warn(`\n*** ${message}: SKIPPING the PostgreSQL variant of the server suites (SQLite only). ***\n`);
}

/** The engines to run each server suite on: `describe.each(engines)('… ($name)', (engine) => …)`. */
export const engines: TestEngine[] = unreachable === null ? [sqlite, postgresEngine()] : [sqlite];
