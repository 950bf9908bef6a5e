/**
 * Hostile HTTP input against a real server: every route of the OpenAPI document (so a route added
 * tomorrow is fuzzed too), with hostile path parameters, queries and bodies — malformed JSON, wrong
 * types, unicode, deep nesting, oversize, unknown fields — through app.inject for speed and over a
 * real socket, plus raw bytes that are not HTTP at all. Never a 5xx, every refusal a JSON
 * `{ error }` that leaks no internals and is counted (nattevakt_server_http_refused_requests_total),
 * and afterwards every stored site configuration is still valid. Authorization probes: a nurse of
 * one site asking for another site, a relative asking for another resident.
 */
import { connect } from 'node:net';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginOverHttp, PASSWORD } from '../support/stack.js';
import { counter, type FuzzStack, fcOptions, OTHER_SITE, RUNS, SITE, startFuzzStack } from './harness.js';

interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  pathParams: string[];
  query: Record<string, JsonSchema>;
  body: JsonSchema | null;
}
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
};

/** Real ids of the fuzz site, so some requests get past the 404s into the handlers. */
const REAL: Record<string, string[]> = {
  siteId: [SITE, OTHER_SITE],
  residentId: ['res-1', 'res-7', 'res-99'],
  roomId: ['room-1', 'room-12'],
  sensorId: ['door-1', 'bed-7', 'door-z'],
  username: ['fuzz-relative', 'fuzz-admin'],
  night: ['2026-11-24'],
  id: ['00000000-0000-0000-0000-000000000000'],
};

const hostileText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../etc/passwd',
    "' OR 1=1 --",
    '"; DROP TABLE alarms; --',
    '%00',
    '\u0000',
    '<script>alert(1)</script>',
    '𝕹𝖆𝖙𝖙𝖊𝖛𝖆𝖐𝖙',
    'ÆØÅ æøå',
    '-1',
    '1e309',
    'NaN',
    'null',
    'true',
    '[]',
    '{}',
    '2026-02-30',
    '9999-12-31T23:59:59Z',
  ),
  fc.integer().map(String),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** A value for a JSON-schema'd field: right type or wrong, in range or not. */
const valueFor = (schema: JsonSchema | undefined): fc.Arbitrary<unknown> => {
  const anything = fc.oneof(hostileText, fc.anything({ maxDepth: 3 }), fc.constant(null));
  if (schema === undefined) return anything;
  const types = schema.enum ? [] : Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const right: fc.Arbitrary<unknown>[] = [];
  if (schema.enum) right.push(fc.constantFrom(...schema.enum));
  if (schema.const !== undefined) right.push(fc.constant(schema.const));
  for (const type of types) {
    if (type === 'string')
      right.push(fc.string({ maxLength: 30 }), fc.constantFrom('2026-11-24', '2026-11-24T03:00:00Z', 'res-1', 'door-1'));
    if (type === 'integer' || type === 'number') right.push(fc.integer({ min: -5, max: 5000 }), fc.double());
    if (type === 'boolean') right.push(fc.boolean());
    if (type === 'array') right.push(fc.array(anything, { maxLength: 4 }));
    if (type === 'object') right.push(objectFor(schema, 1));
  }
  for (const option of schema.anyOf ?? []) right.push(valueFor(option));
  return right.length === 0 ? anything : fc.oneof({ arbitrary: fc.oneof(...right), weight: 3 }, { arbitrary: anything, weight: 1 });
};

/** An object shaped like the schema (some fields right, some wrong, some missing, some unknown). */
function objectFor(schema: JsonSchema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.entries(schema.properties ?? {});
  if (depth > 1 || properties.length === 0)
    return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  return fc
    .tuple(
      fc.record(Object.fromEntries(properties.map(([name, property]) => [name, valueFor(property)])), { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
    )
    .map(([known, extra]) => ({ ...extra, ...known }));
}

/** What goes in the body: JSON shaped like the schema, any JSON, broken JSON, deep, huge, not JSON. */
const bodyFor = (schema: JsonSchema | null): fc.Arbitrary<{ payload: string; contentType: string }> => {
  const json = (a: fc.Arbitrary<unknown>) => a.map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' }));
  return fc.oneof(
    { arbitrary: json(schema ? objectFor(schema) : fc.jsonValue({ maxDepth: 3 })), weight: 4 },
    { arbitrary: json(fc.jsonValue({ maxDepth: 5 })), weight: 2 },
    {
      arbitrary: fc
        .integer({ min: 100, max: 20_000 })
        .map((n) => ({ payload: `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`, contentType: 'application/json' })),
      weight: 1,
    },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ payload: s, contentType: 'application/json' })), weight: 1 },
    { arbitrary: fc.constant({ payload: `{"a":"${'x'.repeat(70 * 1024)}"}`, contentType: 'application/json' }), weight: 1 }, // over the 64 KiB body limit
    {
      arbitrary: fc
        .constantFrom('text/plain', 'application/xml', 'multipart/form-data')
        .map((contentType) => ({ payload: '<a>1</a>', contentType })),
      weight: 1,
    },
  );
};

