import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './database.js';

describe('SQLite statement cache', () => {
  const open: Database.Database[] = [];
  const fresh = () => {
    const db = new Database(':memory:');
    open.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
  });

  it('hands out one prepared statement per SQL text and drops the least recently used', () => {
    const cached = withStatementCache(fresh(), 2);
    const a = cached.prepare('select 1 as a');
    expect(cached.prepare('select 1 as a')).toBe(a);
    const b = cached.prepare('select 2 as b');
    cached.prepare('select 1 as a'); // a is now the most recently used
    cached.prepare('select 3 as c'); // evicts b
    expect(cached.prepare('select 1 as a')).toBe(a);
    expect(cached.prepare('select 2 as b')).not.toBe(b);
  });

  it('gives right answers through Kysely across inserts, a schema change and a rollback', async () => {
    const db = new Kysely<{ t: { id: number; name: string; extra?: string | null } }>({
      dialect: new SqliteDialect({ database: withStatementCache(fresh()) }),
    });
    await sql`create table t (id integer primary key, name text not null)`.execute(db);
    for (let id = 1; id <= 3; id++)
      await db
        .insertInto('t')
        .values({ id, name: `n${id}` })
        .execute();
    const all = () => db.selectFrom('t').selectAll().orderBy('id').execute();
    expect(await all()).toEqual([
      { id: 1, name: 'n1' },
      { id: 2, name: 'n2' },
      { id: 3, name: 'n3' },
    ]);
    // A cached `select *` sees a column added after it was prepared (SQLite re-prepares on a schema change).
    await sql`alter table t add column extra text`.execute(db);
    expect((await all())[0]).toEqual({ id: 1, name: 'n1', extra: null });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 4, name: 'n4' }).execute();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await all()).toHaveLength(3);
    // The same statement with other parameters, and a duplicate key refused as without the cache.
    await expect(db.insertInto('t').values({ id: 1, name: 'again' }).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto('t').values({ id: 5, name: 'n5' }).execute();
    expect((await all()).map((r) => r.id)).toEqual([1, 2, 3, 5]);
    await db.destroy();
  });
});
