import { Id, Instant } from '@nattevakt/protocol/ids';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { type AuthService, ROLES, type SessionUser } from '../auth/auth-service.js';
import { UserAdmin, type UserView } from '../auth/user-admin.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import { HttpError } from './http-error.js';
import { actorOf } from './site-config.js';

const RoleSchema = Type.Union(
  ROLES.map((r) => Type.Literal(r)),
  { description: 'nurse, nurse_in_charge, relative, technician, admin' },
);
const Username = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$',
  description: '2–100 letters, digits, dots, dashes, underscores or @; stored in lower case',
});
const DisplayName = Type.String({ minLength: 1, maxLength: 120 });
const Password = Type.String({ minLength: 12, maxLength: 1000, description: 'at least 12 characters; stored only as an argon2id hash' });
const Sites = Type.Array(Id, { maxItems: 500, description: 'the sites the user works at (none for a relative)' });
const UserId = Type.String({ minLength: 1, maxLength: 64 });

const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  role: RoleSchema,
  sites: Type.Array(Type.String()),
  createdAt: Instant,
  disabledAt: Type.Union([Instant, Type.Null()]),
});
const UserAnswer = Type.Object({ user: User });
const UserParams = Type.Object({ userId: UserId }, { additionalProperties: false });
const NewUserBody = Type.Object(
  { username: Username, displayName: DisplayName, role: RoleSchema, sites: Sites, password: Password },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  { displayName: Type.Optional(DisplayName), role: Type.Optional(RoleSchema), sites: Type.Optional(Sites) },
  { additionalProperties: false, minProperties: 1 },
);
const ListQuery = Type.Object(
  {
    site: Type.Optional(Id),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    after: Type.Optional(Type.String({ maxLength: 100, description: 'the last username of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
  },
  { additionalProperties: false },
);
const AuditAnswer = Type.Object({
  entries: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      userId: Type.String(),
      username: Type.String(),
      action: Type.String({ description: 'created, updated, disabled, enabled, password-reset' }),
      actor: Type.String(),
      actorId: Type.String(),
      at: Instant,
      detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    }),
  ),
});

/** What a nurse in charge sees of a user: only the sites they share. */
const seenBy = (viewer: SessionUser, user: UserView): UserView =>
  viewer.role === 'admin' ? user : { ...user, sites: user.sites.filter((s) => viewer.sites.includes(s)) };

/**
 * People over REST. Admin: list, create, change name / role / sites, disable, enable, reset a
 * password, read a user's audit trail. Nurse in charge: list and read the users of their own sites
 * (members, and relatives linked to a resident there). Every change is audited in `user_audit`.
 */