const request = (operations: Operation[]) =>
  fc.constantFrom(...operations).chain((op) =>
    fc.record({
      op: fc.constant(op),
      params: fc.tuple(
        ...op.pathParams.map((name) =>
          fc.oneof({ arbitrary: fc.constantFrom(...(REAL[name] ?? ['x'])), weight: 2 }, { arbitrary: hostileText, weight: 1 }),
        ),
      ),
      query: fc.tuple(
        fc.record(Object.fromEntries(Object.entries(op.query).map(([name, schema]) => [name, valueFor(schema)])), { requiredKeys: [] }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 2 }),
      ),
      body:
        op.body || op.method !== 'GET'
          ? bodyFor(op.body).map((b) => b as { payload: string; contentType: string } | null)
          : fc.constant(null),
    }),
  );

type Request = {
  op: Operation;
  params: string[];
  query: [Record<string, unknown>, Record<string, string>];
  body: { payload: string; contentType: string } | null;
};

function urlOf(r: Request): string {
  let i = 0;
  const path = r.op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.params[i++] ?? ''));
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...r.query[1], ...r.query[0] }))
    search.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

const leak = /node_modules|at [A-Za-z.<>]+ \(|\/work\/|SQLITE_|sqlite|TypeError|ReferenceError|stack/i;

describe('hostile HTTP input against a real server', () => {
  let stack: FuzzStack;
  let operations: Operation[];
  const cookies: Record<string, string> = {};
  const tally: Record<string, number> = {};

  beforeAll(async () => {
    stack = await startFuzzStack();
    const auth = stack.server.auth;
    await auth.upsertUser({ username: 'fuzz-admin', displayName: 'Admin', role: 'admin', password: PASSWORD, sites: [SITE, OTHER_SITE] });
    await auth.upsertUser({ username: 'fuzz-other-nurse', displayName: 'Other', role: 'nurse', password: PASSWORD, sites: [OTHER_SITE] });
    await auth.upsertUser({ username: 'fuzz-relative', displayName: 'Datter', role: 'relative', password: PASSWORD, sites: [SITE] });
    for (const user of ['fuzz-admin', 'fuzz-other-nurse', 'fuzz-relative'])
      cookies[user] = await loginOverHttp(stack.httpUrl, user, PASSWORD);
    const document = (
      await stack.server.app.inject({ url: '/api/openapi.json', headers: { cookie: cookies['fuzz-admin'] ?? '' } })
    ).json() as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters: { name: string; in: string; schema: JsonSchema }[];
            requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
          }
        >
      >;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase() as Operation['method'],
        path,
        pathParams: op.parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
        body: op.requestBody?.content['application/json'].schema ?? null,
      })),
    );
    // Logging out would end the fuzzer's own session; everything else is fair game.
    operations = operations.filter((op) => op.path !== '/api/auth/logout');
    expect(operations.length, 'routes in the OpenAPI document').toBeGreaterThan(30);
  });
  afterAll(async () => {
    process.stderr.write(`[fuzz http] ${operations?.length} operations; statuses ${JSON.stringify(tally)}\n`);
    await stack?.stop();
  });

  /** Sends one request as `user` through inject; checks the answer; returns the status. */
  async function send(r: Request, user = 'fuzz-admin'): Promise<number> {
    const url = urlOf(r);
    const response = await stack.server.app.inject({
      method: r.op.method,
      url,
      headers: {
        cookie: cookies[user] ?? '',
        'x-nattevakt': '1',
        ...(r.body ? { 'content-type': r.body.contentType } : {}),
      },
      ...(r.body ? { payload: r.body.payload } : {}),
    });
    tally[response.statusCode] = (tally[response.statusCode] ?? 0) + 1;
    const what = `${r.op.method} ${url.slice(0, 200)} → ${response.statusCode} ${response.body.slice(0, 200)}`;
    const health = r.op.path.startsWith('/api/health');
    expect(response.statusCode >= 500 && !(health && response.statusCode === 503), what).toBe(false);
    if (response.statusCode >= 400) {
      const body = response.json() as { error?: unknown };
      expect(typeof body.error === 'string' && body.error.length > 0, `${what}: a refusal says why`).toBe(true);
      expect(leak.test(String(body.error)), `${what}: leaks internals`).toBe(false);
    }
    return response.statusCode;
  }

  it('every route, hostile path, query and body: never a 5xx, every refusal a JSON error, counted', async () => {
    await fc.assert(
      fc.asyncProperty(request(operations), async (r) => {
        const before = await counter(stack.server.metrics.httpRefused);
        const status = await send(r);
        // onResponse runs once the response is written, which may be just after inject resolves.
        const expected = status >= 400 ? 1 : 0;
        let counted = 0;
        for (let i = 0; i < 50; i++) {
          counted = (await counter(stack.server.metrics.httpRefused)) - before;
          if (counted >= expected) break;
          await new Promise((done) => setTimeout(done, 10));
        }
        expect(counted, `${r.op.method} ${r.op.path} → ${status}: counted`).toBe(expected);
      }),
      fcOptions(Math.max(RUNS * 5, 100)),
    );
    // The server still answers, and what it stores is still valid.
    expect((await stack.server.app.inject({ url: '/api/health/live' })).statusCode).toBe(200);
    for (const config of stack.server.sites.list()) {
      const checked = checkSiteConfig(config);
      expect(checked.ok ? [] : checked.errors, `site ${config.site.id} as stored`).toEqual([]);
    }
  });

  it('a nurse of one site gets nothing of another site, a relative nothing of another resident', async () => {
    const admin = (method: string, url: string, payload?: object) =>
      stack.server.app.inject({
        method: method as 'PUT',
        url,
        headers: { cookie: cookies['fuzz-admin'] ?? '', 'x-nattevakt': '1' },
        ...(payload ? { payload } : {}),
      });
    expect((await admin('PUT', `/api/sites/${SITE}/residents/res-1/relatives/fuzz-relative`)).statusCode).toBe(200);
    expect(
      (await admin('POST', `/api/sites/${SITE}/residents/res-1/sharing-consent`, { givenBy: 'resident', givenOn: '2026-11-20' }))
        .statusCode,
    ).toBe(200);

    const as = async (user: string, url: string) =>
      (await stack.server.app.inject({ url, headers: { cookie: cookies[user] ?? '' } })).statusCode;
    // Every GET of the other site, with real ids, for the nurse of OTHER_SITE.
    const probes = operations
      .filter((op) => op.method === 'GET' && op.pathParams.includes('siteId'))
      .map((op) => op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'siteId' ? SITE : (REAL[name]?.[0] ?? 'x'))));
    probes.push(`/api/alarms/open?site=${SITE}`, `/api/alarms/changes?since=0&site=${SITE}`, `/api/ward?site=${SITE}`);
    expect(probes.length).toBeGreaterThan(10);
    const leaked: string[] = [];
    for (const url of probes) {
      const status = await as('fuzz-other-nurse', url);
      if (status < 400) leaked.push(`${url} → ${status}`);
    }
    expect(leaked, 'routes that answered a nurse of another site').toEqual([]);

    // The relative: her own resident yes, another resident or any staff route no.
    expect(await as('fuzz-relative', `/api/relative/residents/${SITE}/res-1/last-night`)).toBeLessThan(400);
    for (const url of [
      `/api/relative/residents/${SITE}/res-7/last-night`,
      `/api/relative/residents/${SITE}/res-7/trend?nights=7`,
      `/api/relative/residents/${OTHER_SITE}/res-1/last-night`,
      `/api/sites/${SITE}/residents`,
      `/api/sites/${SITE}/residents/res-1/plan`,
      `/api/sites/${SITE}/events?from=2026-11-24T00:00:00Z&to=2026-11-26T00:00:00Z`,
      '/api/alarms/open',
      '/api/ward',
    ]) {
      expect(await as('fuzz-relative', url), url).toBeGreaterThanOrEqual(403);
    }
  });

  it('over a real socket: the same hostile requests, and bytes that are not HTTP at all, leave the server answering', async () => {
    const sample = fc.sample(request(operations), { numRuns: Math.min(RUNS, 60), seed: 7 }) as Request[];
    for (const r of sample) {
      const response = await fetch(`${stack.httpUrl}${urlOf(r)}`, {
        method: r.op.method,
        headers: { cookie: cookies['fuzz-admin'] ?? '', 'x-nattevakt': '1', ...(r.body ? { 'content-type': r.body.contentType } : {}) },
        ...(r.body && r.op.method !== 'GET' ? { body: r.body.payload } : {}),
      });
      const text = await response.text();
      expect(
        response.status >= 500 && !r.op.path.startsWith('/api/health'),
        `${r.op.method} ${r.op.path} → ${response.status} ${text.slice(0, 200)}`,
      ).toBe(false);
    }
    const port = Number(new URL(stack.httpUrl).port);
    const raw = (bytes: string | Buffer) =>
      new Promise<string>((done) => {
        const socket = connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => {
          answer += chunk.toString('latin1');
        });
        socket.on('error', () => done(answer));
        socket.on('close', () => done(answer));
        socket.write(bytes);
        setTimeout(() => socket.end(), 300);
      });
    for (const bytes of [
      'GARBAGE\r\n\r\n',
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS ClientHello on the plain port
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{"username":',
      `GET /api/health/live?${'a=1&'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /api/ward HTTP/1.1\r\nHost: x\r\nCookie: ${'nattevakt_session=x; '.repeat(2_000)}\r\n\r\n`,
    ]) {
      const answer = await raw(bytes);
      expect(answer.startsWith('HTTP/1.1 5'), `answered ${answer.slice(0, 40)}`).toBe(false);
    }
    expect((await fetch(`${stack.httpUrl}/api/health/live`)).status).toBe(200);
  });
});
