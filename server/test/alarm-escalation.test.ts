import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION, escalationOptions } from '../src/alarms/escalation.js';
import { buildApp } from '../src/app.js';
import { connectRelationalStore } from '../src/stores/relational/database.js';
import { migrations } from '../src/stores/relational/migrations.js';
import { decision, eventually, Harness, ManualClock, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';

const auditOf = async (
  server: { alarms: { get(id: string): Promise<{ audit: { action: string; actor: string }[] } | null> } },
  id: string,
) => (await server.alarms.get(id))?.audit.map((a) => `${a.action}:${a.actor}`) ?? [];

describe.each(engines)('escalation when nobody acknowledges ($name)', (engine) => {
  const h = new Harness(engine);
  const dirs: string[] = [];
  afterEach(async () => {
    await h.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-escalation-'));
    dirs.push(dir);
    return dir;
  };

  it('alerts every nurse again after the priority delay, then the nurse in charge, then stops', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const kari = await h.staff(url);
    await (await h.gateway(url)).raise(decision('e1', { priority: 'high' }));
    await eventually('raised', () => kari.alarms.length === 1);

    clock.advance(59_999);
    expect(await server.escalations.runDue()).toBe(0);

    clock.advance(1);
    expect(await server.escalations.runDue()).toBe(1);
    const level1 = await eventually('level 1', () => kari.alarms.find((a) => a.escalationLevel === 1));
    expect(level1).toMatchObject({
      status: 'active',
      escalatedAt: '2026-11-25T02:01:00.000Z',
      nextEscalationAt: '2026-11-25T02:02:00.000Z',
    });
    expect(level1.seq).toBeGreaterThan(kari.alarms[0]?.seq ?? Number.POSITIVE_INFINITY);

    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(1);
    const level2 = await eventually('level 2', () => kari.alarms.find((a) => a.escalationLevel === 2));
    expect(level2).toMatchObject({ status: 'active', escalatedAt: '2026-11-25T02:02:00.000Z', nextEscalationAt: null });

    clock.advance(3_600_000);
    expect(await server.escalations.runDue()).toBe(0);
    expect(await auditOf(server, 'e1')).toEqual(['raised:gateway:demo', 'escalated:system', 'escalated:system']);
    const audit = (await server.alarms.get('e1'))?.audit ?? [];
    expect(audit.slice(1).map((a) => a.detail)).toEqual([
      { level: 1, notified: 'all-nurses' },
      { level: 2, notified: 'nurse-in-charge' },
    ]);

    // Acknowledging after escalation keeps the level for the record.
    const acked = await kari.socket.emitWithAck('acknowledge', { alarmId: 'e1', by: 'Kari' });
    expect(acked).toMatchObject({ ok: true, alarm: { escalationLevel: 2, nextEscalationAt: null } });
  });

  it('waits per priority: medium 3 min, low 10 min, technical 30 min by default', async () => {
    expect(DEFAULT_ESCALATION.afterMs).toEqual({ high: 60_000, medium: 180_000, low: 600_000, technical: 1_800_000 });
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const gateway = await h.gateway(url);
    await gateway.raise(decision('m', { priority: 'medium', rule: 'out-of-bed-too-long' }));
    await gateway.raise(decision('l', { priority: 'low' }));
    await gateway.raise(decision('t', { priority: 'technical', rule: 'low-battery' }));
    const levels = async () => (await server.alarms.open()).alarms.map((a) => `${a.id}${a.escalationLevel}`).sort();
    for (const [after, expected] of [
      [179_999, ['l0', 'm0', 't0']],
      [180_000, ['l0', 'm1', 't0']],
      [600_000, ['l1', 'm2', 't0']],
      [1_800_000, ['l2', 'm2', 't1']],
    ] as const) {
      clock.advance(after - (clock.now() - Date.parse('2026-11-25T02:00:00.000Z')));
      await server.escalations.runDue();
      expect(await levels(), `after ${after} ms`).toEqual(expected);
    }
  });

  it('never escalates an alarm that was acknowledged or resolved in time', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const kari = await h.staff(url);
    const gateway = await h.gateway(url);
    await gateway.raise(decision('n1'));
    await gateway.raise(decision('n2'));
    clock.advance(30_000);
    await kari.socket.emitWithAck('acknowledge', { alarmId: 'n1', by: 'Kari' });
    await kari.socket.emitWithAck('resolve', { alarmId: 'n2', by: 'Kari', outcome: 'false-alarm' });
    clock.advance(3_600_000);
    expect(await server.escalations.runDue()).toBe(0);
    await sleep(30);
    expect(kari.alarms.every((a) => a.escalationLevel === 0)).toBe(true);
    expect(await auditOf(server, 'n1')).toEqual(['raised:gateway:demo', 'acknowledged:Kari']);
  });

  it('keeps escalating an alarm whose condition cleared: only a nurse closes it', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock });
    const gateway = await h.gateway(url);
    await gateway.raise(decision('c1'));
    await gateway.socket.emitWithAck('batch', [
      { type: 'cleared', cleared: { alarmId: 'c1', siteId: 'demo', clearedAt: '2026-11-25T02:00:10.000Z', eventId: 'c1-e2' } },
    ]);
    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(1);
  });

  it('wakes by itself at the earliest due step (real timers, no polling)', async () => {
    const { url } = await h.server({ escalation: { afterMs: { high: 150 }, safetyPollMs: 3_600_000 } });
    const kari = await h.staff(url);
    const raisedAt = Date.now();
    await (await h.gateway(url)).raise(decision('w1'));
    await eventually('level 1 from the timer', () => kari.alarms.find((a) => a.escalationLevel === 1), 3000);
    await eventually('level 2 from the timer', () => kari.alarms.find((a) => a.escalationLevel === 2), 3000);
    expect(Date.now() - raisedAt).toBeGreaterThanOrEqual(290);
    expect(kari.alarms.map((a) => a.escalationLevel)).toEqual([0, 1, 2]);
  });

  it('fires each step exactly once with two instances on one database, both schedulers running', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    // Both poll every 5 ms, so both try every step many times over.
    const escalation = { safetyPollMs: 5 };
    const a = await h.server({ dataDir: dir, clock, escalation });
    const b = await h.server({ dataDir: dir, clock, escalation });
    const onA = await h.staff(a.url);
    const onB = await h.staff(b.url);
    const gateway = await h.gateway(a.url);
    for (const id of ['x1', 'x2', 'x3']) await gateway.raise(decision(id));

    clock.advance(60_000);
    await eventually('level 1 everywhere', async () => (await a.server.alarms.open()).alarms.every((x) => x.escalationLevel === 1));
    clock.advance(60_000);
    await eventually('level 2 everywhere', async () => (await b.server.alarms.open()).alarms.every((x) => x.escalationLevel === 2));
    await sleep(100); // many more polls by both instances

    for (const id of ['x1', 'x2', 'x3'])
      expect(await auditOf(a.server, id)).toEqual(['raised:gateway:demo', 'escalated:system', 'escalated:system']);
    // Each step was broadcast once, by whichever instance claimed it.
    const steps = [...onA.alarms, ...onB.alarms].filter((x) => x.escalationLevel > 0);
    expect(steps.map((x) => `${x.id}:${x.escalationLevel}`).sort()).toEqual(['x1:1', 'x1:2', 'x2:1', 'x2:2', 'x3:1', 'x3:2']);
    expect(new Set(steps.map((x) => x.seq)).size).toBe(6);
  });

  it('lets only one of two racing claims win, even when both read the alarm before either wrote', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    const escalation = { safetyPollMs: 3_600_000 };
    const a = await h.server({ dataDir: dir, clock, escalation });
    const b = await h.server({ dataDir: dir, clock, escalation });
    await (await h.gateway(a.url)).raise(decision('r1'));
    clock.advance(60_000);
    // Both instances see the same due step (as they would on PostgreSQL at the same moment) …
    const seenByA = await a.server.alarms.dueEscalations(clock.now(), 10);
    const seenByB = await b.server.alarms.dueEscalations(clock.now(), 10);
    expect(seenByA).toEqual([{ id: 'r1', escalationLevel: 0 }]);
    expect(seenByB).toEqual(seenByA);
    // … and both try to claim it: the conditional UPDATE lets one through.
    const first = await b.server.alarms.escalate('r1', 0);
    const second = await a.server.alarms.escalate('r1', 0);
    expect(first?.escalationLevel).toBe(1);
    expect(second).toBeNull();
    expect(await auditOf(a.server, 'r1')).toEqual(['raised:gateway:demo', 'escalated:system']);
  });

  it('picks up due escalations after a restart on the same data directory', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    const first = await h.server({ dataDir: dir, clock });
    await (await h.gateway(first.url)).raise(decision('s1'));
    await (await h.gateway(first.url)).raise(decision('s2', { priority: 'low' }));
    await first.close();

    // The server was down for 90 s: s1's first step fell due meanwhile, s2's has not.
    clock.advance(90_000);
    const second = await buildApp({ ...(await engine.store(dir)), clock });
    h.onClose(() => second.app.close());
    await eventually('escalated on start', async () => (await second.alarms.get('s1'))?.alarm.escalationLevel === 1);
    const s1 = (await second.alarms.get('s1'))?.alarm;
    expect(s1).toMatchObject({ escalatedAt: '2026-11-25T02:01:30.000Z', nextEscalationAt: '2026-11-25T02:02:30.000Z' });
    expect((await second.alarms.get('s2'))?.alarm.escalationLevel).toBe(0);
    clock.advance(60_000);
    await second.escalations.runDue();
    expect((await second.alarms.get('s1'))?.alarm.escalationLevel).toBe(2);
  });

  it('escalates, after the upgrade, an alarm the previous version left unacknowledged', async () => {
    const dir = dataDir();
    // The database as version 0001 left it, with one active and one acknowledged alarm.
    const store = await engine.store(dir);
    const old = connectRelationalStore<Record<string, Record<string, unknown>>>(store.databaseUrl);
    const first = Object.fromEntries(Object.entries(migrations).filter(([name]) => name.startsWith('0001-')));
    const migrated = await new Migrator({ db: old, provider: { getMigrations: async () => first } }).migrateToLatest();
    expect(migrated.error).toBeUndefined();
    const row = (id: string, status: string) => ({
      id,
      site_id: 'demo',
      resident_id: 'res-1',
      room_id: 'room-1',
      sensor_id: 'door-1',
      rule: 'door-open-at-night',
      priority: 'high',
      raised_at: '2026-11-25T01:00:00.000Z',
      decided_at: '2026-11-25T01:00:00.000Z',
      received_at: '2026-11-25T01:00:00.000Z',
      evidence: JSON.stringify({ eventIds: [], since: '2026-11-25T01:00:00.000Z' }),
      status,
      seq: 0,
      resident_name: 'Astrid H.',
      room_name: 'Rom 1',
    });
    await old
      .insertInto('alarms')
      .values([row('old-active', 'active'), row('old-acked', 'acknowledged')])
      .execute();
    await old.destroy();

    const clock = new ManualClock();
    const server = await buildApp({ ...store, clock });
    h.onClose(() => server.app.close());
    await eventually('escalated on start', async () => (await server.alarms.get('old-active'))?.alarm.escalationLevel === 1);
    expect((await server.alarms.get('old-acked'))?.alarm).toMatchObject({ escalationLevel: 0, nextEscalationAt: null });
  });

  it('does not escalate a priority configured never to, and refuses a bad setting at start-up', async () => {
    const clock = new ManualClock();
    const { server, url } = await h.server({ clock, escalation: { afterMs: { technical: null } } });
    await (await h.gateway(url)).raise(decision('q1', { priority: 'technical', rule: 'sensor-offline' }));
    expect((await server.alarms.get('q1'))?.alarm.nextEscalationAt).toBeNull();
    clock.advance(24 * 3_600_000);
    expect(await server.escalations.runDue()).toBe(0);

    expect(() => escalationOptions({ afterMs: { high: -5 } })).toThrow('escalation.afterMs.high must be a positive whole number');
    await expect(buildApp({ dataDir: ':memory:', escalation: { safetyPollMs: 0 } })).rejects.toThrow('escalation.safetyPollMs');
  });
});
