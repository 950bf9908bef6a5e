#!/usr/bin/env node
/**
 * Backup and restore of a gateway's state: the outbox (events and alarm decisions not yet
 * acknowledged by the server), the last site configuration, the open alarms, and the gateway
 * configuration file. See deploy/README.md, "Backup and restore".
 *
 *   node deploy/scripts/backup-gateway.mjs backup  --state-dir DIR [--config FILE] --out DIR
 *   node deploy/scripts/backup-gateway.mjs restore --from DIR --state-dir DIR [--config FILE]
 *
 * The backup runs while the gateway runs: the outbox is copied with SQLite's online backup API and
 * the JSON files are written atomically by the gateway, so each copy is whole. Restore with the
 * gateway stopped. An outbox restored from an older backup may send items the server already has:
 * the server de-duplicates them by id (at-least-once delivery, docs/adr/0001).
 * The backup directory holds manifest.json with each file's SHA-256; restore checks them first.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

class UsageError extends Error {}
const usage = `usage: backup-gateway.mjs backup  --state-dir DIR [--config FILE] --out DIR
       backup-gateway.mjs restore --from DIR --state-dir DIR [--config FILE]`;

const OUTBOX = 'outbox.db';
/** The gateway's JSON state files (gateway/src/gateway.ts); each may be missing on a new gateway. */
const STATE_FILES = ['site-config.json', 'open-alarms.json'];
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

function outboxDepth(path) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`${path}: integrity check failed: ${check}`);
    return db.prepare('SELECT count(*) AS n FROM outbox').get().n;
  } finally {
    db.close();
  }
}

async function backup(stateDir, config, out) {
  if (existsSync(out)) throw new UsageError(`${out} exists: choose a new directory, a backup never overwrites one`);
  const outbox = join(stateDir, OUTBOX);
  if (!existsSync(outbox)) throw new UsageError(`${stateDir} has no ${OUTBOX}: is it the gateway's stateDir?`);
  const partial = `${out}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const files = {};
  const db = new Database(outbox, { fileMustExist: true });
  try {
    await db.backup(join(partial, OUTBOX));
  } finally {
    db.close();
  }
  files[OUTBOX] = sha256(join(partial, OUTBOX));
  for (const name of STATE_FILES) {
    if (!existsSync(join(stateDir, name))) continue;
    copyFileSync(join(stateDir, name), join(partial, name));
    JSON.parse(readFileSync(join(partial, name), 'utf8')); // whole, or the backup fails here
    files[name] = sha256(join(partial, name));
  }
  if (config !== undefined) {
    copyFileSync(config, join(partial, 'gateway.json'));
    JSON.parse(readFileSync(join(partial, 'gateway.json'), 'utf8'));
    files['gateway.json'] = sha256(join(partial, 'gateway.json'));
  }
  const manifest = {
    kind: 'nattevakt-gateway-state',
    createdAt: new Date().toISOString(),
    outboxDepth: outboxDepth(join(partial, OUTBOX)),
    files,
  };
  writeFileSync(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(partial, out);
  return { backup: out, ...manifest };
}

function restore(from, stateDir, config) {
  const manifestPath = join(from, 'manifest.json');
  if (!existsSync(manifestPath)) throw new UsageError(`${from} has no manifest.json: not a gateway backup`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.kind !== 'nattevakt-gateway-state') throw new UsageError(`${from} is not a gateway backup`);
  for (const [name, hash] of Object.entries(manifest.files)) {
    if (sha256(join(from, name)) !== hash) throw new Error(`${join(from, name)} does not match its checksum: the backup is damaged`);
  }
  mkdirSync(stateDir, { recursive: true });
  // The outbox's WAL and shared-memory files belong to the old database: they go with it.
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(stateDir, `${OUTBOX}${suffix}`), { force: true });
  const source = new Database(join(from, OUTBOX), { readonly: true, fileMustExist: true });
  return source
    .backup(join(stateDir, OUTBOX))
    .finally(() => source.close())
    .then(() => {
      for (const name of STATE_FILES) {
        const target = join(stateDir, name);
        if (name in manifest.files) atomicCopy(join(from, name), target);
        else rmSync(target, { force: true }); // absent when backed up: absent after the restore
      }
      if (config !== undefined && 'gateway.json' in manifest.files) atomicCopy(join(from, 'gateway.json'), config);
      ownLikeStateDir(stateDir, [OUTBOX, `${OUTBOX}-wal`, `${OUTBOX}-shm`]);
      return { restored: stateDir, from, outboxDepth: outboxDepth(join(stateDir, OUTBOX)), files: Object.keys(manifest.files) };
    });
}

/** Replaces a file at once, keeping the owner and mode the old one had (a root restore must not lock the gateway out). */
function atomicCopy(from, to) {
  const temp = join(dirname(to), `.${basename(to)}.restore`);
  copyFileSync(from, temp);
  const old = existsSync(to) ? statSync(to) : statSync(dirname(to));
  chmodSync(temp, old.isDirectory() ? 0o640 : old.mode & 0o777);
  if (process.getuid?.() === 0) chownSync(temp, old.uid, old.gid);
  renameSync(temp, to);
}

/** Run as root, the restored outbox belongs to whoever owns the state directory (the gateway's user). */
function ownLikeStateDir(stateDir, names) {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(stateDir);
  for (const name of names) if (existsSync(join(stateDir, name))) chownSync(join(stateDir, name), uid, gid);
}

async function main() {
  const { values, positionals } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.help) return void process.stdout.write(`${usage}\n`);
  const [command] = positionals;
  const stateDir = values['state-dir'];
  if (!stateDir) throw new UsageError(`--state-dir is required\n${usage}`);
  let result;
  if (command === 'backup') {
    if (!values.out) throw new UsageError(`backup needs --out DIR\n${usage}`);
    result = await backup(stateDir, values.config, values.out);
  } else if (command === 'restore') {
    if (!values.from) throw new UsageError(`restore needs --from DIR\n${usage}`);
    result = await restore(values.from, stateDir, values.config);
  } else throw new UsageError(usage);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`backup-gateway: ${error instanceof UsageError ? error.message : error.stack}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
