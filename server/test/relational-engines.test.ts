import { afterEach, describe, expect, it } from 'vitest';
import { connectRelationalStore, engineOf, openRelationalStore } from '../src/stores/relational/database.js';
import { decision, Harness } from './alarm-harness.js';
import { engines } from './support/databases.js';

describe.each(engines)('relational store ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  it('opens the engine its URL names, migrates it, and a second open finds nothing to do', async () => {
    const { databaseUrl } = await engine.store();
    const db = await openRelationalStore(databaseUrl);
    try {
      expect(engineOf(db)).toBe(engine.name);
      const inserted = await db.insertInto('sites').values({ id: 's', config: '{}', updated_at: 'now' }).returning('id').execute();
      expect(inserted).toEqual([{ id: 's' }]);
    } finally {
      await db.destroy();
    }
    if (databaseUrl !== ':memory:') {
      const again = await openRelationalStore(databaseUrl);
      expect(await again.selectFrom('sites').select('id').execute()).toEqual([{ id: 's' }]);
      await again.destroy();
    }
    const bare = connectRelationalStore(':memory:');
    expect(engineOf(bare)).toBe('sqlite');
    await bare.destroy();
  });

  it('keeps the alarm change sequence unique, numeric and gap-free under concurrent writes', async () => {
    const { server } = await h.server();
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const raised = await Promise.all(ids.map((id) => server.alarms.raise(decision(id), 'demo')));
    expect(raised.every((a) => a !== null)).toBe(true);
    // A re-delivered decision changes nothing, also when it races the first delivery.
    expect(await Promise.all(ids.slice(0, 5).map((id) => server.alarms.raise(decision(id), 'demo')))).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    const acks = await Promise.all(ids.map((id, i) => server.alarms.acknowledge({ alarmId: id, by: i % 2 ? 'Kari' : 'Ola' })));
    expect(acks.every((r) => r.ok)).toBe(true);

    const { seq, alarms } = await server.alarms.changesSince(0);
    expect(seq).toBe(40);
    expect(typeof alarms[0]?.seq).toBe('number');
    expect(alarms.map((a) => a.seq)).toEqual([...alarms.map((a) => a.seq)].sort((x, y) => x - y));
    expect(new Set(alarms.map((a) => a.seq)).size).toBe(20);
    const audit = await Promise.all(ids.map(async (id) => (await server.alarms.get(id))?.audit.map((a) => a.seq) ?? []));
    expect(audit.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await server.alarms.changesSince(39)).alarms).toHaveLength(1);

    // A tablet away for a long time pages through the changes: nothing is skipped, nothing repeats.
    const seen: string[] = [];
    let since = 0;
    for (let page = 0; page < 10; page++) {
      const batch = await server.alarms.changesSince(since, 7);
      seen.push(...batch.alarms.map((a) => a.id));
      expect(batch.seq).toBeGreaterThanOrEqual(since);
      since = batch.seq;
      if (!batch.more) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect(since).toBe(40);
  });
});
