/**
 * The built server and gateway as real child processes, for fault tests: each in its own process
 * group on ephemeral loopback ports, killed with any signal, restarted on the same port and
 * state, and always torn down. Also a TCP proxy that can cut a link.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthService } from '@nattevakt/server/auth/auth-service';
import { openRelationalStore } from '@nattevakt/server/stores/relational/database';
import { loginOverHttp, PASSWORD } from './stack.js';

/** The checkout the tests run in. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A free TCP port on loopback (bind 0, read it, release it). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', done);
  });
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

const LOG_TAIL_BYTES = 16 * 1024;

/** One child process: its own process group, the tail of its output kept for failure messages. */
export class Child {
  readonly #child: ChildProcess;
  #tail = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    args: string[],
  ) {
    // detached: a new process group, so a group kill reaches anything it may start, and a
    // Ctrl+C to vitest does not hit it before afterEach does.
    this.#child = spawn(process.execPath, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.#tail = (this.#tail + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.exited = new Promise((done) => this.#child.once('exit', (code, signal) => done({ code, signal })));
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines it wrote (stdout and stderr interleaved). */
  get output(): string {
    return this.#tail;
  }

  /** Sends a signal to the whole process group and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.#signal(signal);
    const late = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(late);
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }
}

/** Every child a test started, so afterEach can end them all, whatever the test did. */
export class Children {
  readonly #all = new Set<Child>();

  start(name: string, args: string[]): Child {
    const child = new Child(name, args);
    this.#all.add(child);
    void child.exited.then(() => this.#all.delete(child));
    return child;
  }

  /** SIGTERM to each, SIGKILL to any still there after a grace period. */
  async stopAll(graceMs = 3_000): Promise<void> {
    await Promise.all([...this.#all].map((child) => child.kill('SIGTERM', graceMs)));
  }
}

/** Polls `url` until it answers 2xx; fails early with the child's output if the child exits. */
export async function waitHealthy(url: string, child: Child, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited before ${url} answered:\n${child.output}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`${child.name}: ${url} did not answer within ${ms} ms:\n${child.output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const file of ['server/dist/src/main.js', 'gateway/dist/src/main.js']) {
  if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run "npx tsc -b" first`);
}

export interface ServerOptions {
  port: number;
  dataDir: string;
  wardFile: string;
  token: string;
}

/** The built server, seeded with the ward and the gateway's token; resolves when it is healthy. */
export async function startServer(children: Children, options: ServerOptions): Promise<Child> {
  const child = children.start('server', [
    'server/dist/src/main.js',
    '--port',
    String(options.port),
    '--data-dir',
    options.dataDir,
    '--seed-site',
    options.wardFile,
    '--gateway-token',
    options.token,
  ]);
  await waitHealthy(`http://127.0.0.1:${options.port}/api/health`, child);
  return child;
}

/**
 * A nurse of every seeded site, created in the server's SQLite file through the service (the
 * server process shares it), logged in over HTTP: the `Cookie` header value.
 */
export async function loginToServer(httpUrl: string, dataDir: string): Promise<string> {
  const db = await openRelationalStore(join(dataDir, 'nattevakt.db'));
  try {
    const sites = await db.selectFrom('sites').select('id').execute();
    await new AuthService(db).upsertUser({
      username: 'e2e-nurse',
      displayName: 'E2E Nurse',
      role: 'nurse',
      password: PASSWORD,
      sites: sites.map((s) => s.id),
    });
  } finally {
    await db.destroy();
  }
  return loginOverHttp(httpUrl, 'e2e-nurse', PASSWORD);
}

export interface GatewayOptions {
  siteId: string;
  mqttPort: number;
  healthPort: number;
  serverUrl: string;
  token: string;
  stateDir: string;
  wardFile: string;
}

/** Writes the gateway's configuration file (simulated clock) and returns its path. */
export function writeGatewayConfig(file: string, options: GatewayOptions): string {
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      siteId: options.siteId,
      mqtt: { host: '127.0.0.1', port: options.mqttPort },
      http: { host: '127.0.0.1', port: options.healthPort },
      server: { url: options.serverUrl, token: options.token },
      stateDir: options.stateDir,
      clock: 'simulated',
      siteConfigFile: options.wardFile,
    }),
  );
  return file;
}

/** The built gateway with a configuration file; resolves when its health endpoint answers. */
export async function startGateway(children: Children, configFile: string, healthPort: number): Promise<Child> {
  const child = children.start('gateway', ['gateway/dist/src/main.js', '--config', configFile]);
  await waitHealthy(`http://127.0.0.1:${healthPort}/health`, child);
  return child;
}

/**
 * A TCP proxy on loopback that can cut the link: `cut()` drops every connection and stops
 * listening (new connections are refused), `restore()` listens on the same port again.
 */
export class TcpProxy {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(readonly targetPort: number) {}

  get port(): number {
    return this.#port;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((client) => {
      const upstream = new Socket();
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.connect(this.targetPort, '127.0.0.1');
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', done);
    });
    this.#server = server;
    this.#port = (server.address() as { port: number }).port;
    return this;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  async restore(): Promise<void> {
    await this.start(this.#port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
