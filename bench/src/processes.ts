/**
 * What the benchmarks share: the built server and gateway as separate processes on free
 * loopback ports, health polling, Prometheus scraping, process memory, percentiles.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (bench/dist/src/ → three levels up). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

export async function waitHealthy(url: string, child?: ChildProcess, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`process exited (code ${child.exitCode}) before ${url} answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became healthy`);
}

/**
 * `BENCH_CPU_PROF=<dir>`: every process the bench starts writes a V8 CPU profile there when it
 * exits (`node --cpu-prof`, which NODE_OPTIONS does not allow); `node bench/dist/src/cpu-profile.js <dir>` sums them up.
 */
const profileArgs = process.env.BENCH_CPU_PROF
  ? [
      '--cpu-prof',
      `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`,
      ...(process.env.BENCH_CPU_PROF_INTERVAL ? [`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL}`] : []),
    ]
  : [];

/** Starts `node <args>` in the checkout; the caller keeps the handle to stop it. */
export function startNode(args: string[], options: { nodeArgs?: string[]; stdio?: SpawnOptions['stdio'] } = {}): ChildProcess {
  return spawn(process.execPath, [...profileArgs, ...(options.nodeArgs ?? []), ...args], {
    cwd: root,
    stdio: options.stdio ?? ['ignore', 'ignore', 'inherit'],
  });
}

/** The built server with a seeded site and the gateway's token. */
export function serverArgs(options: { port: number; dataDir: string; wardFile: string; token: string }): string[] {
  return [
    'server/dist/src/main.js',
    '--port',
    String(options.port),
    '--data-dir',
    options.dataDir,
    '--seed-site',
    options.wardFile,
    '--gateway-token',
    options.token,
  ];
}

/**
 * The built server with the site seeded and its demo users (`--seed-demo-users` prints their
 * one-time passwords on stderr), logged in as the demo nurse: the process and her session cookie.
 */
export async function startServerAsNurse(options: {
  port: number;
  dataDir: string;
  wardFile: string;
  token: string;
}): Promise<{ server: ChildProcess; cookie: string }> {
  const server = startNode([...serverArgs(options), '--seed-demo-users'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let seen = '';
  const nursePassword = new Promise<string>((resolve) => {
    server.stderr?.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-16_384);
      const match = /\[demo-login\]\s+sykepleier\s+(\S+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitHealthy(`${url}/api/health`, server);
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username: 'sykepleier', password: await nursePassword }),
  });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('nattevakt_session='))
    ?.split(';', 1)[0];
  if (!login.ok || cookie === undefined) throw new Error(`cannot log in as the demo nurse: ${login.status}`);
  return { server, cookie };
}

/** A gateway configuration object (embedded broker on loopback). */
export function gatewayConfig(options: {
  siteId: string;
  mqttPort: number;
  healthPort: number;
  stateDir: string;
  wardFile: string;
  clock: 'system' | 'simulated';
  server: { url: string; token: string } | null;
  /** The gateway's local alarm feed (`/local` on its health port), read with this token. */
  localFeedToken?: string;
  /** External-broker mode: the gateway is a client of this broker (the site's own), not a broker on `mqttPort`. */
  siteBroker?: { url: string; clientId: string };
}): object {
  return {
    ...(options.localFeedToken === undefined ? {} : { localFeed: { token: options.localFeedToken, allowedOrigins: [] } }),
    version: 1,
    siteId: options.siteId,
    mqtt: options.siteBroker ? { mode: 'external', external: options.siteBroker } : { port: options.mqttPort },
    http: { port: options.healthPort },
    server: options.server,
    stateDir: options.stateDir,
    clock: options.clock,
    siteConfigFile: options.wardFile,
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Sum of a Prometheus counter or gauge over all its label sets, from a /metrics text. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** GET a text; retried, because a kept-alive connection the server just closed fails once (ECONNRESET). */
export async function scrape(url: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(url)).text();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Resident and peak resident memory of a process in MB (Linux /proc). */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** A command-line option that must be a whole number ≥ 1 (`--name`), or a clear error. */
export function wholeOption(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1, not "${text}"`);
  return n;
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export const machine = () => `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
