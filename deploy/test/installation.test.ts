/**
 * The compose installation's moving parts, run for real on this machine without Docker: two server
 * instances on one PostgreSQL and one Redis, HAProxy with deploy/loadbalancer/haproxy.cfg in front
 * (only the addresses changed), and the example site's gateway enrolled with a token and reaching
 * the servers through HAProxy's internal port. The documented commands are run as documented: the
 * health check of the images, the enrolment with --seed-site/--gateway-token, and the metrics that
 * the Grafana dashboards and Prometheus alerts read.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployDir, repoRoot } from './support/paths.js';
import { freshDatabase, hasPostgres } from './support/postgres.js';
import { freePort, type Running, requireProgram, run } from './support/processes.js';
import { requireService, waitForHttp } from './support/services.js';
import { readYaml } from './support/yaml.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);
const hasHaproxy = requireProgram('haproxy', 'apt-get install haproxy');
const hasOpenssl = requireProgram('openssl', 'apt-get install openssl');
const ready = hasPostgres && hasRedis && hasHaproxy && hasOpenssl;

const healthcheck = join(deployDir, 'docker/healthcheck.mjs');
const token = `gateway-${randomBytes(12).toString('hex')}`;

describe.skipIf(!ready)('a full installation on this machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-installation-'));
  const processes: Running[] = [];
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  const ports = { server1: 0, server2: 0, http: 0, https: 0, internal: 0, gatewayHealth: 0 };
  let ca = '';

  beforeAll(async () => {
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    database = await freshDatabase();
    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `deploy-${randomBytes(4).toString('hex')}:`,
    };
    const server = (n: 1 | 2, extra: string[]) => {
      const port = n === 1 ? ports.server1 : ports.server2;
      const args = ['--host', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, `server-${n}`), ...extra];
      const p = run(process.execPath, [join(repoRoot, 'server/dist/src/main.js'), ...args], { env });
      processes.push(p);
      return waitForHttp(`http://127.0.0.1:${port}/api/health`).catch((error: Error) => {
        throw new Error(`${error.message}\nserver-${n} said:\n${p.lines.slice(-20).join('\n')}`);
      });
    };
    // Enrolment as deploy/README.md documents it: the site and its gateway token, with the first instance.
    await server(1, ['--seed-site', join(deployDir, 'sites/example-site.json'), '--gateway-token', token]);
    await server(2, []);

    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    writeFileSync(join(dir, 'nattevakt.pem'), ca + readFileSync(join(dir, 'key.pem'), 'utf8'));
    writeFileSync(join(dir, 'haproxy.cfg'), localHaproxyConfig(readFileSync(join(deployDir, 'loadbalancer/haproxy.cfg'), 'utf8')));
    const haproxy = run('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
    processes.push(haproxy);
    await waitForHttp(`http://127.0.0.1:${ports.internal}/api/health`).catch((error: Error) => {
      throw new Error(`${error.message}\nHAProxy said:\n${haproxy.lines.slice(-20).join('\n')}`);
    });

    const gatewayConfig = JSON.parse(readFileSync(join(deployDir, 'gateway/gateway.json'), 'utf8'));
    gatewayConfig.mqtt.host = '127.0.0.1';
    gatewayConfig.mqtt.port = 0;
    gatewayConfig.stateDir = join(dir, 'gateway-state');
    gatewayConfig.http = { host: '127.0.0.1', port: ports.gatewayHealth };
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(gatewayConfig));
    const gateway = run(process.execPath, [join(repoRoot, 'gateway/dist/src/main.js'), '--config', join(dir, 'gateway.json')], {
      env: { ...process.env, NATTEVAKT_SERVER_URL: `http://127.0.0.1:${ports.internal}`, NATTEVAKT_GATEWAY_TOKEN: token },
    });
    processes.push(gateway);
    await waitForHttp(`http://127.0.0.1:${ports.gatewayHealth}/health`).catch((error: Error) => {
      throw new Error(`${error.message}\nthe gateway said:\n${gateway.lines.slice(-20).join('\n')}`);
    });
  }, 90_000);

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop('SIGTERM');
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** deploy/loadbalancer/haproxy.cfg with local addresses: ports, certificate, and the servers without Docker's DNS. */
  function localHaproxyConfig(text: string): string {
    const replaced = text
      .replace(/^resolvers docker\n( {2}.*\n)+/m, '')
      .replace(' resolvers docker', '')
      // This machine's file limit is lower than a container's: HAProxy needs about 2 per connection.
      .replace('maxconn 20000', 'maxconn 2000')
      .replace('bind :8000', `bind 127.0.0.1:${ports.http}`)
      .replace(/bind :8443 ssl crt \S+/, `bind 127.0.0.1:${ports.https} ssl crt ${join(dir, 'nattevakt.pem')}`)
      .replace('bind :8080', `bind 127.0.0.1:${ports.internal}`)
      .replace('server-1:8080', `127.0.0.1:${ports.server1}`)
      .replace('server-2:8080', `127.0.0.1:${ports.server2}`);
    expect(replaced).not.toMatch(/server-\d:8080|127\.0\.0\.11|bind :/);
    return replaced;
  }

  const healthcheckRun = async (url: string) => {
    const check = run(process.execPath, [healthcheck, url]);
    return { code: await check.exited, output: check.lines.join('\n') };
  };

  it('the images’ health check passes on both servers (database and Redis up) and the gateway, and fails on a dead port', async () => {
    for (const port of [ports.server1, ports.server2]) {
      const { code, output } = await healthcheckRun(`http://127.0.0.1:${port}/api/health`);
      expect(code, output).toBe(0);
      expect(JSON.parse(output)).toMatchObject({ status: 'ok', database: true, redis: true });
    }
    const gateway = await healthcheckRun(`http://127.0.0.1:${ports.gatewayHealth}/health`);
    expect(gateway.code, gateway.output).toBe(0);
    const dead = await healthcheckRun(`http://127.0.0.1:${await freePort()}/api/health`);
    expect(dead.code).toBe(1);
    expect(dead.output).toMatch(/^unhealthy: /);
  });

  it('answers the Kubernetes liveness path', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.server1}/api/health/live`);
    expect(response.status).toBe(200);
  });

  it('HAProxy accepts the configuration, redirects http to https, and serves the servers over TLS with the sticky cookie', async () => {
    execFileSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')]);
    // The shipped file itself, with Docker's DNS and all: only the certificate path and the connection limit differ.
    const shipped = readFileSync(join(deployDir, 'loadbalancer/haproxy.cfg'), 'utf8')
      .replace('/usr/local/etc/haproxy/certs/nattevakt.pem', join(dir, 'nattevakt.pem'))
      .replace('maxconn 20000', 'maxconn 2000');
    writeFileSync(join(dir, 'haproxy-shipped.cfg'), shipped);
    const check = run('haproxy', ['-c', '-f', join(dir, 'haproxy-shipped.cfg')]);
    expect(await check.exited, check.lines.join('\n')).toBe(0);
    // Outside Docker the names server-1 and server-2 do not resolve: that, and nothing else, is warned about.
    expect(check.lines.filter((l) => /\[(WARNING|ALERT)\]/.test(l) && !/could not resolve address 'server-[12]'/.test(l))).toEqual([]);
    const redirect = await fetch(`http://127.0.0.1:${ports.http}/api/health`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toMatch(/^https:\/\//);
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: ports.https, path: '/api/health', ca, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.once('error', reject);
        req.end();
      },
    );
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
    expect(String(headers['set-cookie'])).toMatch(/^NV_SERVER=s[12]; path=\/; HttpOnly; Secure; SameSite=Strict/i);
    expect(String(headers['strict-transport-security'])).toMatch(/max-age=/);
  });

  it('keeps a Socket.IO long-polling session on one instance with the cookie (and loses it without)', async () => {
    const base = `http://127.0.0.1:${ports.internal}/socket.io/?EIO=4&transport=polling`;
    const session = async (withCookie: boolean) => {
      const handshake = await fetch(base);
      const sid = JSON.parse((await handshake.text()).slice(1)).sid as string;
      const cookie = (handshake.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const headers: Record<string, string> = withCookie ? { cookie } : {};
      const statuses: number[] = [];
      for (const body of ['40', '41', '40', '41']) {
        const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { ...headers, 'content-type': 'text/plain' } });
        statuses.push(post.status);
        await post.text();
      }
      return { cookie, statuses };
    };
    const sticky = await session(true);
    expect(sticky.cookie).toMatch(/^NV_SERVER=s[12]$/);
    expect(sticky.statuses).toEqual([200, 200, 200, 200]);
    // Round robin without the cookie: every other request reaches the instance that never saw the session.
    const loose = await session(false);
    expect(loose.statuses).toContain(400);
  });

  it('upgrades to WebSocket through HAProxy’s TLS frontend', async () => {
    const socket = io(`https://localhost:${ports.https}`, { transports: ['websocket'], ca, reconnection: false, timeout: 5000 });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      expect(socket.io.engine.transport.name).toBe('websocket');
    } finally {
      socket.close();
    }
  });

  it('the enrolled gateway reaches the servers through HAProxy with its token', async () => {
    const deadline = Date.now() + 15_000;
    let health: { uplinkConnected?: boolean; siteId?: string } = {};
    while (Date.now() < deadline && health.uplinkConnected !== true) {
      health = (await (await fetch(`http://127.0.0.1:${ports.gatewayHealth}/health`)).json()) as typeof health;
      if (health.uplinkConnected !== true) await new Promise((r) => setTimeout(r, 250));
    }
    expect(health).toMatchObject({ siteId: 'example-site', uplinkConnected: true });
    const connected = await Promise.all(
      [ports.server1, ports.server2].map(
        async (port) =>
          ((await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as { gatewaysConnected: number }).gatewaysConnected,
      ),
    );
    expect(connected.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('every metric the dashboards, alerts and Prometheus jobs name is one the servers and the gateway really export', async () => {
    const exported = new Set<string>();
    for (const url of [`http://127.0.0.1:${ports.server1}/metrics`, `http://127.0.0.1:${ports.gatewayHealth}/metrics`]) {
      const text = await (await fetch(url)).text();
      for (const [, name] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) exported.add(name as string);
    }
    const texts = [
      readFileSync(join(deployDir, 'grafana/dashboards/operations.json'), 'utf8'),
      readFileSync(join(deployDir, 'grafana/dashboards/nurse-in-charge.json'), 'utf8'),
      readFileSync(join(deployDir, 'prometheus/alerts.yml'), 'utf8'),
    ];
    const named = new Set(texts.flatMap((t) => [...t.matchAll(/\bnattevakt_[a-z_0-9]+/g)].map((m) => m[0])));
    const missing = [...named].filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(named.size).toBeGreaterThan(15);
    expect(missing).toEqual([]);

    const prometheus = readYaml(join(deployDir, 'prometheus/prometheus.yml'))[0] as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]));
    expect(jobs['nattevakt-server']).toEqual(['server-1:8080', 'server-2:8080']);
    expect(jobs['nattevakt-gateway']).toEqual(['gateway:9101']);
    for (const text of texts) for (const [, job] of text.matchAll(/job=\\?"([^"\\]+)\\?"/g)) expect(Object.keys(jobs)).toContain(job);
  });
});
