/**
 * Backup and restore, for real: the server's relational store on SQLite (online backup while the
 * store is open and its latest writes are still in the WAL) and on PostgreSQL (pg_dump/pg_restore),
 * and the gateway's state (outbox, site configuration, open alarms, configuration file). Each test
 * backs up, changes the data, restores, and compares every table or file with what it was.
 */
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '@nattevakt/gateway/outbox/outbox';
import { SiteConfigStore } from '@nattevakt/gateway/site-config-store';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import { AuthService } from '@nattevakt/server/auth/auth-service';
import { SiteService } from '@nattevakt/server/sites/site-service';
import { openRelationalStore, type RelationalDb } from '@nattevakt/server/stores/relational/database';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { insertAlarm } from './support/alarms.js';
import { deployDir } from './support/paths.js';
import { freshDatabase, hasPostgres } from './support/postgres.js';
import { requireProgram, run } from './support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nattevakt-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = (name: string) => join(deployDir, 'scripts', name);
const exampleSite = (): SiteConfig => {
  const checked = checkSiteConfig(JSON.parse(readFileSync(join(deployDir, 'sites/example-site.json'), 'utf8')));
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  return checked.value;
};

/** Runs a documented command and returns its JSON line; fails the test with its output otherwise. */
async function documented(name: string, args: string[]): Promise<Record<string, unknown>> {
  const command = run(process.execPath, [script(name), ...args]);
  const code = await command.exited;
  if (code !== 0) throw new Error(`${name} ${args.join(' ')} exited ${code}:\n${command.lines.join('\n')}`);
  return JSON.parse(command.lines.find((l) => l.startsWith('{')) ?? 'null');
}

/** Every row of every table, ordered, as plain data. */
async function everything(db: RelationalDb): Promise<Record<string, unknown[]>> {
  const tables = ['sites', 'gateways', 'users', 'user_sites', 'alarms', 'alarm_audit'] as const;
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = (await sql`select * from ${sql.table(table)} order by 1, 2`.execute(db)).rows;
  return out;
}

/** Some of everything a server stores: a site, its gateway token, people with their site, an audit line. */
async function fill(db: RelationalDb, tag: string): Promise<void> {
  const sites = new SiteService(db);
  await sites.load();
  const site = exampleSite();
  await sites.save({ ...site, site: { ...site.site, name: `${site.site.name} ${tag}` } });
  await sites.setGatewayToken(site.site.id, `gateway-token-${tag}-0123456789`);
  await new AuthService(db).upsertUser({
    username: `leder-${tag}`,
    displayName: `Leder ${tag}`,
    role: 'nurse_in_charge',
    password: `a long password ${tag}`,
    sites: [site.site.id],
  });
  const seq = tag.length * 1000 + tag.charCodeAt(0);
  await insertAlarm(db, { id: `alarm-${tag}`, receivedAt: new Date(seq * 1000).toISOString(), seq });
}

describe('the server relational store', () => {
  it('SQLite: an online backup taken while the store is open holds its latest writes, and restores them exactly', async () => {
    const file = join(dir, 'server', 'nattevakt.db');
    const db = await openRelationalStore(file);
    try {
      await fill(db, 'before');
      const before = await everything(db);
      // The store is still open: its last writes are in the WAL, not yet in the main file.
      expect(readFileSync(`${file}-wal`).length).toBeGreaterThan(0);
      const backupFile = join(dir, 'server-backup.db');
      const made = await documented('backup-server.mjs', ['backup', '--database-url', file, '--out', backupFile]);
      expect(made.tables).toMatchObject({ sites: 1, users: 1, gateways: 1 });

      await fill(db, 'after');
      await db.deleteFrom('gateways').execute();
      expect(await everything(db)).not.toEqual(before);
      await db.destroy();

      const restored = await documented('backup-server.mjs', ['restore', '--database-url', file, '--from', backupFile]);
      expect(restored.tables).toMatchObject({ sites: 1, users: 1, gateways: 1, alarms: 1, alarm_audit: 1 });
      const reopened = await openRelationalStore(file);
      try {
        expect(await everything(reopened)).toEqual(before);
      } finally {
        await reopened.destroy();
      }
    } finally {
      await db.destroy().catch(() => {});
    }
  });

  it('refuses to overwrite an existing backup', async () => {
    const file = join(dir, 'refuse.db');
    new Database(file).close();
    const command = run(process.execPath, [script('backup-server.mjs'), 'backup', '--database-url', file, '--out', file]);
    expect(await command.exited).toBe(2);
    expect(command.lines.join('\n')).toMatch(/exists: choose a new file/);
  });

  describe.skipIf(!hasPostgres || !requireProgram('pg_dump', 'apt-get install postgresql-client'))('PostgreSQL', () => {
    it('pg_dump then pg_restore brings back every table exactly, in place of the changed ones', async () => {
      const database = await freshDatabase();
      const db = await openRelationalStore(database.url);
      try {
        await fill(db, 'before');
        const before = await everything(db);
        const backupFile = join(dir, 'server-backup.pgdump');
        const made = await documented('backup-server.mjs', ['backup', '--database-url', database.url, '--out', backupFile]);
        expect(made.tables).toMatchObject({ sites: 1, users: 1, gateways: 1 });
        await fill(db, 'after');
        await db.deleteFrom('user_sites').execute();
        expect(await everything(db)).not.toEqual(before);
        await db.destroy();

        await documented('backup-server.mjs', ['restore', '--database-url', database.url, '--from', backupFile]);
        const reopened = await openRelationalStore(database.url);
        try {
          expect(await everything(reopened)).toEqual(before);
          // The restored store keeps working: the next audit line continues the sequence.
          await fill(reopened, 'later');
        } finally {
          await reopened.destroy();
        }
      } finally {
        await db.destroy().catch(() => {});
        await database.drop();
      }
    });
  });
});

