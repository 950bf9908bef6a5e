/**
 * A PostgreSQL restart ends every connection, also those checked out of the pool in the middle of
 * a transaction. That must fail the transaction (the gateway re-sends its batch), not the
 * process: found when PostgreSQL was restarted under two server instances
 * (e2e/test/two-instances.test.ts), where one instance died of an unhandled 'error' event.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRelationalStore } from '../src/stores/relational/database.js';
import { engines } from './support/databases.js';

const postgres = engines.find((e) => e.name === 'postgres');

describe.skipIf(postgres === undefined)('PostgreSQL connection loss (postgres)', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await postgres?.reset();
  });

  it('a connection ended in the middle of a transaction fails that transaction, not the process; the next query reconnects', async () => {
    const { databaseUrl } = (await postgres?.store()) ?? { databaseUrl: '' };
    const db = connectRelationalStore(databaseUrl);
    const admin = connectRelationalStore(databaseUrl);
    closers.push(
      () => db.destroy(),
      () => admin.destroy(),
    );
    let backend: (pid: number) => void = () => {};
    const pid = new Promise<number>((resolve) => {
      backend = resolve;
    });
    const transaction = db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      backend(rows[0]?.pid ?? 0);
      await sql`select pg_sleep(10)`.execute(trx);
    });
    // What a restart does to each connection: the server ends it.
    await sql`select pg_terminate_backend(${await pid})`.execute(admin);
    await expect(transaction).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200)); // the connection's 'error' and 'end' events have fired
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
