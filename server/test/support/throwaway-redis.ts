/**
 * A `redis-server` of the test's own on an ephemeral loopback port, without persistence, so a
 * test can kill it and start it again without touching the machine's Redis: the server's Redis
 * outage tests, and the e2e process-level tests (e2e/test/support/services.ts, through
 * `@nattevakt/server/test-support/throwaway-redis`). Without redis-server the suites that need it
 * fail when `CI=true`, and otherwise are skipped with a loud warning.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path)) ?? null;
if (redisBin === null) {
  const message = 'redis-server is not installed (apt-get install redis-server)';
  if (process.env.CI === 'true') throw new Error(`${message}: the Redis outage tests must run in CI`);
  console.warn(`\n*** ${message}: SKIPPING the Redis outage tests. ***\n`);
}

/** Whether a throwaway Redis can be started. */
export const redisServerAvailable = redisBin !== null;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', done);
  });
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** A `redis-server` of the test's own, without persistence: a restart loses every stream and key, as a crash would. */
export class ThrowawayRedis {
  #child: ChildProcess | null = null;
  #port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<this> {
    this.#port = await freePort();
    await this.#up();
    return this;
  }

  /** Kills it (-9), as a crash would. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills it (-9), waits `downMs`, starts it again, empty, on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.#up();
  }

  async #up(): Promise<void> {
    if (redisBin === null) throw new Error('no redis-server');
    const child = spawn(redisBin, ['--port', String(this.#port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    await new Promise<void>((done, fail) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`redis-server did not start:\n${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          done();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  }
}
