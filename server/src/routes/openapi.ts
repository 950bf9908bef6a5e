import type { FastifyInstance, RouteOptions } from 'fastify';
import { SESSION_COOKIE } from '../auth/auth-routes.js';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    description?: string;
    tags?: readonly string[];
  }
}

type JsonSchema = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  schema: RouteOptions['schema'];
}

/** Fastify's `:name` path parameters as OpenAPI's `{name}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** A TypeBox schema as plain JSON Schema (its symbol keys dropped). */
const plain = (schema: unknown): JsonSchema => JSON.parse(JSON.stringify(schema)) as JsonSchema;

function parameters(where: 'path' | 'query', schema: unknown): object[] {
  if (schema === undefined) return [];
  const json = plain(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the TypeBox schemas every route already
 * declares (collected with an `onRoute` hook), served at `/api/openapi.json`. OpenAPI 3.1 uses
 * JSON Schema 2020-12, so TypeBox output (including `type: 'null'`) goes in as it is. We build it
 * ourselves rather than with @fastify/swagger: the schemas need no conversion, and the document
 * stays a few lines of our own code instead of another dependency tree to keep on Node 20.
 * Install before any route is registered.
 */
export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string }): () => object {
  const operations: Operation[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/api/') && route.url !== '/metrics') return;
    for (const method of methods) {
      // Fastify adds a HEAD route for every GET; it is not an operation of its own.
      if (method === 'HEAD' || route.url.includes('*')) continue;
      operations.push({ method: method.toLowerCase(), path: openApiPath(route.url), schema: route.schema });
    }
  });

  let document: object | undefined;
  return () => {
    document ??= build(operations, info);
    return document;
  };
}

function build(operations: Operation[], info: { title: string; version: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const { method, path, schema } of operations) {
    const responses: Record<string, object> = {};
    for (const [status, body] of Object.entries((schema?.response ?? {}) as Record<string, unknown>))
      responses[status] = {
        description: status.startsWith('2') ? 'success' : 'error',
        content: { 'application/json': { schema: plain(body) } },
      };
    if (Object.keys(responses).length === 0) responses.default = { description: 'success', content: { 'application/json': {} } };
    responses['4XX'] = { $ref: '#/components/responses/ClientError' };
    const isPublic = ['/api/health', '/api/health/live', '/api/auth/login', '/api/openapi.json', '/metrics'].includes(path);
    paths[path] ??= {};
    paths[path][method] = {
      operationId: `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(schema?.summary ? { summary: schema.summary } : {}),
      ...(schema?.description ? { description: schema.description } : {}),
      ...(schema?.tags ? { tags: [...schema.tags] } : {}),
      parameters: [...parameters('path', schema?.params), ...parameters('query', schema?.querystring)],
      ...(schema?.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(schema.body) } } } } : {}),
      responses,
      ...(isPublic ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Nattevakt server API. Every /api route except health, login and this document needs the session cookie set by ' +
        'POST /api/auth/login. State-changing requests (POST, PUT, DELETE) must carry the Origin of this site or the ' +
        'header `X-Nattevakt: 1` (CSRF defence). Errors are JSON `{ "error": "…" }`; a 400 names the field.',
    },
    paths,
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } },
      responses: {
        ClientError: {
          description: 'refused: 400 invalid input (the message names the field), 401 no session, 403 role or site, 404, 409 conflict, 429',
          content: {
            'application/json': {
              schema: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
            },
          },
        },
      },
    },
    security: [{ session: [] }],
  };
}

/** Serves the document; call after every route is registered (it is built on first request). */
export function openApiRoute(app: FastifyInstance, document: () => object): void {
  app.get('/api/openapi.json', { schema: { tags: ['meta'], summary: 'This OpenAPI document' } }, async () => document());
}
