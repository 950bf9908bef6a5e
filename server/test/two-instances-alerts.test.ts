/**
 * The `/staff` alerts that are not alarm changes, on two server instances in one process (one
 * PostgreSQL database, one Redis): the escalation alert (level 1 to every nurse, nurse in charge
 * and admin of the site, level 2 to the nurse in charge) and the evaluation reminders for the
 * nurse in charge. Each reaches every intended tablet exactly once whichever instance made the
 * change, and the tablets on that instance at once even while Redis is down (a redis-server of
 * the test's own, killed and started again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EscalationAlert } from '@nattevakt/protocol/socket-events';
import type { EvaluationReminders } from '@nattevakt/protocol/supervision';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppOptions, NattevaktServer } from '../src/app.js';
import type { Role } from '../src/auth/auth-service.js';
import { decision, eventually, Harness, ManualClock, type StaffSocket, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';
import { cleanup, freshPrefix, redisAvailable, redisUrl } from './support/redis.js';
import { redisServerAvailable, ThrowawayRedis } from './support/throwaway-redis.js';

const postgres = engines.find((e) => e.name === 'postgres');
const ACTOR = { id: 'admin-1', name: 'Ada Admin' };

/** Waits until the instances' adapters hear each other, so a message sent now is not lost to a late subscription. */
async function linked(...servers: NattevaktServer[]): Promise<void> {
  for (const server of servers) {
    const adapter = server.io.of('/').adapter as unknown as { serverCount(): Promise<number> };
    await eventually('the instances hear each other', async () => (await adapter.serverCount()) >= servers.length, 10_000);
  }
}

