import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteClock } from '@nattevakt/protocol/ward';
import { builtInScenario, compileScenario } from '@nattevakt/simulator';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ScenarioRunner, wardDifferences } from '../src/commissioning/scenario-runner.js';
import { loadSecretKey, SecretBox } from '../src/commissioning/secret-box.js';
import { latestDue } from '../src/commissioning/self-test-log.js';
import { TestSettings } from '../src/commissioning/test-settings.js';
import { SiteService } from '../src/sites/site-service.js';
import { openRelationalStore, type RelationalDb } from '../src/stores/relational/database.js';
import { engines } from './support/databases.js';

const actor = { id: 'u1', name: 'Admin Anne' };
const logger = pino({ level: 'silent' });
const PASSWORD = 'the broker password of the simulator device';

async function bedExitWard(siteId: string) {
  const found = await builtInScenario('bed-exit');
  if (found === null) throw new Error('no bed-exit scenario');
  return { source: found.source, ward: compileScenario(found.source, { file: 'bed-exit.yaml', siteId }).site };
}

describe('the secret box', () => {
  it('seals with a fresh nonce, opens with the same key only, and notices a changed value', () => {
    const box = new SecretBox(randomBytes(32));
    const a = box.seal(PASSWORD);
    expect(a).not.toContain(PASSWORD);
    expect(box.seal(PASSWORD)).not.toBe(a);
    expect(box.open(a)).toBe(PASSWORD);
    expect(() => new SecretBox(randomBytes(32)).open(a)).toThrow();
    const [v, nonce, tag, data] = a.split(':');
    const flipped = `${data?.[0] === 'A' ? 'B' : 'A'}${data?.slice(1)}`;
    expect(() => box.open([v, nonce, tag, flipped].join(':'))).toThrow();
  });

  it('keeps its key in the data directory with mode 0600, or takes it from the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-key-'));
    try {
      const first = loadSecretKey(undefined, dir);
      expect(loadSecretKey(undefined, dir).equals(first)).toBe(true);
      expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
      const hex = randomBytes(32).toString('hex');
      expect(loadSecretKey(hex, dir).toString('hex')).toBe(hex);
      expect(() => loadSecretKey('too short', dir)).toThrow(/NATTEVAKT_SECRET_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the daily due time', () => {
  it('is the latest HH:MM on the site clock at or before now, across DST', () => {
    const zone = 'Europe/Oslo';
    expect(new Date(latestDue('10:00', zone, Date.parse('2026-11-26T09:30:00Z'))).toISOString()).toBe('2026-11-26T09:00:00.000Z');
    expect(new Date(latestDue('10:00', zone, Date.parse('2026-11-26T08:59:00Z'))).toISOString()).toBe('2026-11-25T09:00:00.000Z');
    // The night summer time ends (25 October 2026): 10:00 CET is 09:00 UTC, the day before 08:00 UTC.
    expect(new Date(latestDue('10:00', zone, Date.parse('2026-10-25T08:30:00Z'))).toISOString()).toBe('2026-10-24T08:00:00.000Z');
    expect(new Date(latestDue('10:00', zone, Date.parse('2026-10-25T09:00:00Z'))).toISOString()).toBe('2026-10-25T09:00:00.000Z');
  });
});

describe('which wards a scenario may run on', () => {
  it('names every difference that would make the verdict meaningless', async () => {
    const { ward } = await bedExitWard('bench');
    expect(wardDifferences(ward, ward)).toEqual([]);
    const site = structuredClone(ward);
    site.sensors.push({ id: 'door-9', kind: 'door', roomId: 'room-1' });
    const resident = site.residents[0];
    if (resident === undefined) throw new Error('no resident');
    resident.plan = { ...resident.plan, armed: false, rules: { ...resident.plan.rules, bedExit: { enabled: false, priority: 'high' } } };
    site.site.timezone = 'UTC';
    const differences = wardDifferences(ward, site);
    expect(differences).toEqual([
      "time zone: the scenario's is Europe/Oslo, the site's UTC",
      'sensor door-9: in the site, not in the scenario (it would be silent, or raise what the scenario does not expect)',
      expect.stringMatching(
        /^resident res-1: the supervision plan differs: the scenario's is .*"bedExit":\{"delaySeconds":0,"enabled":true/,
      ),
      'resident res-1: not armed on the site (no legal basis recorded, or the plan is paused), so nothing would be raised',
    ]);
  });
});

describe.each(engines)('commissioning stores ($name)', (engine) => {
  const open: RelationalDb[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.destroy();
    await engine.reset();
  });
  const database = async () => {
    const db = await openRelationalStore((await engine.store()).databaseUrl);
    open.push(db);
    return db;
  };

  it('stores the simulator password sealed, never in a view, and keeps it when a change leaves it out', async () => {
    const db = await database();
    const settings = new TestSettings(db, new SecretBox(randomBytes(32)), () => Date.parse('2026-11-25T08:00:00Z'));
    await expect(settings.setSimulator('bench', { url: 'mqtt://gw:1884', username: 'sim' }, actor)).rejects.toThrow(
      /body\/password is required/,
    );
    const view = await settings.setSimulator('bench', { url: 'mqtt://gw:1884', username: 'sim', password: PASSWORD }, actor);
    expect(JSON.stringify(view)).not.toContain(PASSWORD);
    expect(view.simulator).toEqual({
      url: 'mqtt://gw:1884',
      username: 'sim',
      passwordSet: true,
      bridgeUsername: null,
      bridgePasswordSet: false,
    });
    const row = await db.selectFrom('site_test_settings').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    await settings.setSimulator('bench', { url: 'mqtts://gw:8883', username: 'sim2' }, actor);
    expect(await settings.simulatorConnection('bench')).toEqual({ url: 'mqtts://gw:8883', username: 'sim2', password: PASSWORD });
    // Another key (a lost secret.key) cannot open it: a clear message, not garbage.
    await expect(new TestSettings(db, new SecretBox(randomBytes(32)), Date.now).simulatorConnection('bench')).rejects.toThrow(
      /cannot be decrypted/,
    );
    // Every change is audited without the password.
    const audit = await db.selectFrom('config_audit').selectAll().where('entity_id', '=', 'test-settings').execute();
    expect(audit.map((a) => a.action)).toEqual(['simulator-connection-set', 'simulator-connection-set']);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('holds at most one running scenario per site (unique partial index), and refuses a gateway on the real clock', async () => {
    const db = await database();
    const row = (id: string, site: string, status: string) => ({
      id,
      site_id: site,
      scenario: 'bed-exit',
      title: null,
      source: 'built-in',
      status,
      started_at: '2026-11-25T08:00:00.000Z',
      finished_at: null,
      started_by: 'Tor',
      started_by_id: 'u2',
      night: '2026-11-24',
      sent: 0,
      alarms: '[]',
      differences: '[]',
      error: null,
      hint: null,
      duration_ms: null,
    });
    await db
      .insertInto('scenario_runs')
      .values(row('r1', 'bench', 'running'))
      .execute();
    await expect(
      db
        .insertInto('scenario_runs')
        .values(row('r2', 'bench', 'running'))
        .execute(),
    ).rejects.toThrow();
    await db
      .insertInto('scenario_runs')
      .values([row('r3', 'bench', 'passed'), row('r4', 'other', 'running')])
      .execute();

    const sites = new SiteService(db);
    const { source, ward } = await bedExitWard('bench');
    await sites.save(ward);
    const settings = new TestSettings(db, new SecretBox(randomBytes(32)), Date.now);
    await settings.setSimulator('bench', { url: 'mqtt://127.0.0.1:1', username: 'sim', password: PASSWORD }, actor);
    const clocks = new Map<string, SiteClock>();
    const runner = new ScenarioRunner({
      db,
      sites,
      settings,
      clocks,
      clock: { now: () => Date.parse('2026-11-25T08:00:00Z') },
      logger,
      notify: { progress: () => {}, finished: () => {} },
    });
    const refusal = (request: Parameters<ScenarioRunner['start']>[1]) =>
      runner.start('bench', request, actor).then(
        () => null,
        (error: { statusCode: number; message: string; details: string[] }) => ({
          status: error.statusCode,
          message: error.message,
          details: error.details,
        }),
      );
    expect(await refusal({ scenario: 'bed-exit' })).toMatchObject({
      status: 409,
      message: expect.stringContaining('has not reported its clock'),
    });
    clocks.set('bench', { siteId: 'bench', time: '2026-11-25T08:00:00.000Z', simulated: false, speed: 1 });
    expect(await refusal({ scenario: 'bed-exit' })).toMatchObject({
      status: 409,
      message: expect.stringContaining('runs on the real clock: scenarios drive a simulated clock'),
    });
    clocks.set('bench', { siteId: 'bench', time: '1970-01-01T00:00:00.000Z', simulated: true, speed: 1 });
    expect(await refusal({ scenario: 'bed-exit' })).toMatchObject({ status: 409, message: expect.stringContaining('already running') });
    expect(await refusal({ scenario: 'door-left-open' })).toMatchObject({
      status: 409,
      message: expect.stringContaining("is not the scenario's ward"),
      details: expect.arrayContaining([expect.stringMatching(/^resident res-1: the supervision plan differs/)]),
    });
    expect(await refusal({ file: source.replace('for: 7m', 'for: 7 minutes'), fileName: 'mine.yaml' })).toMatchObject({
      status: 400,
      details: [expect.stringMatching(/^mine\.yaml:\d+:\d+: \/timeline\/1\/for: expected a duration/)],
    });
  });
});
