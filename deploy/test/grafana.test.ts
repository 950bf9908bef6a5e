/**
 * Grafana's provisioning and dashboards: every panel names a provisioned data source, and the
 * nurse-in-charge dashboard's SQL runs on a real PostgreSQL with the server's migrated schema, as
 * the read-only role that deploy/grafana makes (Grafana's macros expanded the way Grafana does),
 * with the numbers a nurse in charge would read off it. The role cannot read people or sessions.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRelationalStore } from '@nattevakt/server/stores/relational/database';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { insertAlarm } from './support/alarms.js';
import { deployDir } from './support/paths.js';
import { freshDatabase, hasPostgres, maintenance, maintenanceUrl } from './support/postgres.js';
import { requireProgram, run } from './support/processes.js';
import { readYaml } from './support/yaml.js';

interface Target {
  refId: string;
  datasource: { uid: string; type: string };
  rawSql?: string;
  expr?: string;
  query?: string;
}
interface Panel {
  id: number;
  title: string;
  datasource: { uid: string; type: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; datasource?: { uid: string }; query?: string }[] };
}

const dashboards = ['nurse-in-charge.json', 'operations.json'].map(
  (file) => JSON.parse(readFileSync(join(deployDir, 'grafana/dashboards', file), 'utf8')) as Dashboard,
);
const datasources = (
  readYaml(join(deployDir, 'grafana/provisioning/datasources/nattevakt.yaml'))[0] as { datasources: { uid: string; type: string }[] }
).datasources;

describe('Grafana provisioning', () => {
  it('every panel and query of both dashboards uses a provisioned data source of the same type', () => {
    const byUid = new Map(datasources.map((d) => [d.uid, d.type]));
    const problems: string[] = [];
    for (const dashboard of dashboards) {
      const ids = new Set<number>();
      for (const panel of dashboard.panels) {
        if (ids.has(panel.id)) problems.push(`${dashboard.uid}: panel id ${panel.id} twice`);
        ids.add(panel.id);
        if (panel.gridPos.x + panel.gridPos.w > 24) problems.push(`${dashboard.uid}/${panel.title}: wider than the grid`);
        for (const source of [panel.datasource, ...panel.targets.map((t) => t.datasource)]) {
          if (byUid.get(source.uid) !== source.type)
            problems.push(`${dashboard.uid}/${panel.title}: no ${source.type} data source ${source.uid}`);
        }
        if (panel.targets.length === 0) problems.push(`${dashboard.uid}/${panel.title}: no query`);
      }
    }
    expect(problems).toEqual([]);
    const provider = readYaml(join(deployDir, 'grafana/provisioning/dashboards/nattevakt.yaml'))[0] as {
      providers: { options: { path: string } }[];
    };
    expect(readFileSync(join(deployDir, 'compose.yaml'), 'utf8')).toContain(
      `./grafana/dashboards:${provider.providers[0]?.options.path}:ro`,
    );
  });

  it('the InfluxQL panel reads the measurement and field the server writes', () => {
    const influx = dashboards.flatMap((d) => d.panels.flatMap((p) => p.targets)).filter((t) => t.datasource.type === 'influxdb');
    expect(influx.length).toBeGreaterThan(0);
    for (const target of influx) expect(target.query).toMatch(/count\("event_id"\) FROM "sensor_event" .*GROUP BY time\(1h\), "kind"/);
  });

  it('the shell scripts of the PostgreSQL and InfluxDB initialisation are valid bash', async () => {
    for (const script of ['grafana/postgres-grafana-reader.sh', 'influxdb/init-dbrp.sh']) {
      const check = run('bash', ['-n', join(deployDir, script)]);
      expect(await check.exited, check.lines.join('\n')).toBe(0);
    }
  });
});

/** Grafana's PostgreSQL macros, expanded as Grafana expands them for a dashboard time range. */
function expand(rawSql: string, from: Date, to: Date): string {
  return rawSql
    .replace(/\$__timeFilter\(([^()]*(?:\([^()]*\))?[^()]*)\)/g, `$1 BETWEEN '${from.toISOString()}' AND '${to.toISOString()}'`)
    .replace(/\$__timeGroupAlias\(([^,]+), 1h\)/g, 'floor(extract(epoch from $1)/3600)*3600 AS "time"')
    .replace(/\$\{site:sqlstring\}/g, "'example-site'");
}