describe.skipIf(postgres === undefined || !redisAvailable || !redisServerAvailable)(
  'escalation alerts and reminders on two instances',
  () => {
    const h = new Harness(postgres);
    const prefixes: string[] = [];
    const dirs: string[] = [];
    const redises: ThrowawayRedis[] = [];
    afterEach(async () => {
      await h.close();
      for (const redis of redises.splice(0)) await redis.stop();
      for (const prefix of prefixes.splice(0)) await cleanup(prefix);
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    /** Two instances on one database and one Redis; each reads the database every 200 ms as its safety net. */
    async function pair(url: string) {
      const dir = mkdtempSync(join(tmpdir(), 'nattevakt-alerts-'));
      dirs.push(dir);
      const prefix = freshPrefix();
      prefixes.push(prefix);
      const clock = new ManualClock();
      const options: Partial<AppOptions> = {
        clock,
        dataDir: dir,
        redis: { url, keyPrefix: prefix, syncPollMs: 200 },
        // The test decides when each scheduler looks.
        escalation: { safetyPollMs: 3_600_000 },
        supervision: { pollMs: 3_600_000 },
      };
      const a = await h.server(options);
      const b = await h.server(options);
      await linked(a.server, b.server);
      return { a, b, clock, options };
    }

    /** A tablet of `username` with `role` at site demo: every escalation alert and reminder list it gets. */
    async function tablet(server: { server: NattevaktServer; url: string }, username: string, role: Role) {
      const cookie = await loginAs(server.server, { username, role });
      const socket: StaffSocket = io(`${server.url}/staff`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        extraHeaders: { cookie },
      });
      h.onClose(() => socket.disconnect());
      const escalations: EscalationAlert[] = [];
      const reminders: EvaluationReminders[] = [];
      const levels: number[] = [];
      socket.on('escalation', (alert) => escalations.push(alert));
      socket.on('evaluationReminders', (list) => reminders.push(list));
      socket.on('alarm', (alarm) => levels.push(alarm.escalationLevel));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return { username, escalations, reminders, levels };
    }
    type Tablet = Awaited<ReturnType<typeof tablet>>;
    const alerts = (t: Tablet) => t.escalations.map((e) => `${e.alarm.id}:${e.level}:${e.notified}`);

    it('level 1 reaches every nurse, nurse in charge and admin on both instances once; level 2 only the nurse in charge', async () => {
      const { a, b, clock } = await pair(redisUrl);
      const olaOnA = await tablet(a, 'ola', 'nurse');
      const adaOnA = await tablet(a, 'ada', 'admin');
      const kariOnB = await tablet(b, 'kari', 'nurse');
      const livOnB = await tablet(b, 'liv', 'nurse_in_charge');
      const torOnA = await tablet(a, 'tor', 'technician');
      const everyone = [olaOnA, adaOnA, kariOnB, livOnB];
      await (await h.gateway(a.url)).raise(decision('e1', { priority: 'high' }));
      for (const t of [...everyone, torOnA]) await eventually(`raised at ${t.username}`, () => t.levels.length === 1);

      clock.advance(60_000);
      expect(await a.server.escalations.runDue()).toBe(1);
      for (const t of everyone) await eventually(`level 1 at ${t.username}`, () => t.escalations.length === 1, 3_000);
      // Level 2 claimed by the other instance: the nurse in charge is on B.
      clock.advance(60_000);
      expect(await b.server.escalations.runDue()).toBe(1);
      await eventually('level 2 at the nurse in charge', () => livOnB.escalations.length === 2, 3_000);
      for (const t of everyone) await eventually(`level 2 change at ${t.username}`, () => t.levels.includes(2), 3_000);
      await sleep(1_500); // several polls, and the other instance's fallback check: nothing more comes
      for (const t of [olaOnA, adaOnA, kariOnB]) expect(alerts(t), t.username).toEqual(['e1:1:all-nurses']);
      expect(alerts(livOnB)).toEqual(['e1:1:all-nurses', 'e1:2:nurse-in-charge']);
      expect(torOnA.escalations, 'a technician is never alerted to care alarms').toEqual([]);
    });

    it('while Redis is down: the claiming instance alerts its tablets at once, the other from the database; once each', async () => {
      const redis = await new ThrowawayRedis().start();
      redises.push(redis);
      const { a, b, clock } = await pair(redis.url);
      const olaOnA = await tablet(a, 'ola', 'nurse');
      const kariOnB = await tablet(b, 'kari', 'nurse');
      const livOnB = await tablet(b, 'liv', 'nurse_in_charge');
      await (await h.gateway(a.url)).raise(decision('e2', { priority: 'high' }));
      for (const t of [olaOnA, kariOnB, livOnB]) await eventually(`raised at ${t.username}`, () => t.levels.length === 1);

      await redis.stop();
      clock.advance(60_000);
      const claimedAt = Date.now();
      expect(await a.server.escalations.runDue()).toBe(1);
      await eventually('level 1 on the claiming instance', () => olaOnA.escalations.length === 1, 1_000);
      const local = Date.now() - claimedAt;
      for (const t of [kariOnB, livOnB])
        await eventually(`level 1 at ${t.username} from the database`, () => t.escalations.length === 1, 3_000);

      // Level 2, claimed on A while the nurse in charge is on B: B alerts her at once from the
      // database. A cannot ask B whether she is online, so it alerts its own nurses too: never nobody.
      clock.advance(60_000);
      expect(await a.server.escalations.runDue()).toBe(1);
      await eventually('level 2 at the nurse in charge on B', () => livOnB.escalations.length === 2, 3_000);
      await eventually('level 2 to the nurses on A, who cannot know she is online', () => olaOnA.escalations.length === 2, 3_000);

      await redis.restart();
      await linked(a.server, b.server);
      await sleep(1_000); // whatever Redis held back would arrive now
      expect(alerts(olaOnA)).toEqual(['e2:1:all-nurses', 'e2:2:all-nurses']);
      expect(alerts(kariOnB)).toEqual(['e2:1:all-nurses']);
      expect(alerts(livOnB)).toEqual(['e2:1:all-nurses', 'e2:2:nurse-in-charge']);
      expect(local, 'the claiming instance did not wait for Redis').toBeLessThan(1_000);
    });

    it('an instance started after a step alerts its tablets for the next step only, not for a later change of an escalated alarm', async () => {
      const { a, b, clock, options } = await pair(redisUrl);
      const gateway = await h.gateway(a.url);
      await gateway.raise(decision('e3', { priority: 'high' }));
      clock.advance(60_000);
      expect(await a.server.escalations.runDue()).toBe(1);
      // C starts now, on the same database and Redis, with a nurse on it (and no nurse in charge anywhere).
      const c = await h.server(options);
      await linked(a.server, b.server, c.server);
      const perOnC = await tablet(c, 'per', 'nurse');
      // The condition clears: a new version of the alarm, still at level 1, which C sees first.
      await gateway.socket.emitWithAck('batch', [
        { type: 'cleared', cleared: { alarmId: 'e3', siteId: 'demo', clearedAt: '2026-11-25T02:01:10.000Z', eventId: 'e3-clear' } },
      ]);
      await eventually('the cleared version on C', () => perOnC.levels.length === 1, 3_000);
      clock.advance(60_000);
      expect(await b.server.escalations.runDue()).toBe(1);
      await eventually('level 2 on C, to every nurse as no nurse in charge is online', () => perOnC.escalations.length === 1, 3_000);
      await sleep(1_500);
      expect(alerts(perOnC)).toEqual(['e3:2:all-nurses']);
    });

    it('evaluation reminders reach the nurse in charge on each instance once, while Redis is down too', async () => {
      const redis = await new ThrowawayRedis().start();
      redises.push(redis);
      const { a, b, clock } = await pair(redis.url);
      const livOnA = await tablet(a, 'liv', 'nurse_in_charge');
      const ninaOnB = await tablet(b, 'nina', 'nurse_in_charge');
      const kariOnB = await tablet(b, 'kari', 'nurse');
      await sleep(300);
      expect(livOnA.reminders, 'nothing due when they connect').toEqual([]);

      // A vedtak recorded on A while Redis is down: its evaluation is due in 6 days (reminded 14 days ahead).
      await redis.stop();
      const recordedAt = Date.now();
      await a.server.supervision.recordLegalBasis(
        'demo',
        'res-1',
        { kind: 'vedtak', decidedOn: '2026-06-01', nextEvaluationOn: '2026-12-01', reference: '2026/123' },
        ACTOR,
      );
      await eventually('the reminder on A', () => livOnA.reminders.length === 1, 1_000);
      const local = Date.now() - recordedAt;
      await eventually('the reminder on B from the database', () => ninaOnB.reminders.length === 1, 3_000);
      for (const t of [livOnA, ninaOnB]) expect(t.reminders[0]?.reminders.map((r) => [r.residentId, r.state])).toEqual([['res-1', 'due']]);

      await redis.restart();
      await linked(a.server, b.server);
      // A week later the evaluation is overdue: both schedulers look at once, one claims it.
      clock.advance(7 * 24 * 3_600_000);
      const [onA, onB] = await Promise.all([a.server.supervision.runDue(), b.server.supervision.runDue()]);
      expect(onA.reminded + onB.reminded).toBe(1);
      for (const t of [livOnA, ninaOnB]) await eventually(`overdue at ${t.username}`, () => t.reminders.length === 2, 3_000);
      await sleep(1_000);
      for (const t of [livOnA, ninaOnB]) {
        expect(
          t.reminders.map((list) => list.reminders.map((r) => r.state).join()),
          t.username,
        ).toEqual(['due', 'overdue']);
      }
      expect(kariOnB.reminders, 'a nurse is not sent the reminders').toEqual([]);
      expect(local, 'the instance that made the change did not wait for Redis').toBeLessThan(1_000);
    });
  },
);
