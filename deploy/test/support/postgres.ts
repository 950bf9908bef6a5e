/**
 * Real PostgreSQL for the deploy tests (127.0.0.1:5432, trust auth, as the server suites use it):
 * a fresh database per test, dropped again afterwards. Without PostgreSQL the tests that need it are
 * skipped with a loud warning, and fail when CI=true.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const maintenanceUrl = process.env.NATTEVAKT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function maintenance<T>(work: (client: pg.Client) => Promise<T>, url = maintenanceUrl): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function reachable(): Promise<boolean> {
  try {
    await maintenance((c) => c.query('select 1'));
    return true;
  } catch (error) {
    const message = `PostgreSQL is not reachable at ${maintenanceUrl} (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${message}: the deploy tests need it in CI`);
    console.warn(`\n*** ${message}: SKIPPING the PostgreSQL deploy tests ***\n`);
    return false;
  }
}

export const hasPostgres = await reachable();

/** A new empty database; returns its URL and a function that drops it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `nattevakt_deploy_${process.pid}_${randomBytes(4).toString('hex')}`;
  await maintenance((c) => c.query(`create database ${name}`));
  const url = new URL(maintenanceUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => maintenance((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