const hasPsql = requireProgram('psql', 'apt-get install postgresql-client');

describe.skipIf(!hasPostgres || !hasPsql)('the nurse-in-charge dashboard on PostgreSQL', () => {
  it('runs every query as the read-only role, with the numbers of the night', async () => {
    const database = await freshDatabase();
    const reader = `grafana_reader_${randomBytes(4).toString('hex')}`;
    const db = await openRelationalStore(database.url);
    try {
      const now = Date.now();
      const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
      await insertAlarm(db, {
        id: 'a1',
        seq: 1,
        receivedAt: at(3000),
        acknowledgedAt: at(2970),
        resolvedAt: at(2900),
        status: 'resolved',
        outcome: 'attended',
      });
      await insertAlarm(db, {
        id: 'a2',
        seq: 2,
        priority: 'medium',
        rule: 'out-of-bed-too-long',
        receivedAt: at(2000),
        acknowledgedAt: at(1910),
        status: 'acknowledged',
        escalationLevel: 1,
      });
      await insertAlarm(db, { id: 'a3', seq: 3, receivedAt: at(60) });
      await insertAlarm(db, {
        id: 'a4',
        seq: 4,
        priority: 'technical',
        rule: 'low-battery',
        receivedAt: at(1000),
        acknowledgedAt: at(400),
        resolvedAt: at(300),
        status: 'resolved',
        outcome: 'fixed',
      });
      await db.destroy();

      const url = new URL(database.url);
      const role = run('bash', [join(deployDir, 'grafana/postgres-grafana-reader.sh')], {
        env: {
          ...process.env,
          PGHOST: url.hostname,
          PGPORT: url.port,
          POSTGRES_USER: url.username,
          POSTGRES_DB: url.pathname.slice(1),
          GRAFANA_DB_USER: reader,
          GRAFANA_DB_PASSWORD: 'not-used-with-trust-auth',
        },
      });
      expect(await role.exited, role.lines.join('\n')).toBe(0);
      const grant = run('psql', [database.url, '-v', `reader=${reader}`, '-f', join(deployDir, 'grafana/grant-grafana-reader.sql')]);
      expect(await grant.exited, grant.lines.join('\n')).toBe(0);

      const readerUrl = new URL(database.url);
      readerUrl.username = reader;
      const client = new pg.Client({ connectionString: readerUrl.toString() });
      await client.connect();
      try {
        const nurse = dashboards[0] as Dashboard;
        const results = new Map<string, Record<string, unknown>[]>();
        for (const panel of nurse.panels) {
          for (const target of panel.targets.filter((t) => t.rawSql !== undefined)) {
            const query = expand(target.rawSql as string, new Date(now - 12 * 3600_000), new Date(now));
            const result = await client.query(query).catch((error: Error) => {
              throw new Error(`${panel.title}: ${error.message}\n${query}`);
            });
            results.set(panel.title, result.rows);
          }
        }
        expect(Number(results.get('Open alarms now')?.[0]?.open)).toBe(2);
        expect(Number(results.get('Waiting for a nurse')?.[0]?.waiting)).toBe(1);
        // Care alarms only: 30 s and 90 s; the technician's 600 s does not count.
        expect(Number(results.get('Median response time')?.[0]?.median)).toBeCloseTo(60, 3);
        expect(Number(results.get('Escalated alarms')?.[0]?.escalated)).toBe(1);
        expect(results.get('Open alarms')?.map((r) => r.Rule)).toEqual(['out-of-bed-too-long', 'door-open-at-night']);
        const variable = nurse.templating.list.find((v) => v.name === 'site');
        expect((await client.query(variable?.query as string)).rows).toEqual([{ site_id: 'example-site' }]);
        // Nothing about people, sessions, tokens or plans.
        for (const table of ['users', 'sessions', 'gateways', 'sites']) {
          await expect(client.query(`select * from ${table}`)).rejects.toThrow(/permission denied/);
        }
      } finally {
        await client.end();
      }
    } finally {
      await db.destroy().catch(() => {});
      await database.drop();
      await maintenance((c) => c.query(`drop role if exists ${reader}`), maintenanceUrl);
    }
  });
});