describe('the gateway state', () => {
  const item = (n: number): OutboxItem => ({
    type: 'cleared',
    cleared: { alarmId: `alarm-${n}`, siteId: 'example-site', clearedAt: new Date(n * 1000).toISOString(), eventId: `event-${n}` },
  });

  it('backs up the outbox while the gateway holds it open, and restores outbox, site configuration, open alarms and configuration', async () => {
    const stateDir = join(dir, 'gateway-state');
    const configFile = join(dir, 'gateway.json');
    writeFileSync(configFile, readFileSync(join(deployDir, 'gateway/gateway.json')));
    const outbox = new Outbox(join(stateDir, 'outbox.db'));
    const store = new SiteConfigStore(join(stateDir, 'site-config.json'));
    const site = { ...exampleSite(), revision: 3 };
    store.save(site);
    writeFileSync(join(stateDir, 'open-alarms.json'), `${JSON.stringify([{ id: 'alarm-1' }])}\n`);
    for (let n = 1; n <= 50; n++) outbox.enqueue(item(n));
    const before = outbox.peek(1000);

    const backupDir = join(dir, 'gateway-backup');
    const made = await documented('backup-gateway.mjs', ['backup', '--state-dir', stateDir, '--config', configFile, '--out', backupDir]);
    expect(made.outboxDepth).toBe(50);
    expect(Object.keys(made.files as object).sort()).toEqual(['gateway.json', 'open-alarms.json', 'outbox.db', 'site-config.json']);

    // Life goes on: items delivered and new ones queued, a new configuration, no open alarms.
    outbox.remove(1, 20);
    for (let n = 51; n <= 60; n++) outbox.enqueue(item(n));
    store.save({ ...site, revision: 4, site: { ...site.site, name: 'Changed' } });
    rmSync(join(stateDir, 'open-alarms.json'));
    writeFileSync(configFile, '{}');
    await outbox.close();

    // As on a ward box: the configuration is root:gateway 0640 and the state belongs to the gateway's user.
    chmodSync(configFile, 0o640);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(stateDir, 65534, 65534);
    const restored = await documented('backup-gateway.mjs', [
      'restore',
      '--from',
      backupDir,
      '--state-dir',
      stateDir,
      '--config',
      configFile,
    ]);
    expect(statSync(configFile).mode & 0o777).toBe(0o640);
    if (asRoot) expect(statSync(join(stateDir, 'outbox.db')).uid).toBe(65534);
    expect(restored.outboxDepth).toBe(50);
    const reopened = new Outbox(join(stateDir, 'outbox.db'));
    try {
      expect(reopened.peek(1000)).toEqual(before);
      // New items continue after the restored ones.
      expect(reopened.enqueue(item(61))).toBeGreaterThan(before.at(-1)?.seq ?? 0);
    } finally {
      await reopened.close();
    }
    expect(store.load()).toEqual(site);
    expect(JSON.parse(readFileSync(join(stateDir, 'open-alarms.json'), 'utf8'))).toEqual([{ id: 'alarm-1' }]);
    expect(readFileSync(configFile, 'utf8')).toBe(readFileSync(join(deployDir, 'gateway/gateway.json'), 'utf8'));
  });

  it('refuses a damaged backup and leaves the state alone', async () => {
    const stateDir = join(dir, 'gateway-damaged');
    const outbox = new Outbox(join(stateDir, 'outbox.db'));
    outbox.enqueue(item(1));
    await outbox.close();
    const backupDir = join(dir, 'gateway-damaged-backup');
    await documented('backup-gateway.mjs', ['backup', '--state-dir', stateDir, '--out', backupDir]);
    writeFileSync(join(backupDir, 'outbox.db'), 'not a database');
    const command = run(process.execPath, [script('backup-gateway.mjs'), 'restore', '--from', backupDir, '--state-dir', stateDir]);
    expect(await command.exited).toBe(1);
    expect(command.lines.join('\n')).toMatch(/does not match its checksum/);
    const kept = new Outbox(join(stateDir, 'outbox.db'));
    expect(kept.depth()).toBe(1);
    await kept.close();
  });
});
