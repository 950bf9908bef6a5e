/**
 * PostgreSQL and Redis of the test's own, on ephemeral loopback ports, so a test can restart them
 * without touching the machine's shared servers: a throwaway PostgreSQL cluster (initdb in a
 * temporary directory, run as the `postgres` user when the tests run as root) and a
 * `redis-server` without persistence (the server's test support, shared with its Redis outage
 * tests). Both stop in `stop()`, whatever the test did.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisServerAvailable } from '@nattevakt/server/test-support/throwaway-redis';
import { freePort } from './processes.js';

export { ThrowawayRedis } from '@nattevakt/server/test-support/throwaway-redis';

const run = promisify(execFile);

/** The directory with initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin. */
function postgresBin(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

const pgBin = postgresBin();

/** What is missing to run the restart tests; empty when both can run. */
export const missingServices: string[] = [
  ...(pgBin === null ? ['PostgreSQL server binaries (initdb, pg_ctl: apt-get install postgresql)'] : []),
  ...(redisServerAvailable ? [] : ['redis-server (apt-get install redis-server)']),
];
if (missingServices.length > 0) {
  const message = `missing ${missingServices.join(' and ')}`;
  if (process.env.CI === 'true') throw new Error(`${message}: the restart tests must run in CI`);
  console.warn(`\n*** ${message}: SKIPPING the PostgreSQL and Redis restart tests. ***\n`);
}

/** initdb refuses to run as root: then every PostgreSQL command runs as `postgres`. */
const asRoot = process.getuid?.() === 0;
const pgCommand = (tool: string, args: string[]) =>
  asRoot ? run('runuser', ['-u', 'postgres', '--', join(pgBin ?? '', tool), ...args]) : run(join(pgBin ?? '', tool), args);

/** A PostgreSQL cluster of the test's own; `url` is its `postgres` database (trust auth on loopback). */
export class ThrowawayPostgres {
  #dir = '';
  #port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.#port}/postgres`;
  }

  async start(): Promise<this> {
    if (pgBin === null) throw new Error('no PostgreSQL server binaries');
    this.#dir = mkdtempSync(join(tmpdir(), 'nattevakt-pg-'));
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(this.#dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await pgCommand('initdb', ['-D', join(this.#dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    this.#port = await freePort();
    await this.#up();
    return this;
  }

  /** `pg_ctl stop -m fast`: open transactions are rolled back and every connection is closed. */
  async stop(): Promise<void> {
    if (this.#dir === '') return;
    await pgCommand('pg_ctl', ['-D', join(this.#dir, 'data'), '-m', 'fast', '-w', 'stop']).catch(() => undefined);
  }

  /** Stops it (fast), waits `downMs`, starts it again on the same port and data. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.#up();
  }

  async remove(): Promise<void> {
    await this.stop();
    if (this.#dir !== '') rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = '';
  }

  async #up(): Promise<void> {
    const options = `-p ${this.#port} -c listen_addresses=127.0.0.1 -k ${this.#dir} -c fsync=off -c full_page_writes=off -c max_connections=60`;
    await pgCommand('pg_ctl', ['-D', join(this.#dir, 'data'), '-o', options, '-l', join(this.#dir, 'log'), '-w', '-t', '30', 'start']);
  }
}