export const userRoutes: FastifyPluginAsync<{ db: RelationalDb; auth: AuthService; sites: SiteService; now: () => number }> = async (
  app,
  { db, auth, sites, now },
) => {
  const users = new UserAdmin(db, auth, (id) => sites.get(id) !== undefined, now);
  const tags = ['users'];
  const admin = (request: FastifyRequest) => actorOf(requireRole(request, ['admin']));

  /** A member of one of the viewer's sites, or a relative linked to a resident there. */
  const sharesSite = async (viewer: SessionUser, user: UserView) => {
    if (user.sites.some((s) => viewer.sites.includes(s))) return true;
    if (viewer.sites.length === 0) return false;
    const link = await db
      .selectFrom('relative_links')
      .select('user_id')
      .where('user_id', '=', user.id)
      .where('site_id', 'in', viewer.sites)
      .executeTakeFirst();
    return link !== undefined;
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/users',
    {
      schema: {
        tags,
        summary: 'Users by username (admin: all; nurse in charge: those of their sites)',
        querystring: ListQuery,
        response: { 200: Type.Object({ users: Type.Array(User), nextAfter: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const viewer = requireRole(request, ['admin', 'nurse_in_charge']);
      const { site, role, status, after, limit } = request.query;
      if (site !== undefined && viewer.role !== 'admin') requireSite(viewer, site);
      const scope = site !== undefined ? [site] : viewer.role === 'admin' ? undefined : viewer.sites;
      const list = await users.list({
        ...(scope ? { sites: scope } : {}),
        ...(role ? { role } : {}),
        ...(status ? { status } : {}),
        ...(after !== undefined ? { after } : {}),
        limit,
      });
      return { users: list.map((u) => seenBy(viewer, u)), nextAfter: list.length === limit ? (list.at(-1)?.username ?? null) : null };
    },
  );

  app.get<{ Params: Static<typeof UserParams> }>(
    '/api/users/:userId',
    { schema: { tags, summary: 'One user', params: UserParams, response: { 200: UserAnswer } } },
    async (request) => {
      const viewer = requireRole(request, ['admin', 'nurse_in_charge']);
      const user = await users.get(request.params.userId);
      if (viewer.role !== 'admin') {
        // The same answer for a user of another site as for none, so ids of other sites tell nothing.
        if (user === null || !(await sharesSite(viewer, user)))
          throw new HttpError(404, `no user "${request.params.userId}" at your sites`);
      }
      if (user === null) throw new HttpError(404, `no user "${request.params.userId}"`);
      return { user: seenBy(viewer, user) };
    },
  );
  app.post<{ Body: Static<typeof NewUserBody> }>(
    '/api/users',
    {
      schema: {
        tags,
        summary: 'Create a user (admin); 409 when the username is taken',
        body: NewUserBody,
        response: { 201: UserAnswer },
      },
    },
    async (request, reply) => {
      const actor = admin(request);
      const user = await users.create(request.body, actor);
      request.log.info({ userId: user.id, role: user.role, by: actor.id }, 'user created');
      reply.code(201);
      return { user };
    },
  );

  app.patch<{ Params: Static<typeof UserParams>; Body: Static<typeof PatchBody> }>(
    '/api/users/:userId',
    {
      schema: {
        tags,
        summary: "Change a user's name, role or sites (admin); their live connections reconnect with the new rights",
        params: UserParams,
        body: PatchBody,
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const actor = admin(request);
      const user = await users.update(request.params.userId, request.body, actor);
      request.log.info({ userId: user.id, by: actor.id, fields: Object.keys(request.body) }, 'user changed');
      return { user };
    },
  );

  app.post<{ Params: Static<typeof UserParams> }>(
    '/api/users/:userId/disable',
    {
      schema: {
        tags,
        summary: 'Disable a user (admin): no more logins; their sessions and live connections end now',
        params: UserParams,
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const actor = admin(request);
      const user = await users.disable(request.params.userId, actor);
      request.log.info({ userId: user.id, by: actor.id }, 'user disabled');
      return { user };
    },
  );

  app.post<{ Params: Static<typeof UserParams> }>(
    '/api/users/:userId/enable',
    { schema: { tags, summary: 'Let a disabled user log in again (admin)', params: UserParams, response: { 200: UserAnswer } } },
    async (request) => {
      const actor = admin(request);
      const user = await users.enable(request.params.userId, actor);
      request.log.info({ userId: user.id, by: actor.id }, 'user enabled');
      return { user };
    },
  );

  const PasswordBody = Type.Object({ password: Password }, { additionalProperties: false });
  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof PasswordBody> }>(
    '/api/users/:userId/password',
    {
      schema: {
        tags,
        summary: "Reset a user's password (admin); every session of theirs ends",
        params: UserParams,
        body: PasswordBody,
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const actor = admin(request);
      const user = await users.resetPassword(request.params.userId, request.body.password, actor);
      request.log.info({ userId: user.id, by: actor.id }, 'password reset');
      return { user };
    },
  );

  app.get<{ Params: Static<typeof UserParams>; Querystring: { before?: number; limit: number } }>(
    '/api/users/:userId/audit',
    {
      schema: {
        tags,
        summary: "A user's audit trail, newest first (admin): who changed what, when",
        params: UserParams,
        querystring: Type.Object(
          { before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: AuditAnswer },
      },
    },
    async (request) => {
      admin(request);
      if ((await users.get(request.params.userId)) === null) throw new HttpError(404, `no user "${request.params.userId}"`);
      const { before, limit } = request.query;
      return { entries: await users.audit(request.params.userId, { ...(before !== undefined ? { before } : {}), limit }) };
    },
  );
};
