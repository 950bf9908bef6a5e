import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Real time-series engines started from their Debian binaries on loopback ports: for the server's
 * tests, and for bench/src/ingest.ts through `@nattevakt/server/test-support/timeseries-servers`.
 */

export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin']) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** The binary's path; a missing binary fails under CI=true and is skipped loudly otherwise. */
export function requireBinary(name: string, debianPackage: string): string | undefined {
  const path = findBinary(name);
  if (path !== undefined) return path;
  const message = `${name} not found: install the Debian package "${debianPackage}" (.ci/run does)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`[timeseries] SKIPPING real-engine tests: ${message}`);
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export interface RunningEngine {
  url: string;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`engine not ready at ${url} after ${timeoutMs} ms:\n${output()}`);
}

async function start(binary: string, args: string[], dir: string, readyPath: string, port: number): Promise<RunningEngine> {
  let output = '';
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${url}${readyPath}`, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** VictoriaMetrics single-node with a temporary data dir. */
export async function startVictoriaMetrics(binary: string): Promise<RunningEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-vm-'));
  const port = await freePort();
  return start(
    binary,
    [`-storageDataPath=${join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', '-retentionPeriod=100y'],
    dir,
    '/health',
    port,
  );
}

/** InfluxDB 1.x (`influxd`) with temporary meta/data/wal dirs and no reporting. */
export async function startInfluxd(binary: string): Promise<RunningEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "error"
`,
  );
  return start(binary, ['-config', config], dir, '/ping', port);
}

/** Runs an InfluxQL statement against influxd 1.x (`CREATE DATABASE`, `SELECT`…). */
export async function influxql(url: string, q: string, db?: string): Promise<unknown> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db !== undefined) params.set('db', db);
  const response = await fetch(`${url}/query?${params}`, { method: 'POST', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`InfluxQL ${q}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * InfluxDB 1.6 (Debian's `influxdb`) has no `/api/v2/write`; this shim maps the v2 write the
 * client sends (`?org=&bucket=&precision=`) onto its v1 `/write?db=&precision=` (same line
 * protocol, gzip passed through) and proxies `/query` unchanged. Everything else is the real
 * engine: what the adapter writes is read back through real InfluxQL.
 */
export async function v2WriteShim(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const incoming = new URL(req.url ?? '/', 'http://shim');
      let path = `${incoming.pathname}${incoming.search}`;
      if (incoming.pathname === '/api/v2/write') {
        const params = new URLSearchParams({
          db: incoming.searchParams.get('bucket') ?? '',
          precision: incoming.searchParams.get('precision') ?? 'ns',
        });
        path = `/write?${params}`;
      }
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'content-encoding', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(`${target}${path}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) })
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.arrayBuffer());
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
          res.end(body);
        })
        .catch((error: Error) => {
          res.writeHead(502);
          res.end(error.message);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
