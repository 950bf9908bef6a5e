import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';

/** Every method and path Fastify routes, read from its own route tree (not from our OpenAPI hook). */
function routedOperations(tree: string): string[] {
  const stack: string[] = [];
  const operations: string[] = [];
  for (const line of tree.split('\n')) {
    const start = line.search(/[^│├└─\s]/);
    if (start < 0) continue;
    const depth = Math.floor(start / 4);
    const match = /^(\S+) \(([^)]+)\)$/.exec(line.slice(start));
    const segment = match?.[1] ?? line.slice(start).trim();
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + segment;
    stack[depth] = path;
    if (match === null || match[2] === undefined) continue;
    for (const method of match[2].split(', ')) operations.push(`${method.toLowerCase()} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return operations;
}

describe('OpenAPI document', () => {
  let server: NattevaktServer;
  afterEach(async () => {
    await server?.app.close();
  });

  it('is served without a session and describes every /api route with its schemas', async () => {
    server = await buildApp({ dataDir: ':memory:' });
    const answer = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(answer.statusCode).toBe(200);
    const doc = answer.json() as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { parameters: { name: string; in: string }[]; requestBody?: unknown; responses: Record<string, unknown>; security?: unknown[] }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');

    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    const routed = routedOperations(server.app.printRoutes({ commonPrefix: false })).filter(
      (op) => !op.startsWith('head ') && (op.includes(' /api/') || op.endsWith(' /metrics')),
    );
    expect(routed.length).toBeGreaterThan(30);
    expect(new Set(documented)).toEqual(new Set(routed));

    // Schemas come through: path parameters, the request body, and the response.
    const record = doc.paths['/api/sites/{siteId}/residents/{residentId}/legal-basis']?.post;
    expect(record?.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:siteId', 'path:residentId']);
    expect(JSON.stringify(record?.requestBody)).toContain('"nextEvaluationOn"');
    expect(JSON.stringify(doc.paths['/api/sites/{siteId}/unprotected']?.get?.responses['200'])).toContain('"sensor-silent"');
    expect(doc.paths['/api/alarms/changes']?.get?.parameters).toContainEqual(
      expect.objectContaining({ in: 'query', name: 'since', required: true }),
    );
    // Public routes say so; the rest need the session cookie.
    expect(doc.paths['/api/auth/login']?.post?.security).toEqual([]);
    expect(doc.paths['/api/sites/{siteId}/rooms']?.post?.security).toBeUndefined();
  });
});
