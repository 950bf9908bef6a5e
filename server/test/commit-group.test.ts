import { afterEach, describe, expect, it } from 'vitest';
import { CommitGroup } from '../src/stores/relational/commit-group.js';
import { openRelationalStore, type RelationalDb } from '../src/stores/relational/database.js';
import { decision, Harness } from './alarm-harness.js';
import { engines } from './support/databases.js';

describe.each(engines)('group commit ($name)', (engine) => {
  const opened: RelationalDb[] = [];
  const h = new Harness(engine);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.destroy()));
    await h.close();
    await engine.reset();
  });

  async function open(): Promise<RelationalDb> {
    const db = await openRelationalStore((await engine.store()).databaseUrl);
    opened.push(db);
    return db;
  }
  const site = (id: string) => ({ id, config: '{}', updated_at: 'now' });

  it('commits the work of one turn in one transaction, in order, and gives each caller its own result', async () => {
    const db = await open();
    const commits: number[] = [];
    const group = new CommitGroup(db, { committed: (n) => commits.push(n) });
    const order: string[] = [];
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((id) =>
        group.run(async (trx) => {
          order.push(id);
          // Each piece sees what the pieces before it wrote, as if they had run one after the other.
          const before = await trx.selectFrom('sites').select('id').execute();
          await trx.insertInto('sites').values(site(id)).execute();
          return `${id}:${before.length}`;
        }),
      ),
    );
    expect(results).toEqual(['a:0', 'b:1', 'c:2', 'd:3']);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(commits).toEqual([4]);
    // Work handed in a later turn is its own transaction.
    expect(await group.run(async (trx) => (await trx.insertInto('sites').values(site('e')).returning('id').execute())[0]?.id)).toBe('e');
    expect(commits).toEqual([4, 1]);
    expect((await db.selectFrom('sites').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('fails only the piece that failed: the others are committed, nothing of the failed piece is', async () => {
    const db = await open();
    const commits: number[] = [];
    const group = new CommitGroup(db, { committed: (n) => commits.push(n) });
    const outcomes = await Promise.allSettled([
      group.run((trx) => trx.insertInto('sites').values(site('ok-1')).execute()),
      group.run(async (trx) => {
        await trx.insertInto('sites').values(site('half-done')).execute();
        // The same primary key twice: the database refuses it.
        await trx.insertInto('sites').values(site('ok-1')).execute();
      }),
      group.run((trx) => trx.insertInto('sites').values(site('ok-2')).execute()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await db.selectFrom('sites').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['ok-1', 'ok-2']);
    // The shared transaction was rolled back, then each piece ran alone: two commits of one.
    expect(commits).toEqual([1, 1]);
  });

  it("commits a burst of nurses' commands together, each answered and told once, with a gap-free sequence", async () => {
    const { server } = await h.server();
    const ids = Array.from({ length: 30 }, (_, i) => `g${i}`);
    await Promise.all(ids.map((id) => server.alarms.raise(decision(id), 'demo')));
    const told: string[] = [];
    const off = server.alarms.onChange((alarm) => told.push(`${alarm.id}:${alarm.status}`));
    const results = await Promise.all([
      ...ids.map((id) => server.alarms.resolve({ alarmId: id, by: 'Kari', outcome: 'assisted' })),
      // Resolved twice in the same turn: the second finds it resolved, as it would one after the other.
      server.alarms.resolve({ alarmId: 'g0', by: 'Ola', outcome: 'assisted' }),
    ]);
    off();
    expect(results.slice(0, 30).every((r) => r.ok)).toBe(true);
    expect(results[30]).toEqual({ ok: false, error: 'already-resolved' });
    expect(told.sort()).toEqual(ids.map((id) => `${id}:resolved`).sort());
    const { seq, alarms } = await server.alarms.changesSince(0);
    expect(seq).toBe(60);
    expect(alarms.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => 31 + i));
    const metrics = await (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    // Fewer commits than operations: the 30 raises and 31 resolves went in a handful of transactions.
    const commits = Number(/nattevakt_server_alarm_operations_per_commit_count (\d+)/.exec(metrics)?.[1]);
    const operations = Number(/nattevakt_server_alarm_operations_per_commit_sum (\d+)/.exec(metrics)?.[1]);
    expect(operations).toBe(61);
    expect(commits).toBeLessThan(10);
  });
});
