import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../routes/http-error.js';
import { type AuthService, memberOf, ROLES, type Role, SESSION_TTL_MS, type SessionUser } from './auth-service.js';

export const SESSION_COOKIE = 'nattevakt_session';
/** The custom header a same-origin script sends with state-changing requests (CSRF defence with SameSite=Strict). */
export const CSRF_HEADER = 'x-nattevakt';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user; set for every /api route that needs a session. */
    user: SessionUser | null;
  }
}

export interface AuthOptions {
  /** The `Secure` cookie flag; off only for plain http on loopback (the demo). Default on. */
  secureCookies?: boolean;
  /** Login attempts per client address and window (@fastify/rate-limit). Default 10 a minute. */
  loginRateLimit?: { max: number; timeWindowMs: number };
}

/** Paths that need no session. */
const PUBLIC = new Set(['/api/health', '/api/health/live', '/api/auth/login', '/api/openapi.json', '/metrics']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
const Me = Type.Object({
  user: Type.Object({
    username: Type.String(),
    displayName: Type.String(),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    sites: Type.Array(Type.String()),
  }),
});

const publicUser = (user: SessionUser) => ({ username: user.username, displayName: user.displayName, role: user.role, sites: user.sites });

/**
 * Login, logout and "who am I", and the hooks every request passes: CSRF check on state-changing
 * requests (a matching `Origin`, or `X-Nattevakt: 1`), then a session for every /api route
 * except health and login. Registered on the root instance so the hooks cover every route.
 */
export async function installAuth(app: FastifyInstance, auth: AuthService, options: AuthOptions = {}): Promise<void> {
  const secure = options.secureCookies ?? true;
  await app.register(fastifyCookie);
  // Counted in the database, so every instance shares one count per client address.
  await app.register(fastifyRateLimit, { global: false, store: auth.limits.rateLimitStore() });
  app.decorateRequest('user', null);

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (!path.startsWith('/api/')) return;
    if (!SAFE_METHODS.has(request.method) && !sameOrigin(request) && request.headers[CSRF_HEADER] !== '1')
      throw new HttpError(403, 'cross-site request refused: send the Origin header of this site or X-Nattevakt: 1');
    if (PUBLIC.has(path)) return;
    request.user = await auth.session(request.cookies[SESSION_COOKIE]);
    if (request.user === null) throw new HttpError(401, 'login required');
  });

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/auth/login',
    {
      schema: { body: LoginBody, response: { 200: Me } },
      config: {
        rateLimit: {
          max: options.loginRateLimit?.max ?? 10,
          timeWindow: options.loginRateLimit?.timeWindowMs ?? 60_000,
          errorResponseBuilder: (_request, context) =>
            new HttpError(429, `too many login attempts; try again in ${Math.ceil(context.ttl / 1000)} s`),
        },
      },
    },
    async (request, reply) => {
      const result = await auth.login(request.body.username, request.body.password);
      if (!result.ok) {
        request.log.info({ reason: result.reason }, 'login refused');
        if (result.reason === 'locked') throw new HttpError(429, 'too many failed logins for this user; try again later');
        throw new HttpError(401, 'wrong username or password');
      }
      request.log.info({ userId: result.user.id, role: result.user.role }, 'logged in');
      reply.setCookie(SESSION_COOKIE, result.token, {
        path: '/',
        httpOnly: true,
        secure,
        sameSite: 'strict',
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return { user: publicUser(result.user) };
    },
  );

  app.post('/api/auth/logout', async (request, reply) => {
    await auth.logout(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure, sameSite: 'strict' });
    return { ok: true };
  });

  app.get('/api/auth/me', { schema: { response: { 200: Me } } }, async (request) => ({ user: publicUser(requireUser(request)) }));
}

/** The request's `Origin` names this very host (same scheme, host and port). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || request.headers.host === undefined) return false;
  try {
    const url = new URL(origin);
    return url.host === request.headers.host && `${url.protocol.replace(':', '')}` === request.protocol;
  } catch {
    return false;
  }
}

export function requireUser(request: FastifyRequest): SessionUser {
  if (request.user === null) throw new HttpError(401, 'login required');
  return request.user;
}

/** The user, if their role is one of `roles`; else 403. */
export function requireRole(request: FastifyRequest, roles: readonly Role[]): SessionUser {
  const user = requireUser(request);
  if (!roles.includes(user.role)) throw new HttpError(403, 'your role may not use this');
  return user;
}

/** 403 unless the user belongs to the site. */
export function requireSite(user: SessionUser, siteId: string): void {
  if (!memberOf(user, siteId)) throw new HttpError(403, `you do not have access to site "${siteId}"`);
}

/** The value of one cookie in a raw `Cookie` header (for the Socket.IO handshake). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
