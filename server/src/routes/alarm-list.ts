import { Alarm, AlarmStatus, Outcome, RuleId } from '@nattevakt/protocol/alarm';
import { Id, Instant } from '@nattevakt/protocol/ids';
import { Priority } from '@nattevakt/protocol/site-config';
import type { CommandResult } from '@nattevakt/protocol/socket-events';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.js';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { type SessionUser, STAFF_ROLES } from '../auth/auth-service.js';
import { HttpError } from './http-error.js';

const many = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) =>
  Type.Optional(Type.Array(item, { maxItems: 20, description: `${description}; repeat the parameter for several` }));

const ListQuery = Type.Object(
  {
    site: many(Id, 'only these sites (default: all of yours)'),
    status: many(AlarmStatus, 'active, acknowledged, resolved'),
    priority: many(Priority, 'high, medium, low, technical'),
    rule: many(RuleId, 'the rule that raised it'),
    residentId: Type.Optional(Id),
    from: Type.Optional({ ...Instant, description: 'received by the server at or after this instant' }),
    to: Type.Optional({ ...Instant, description: 'received before this instant' }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: '`next` of the previous page' })),
  },
  { additionalProperties: false },
);
type ListQuery = Static<typeof ListQuery>;

const AlarmParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const ResolveBody = Type.Object(
  { outcome: Outcome, note: Type.Optional(Type.String({ maxLength: 500, description: 'required when the outcome is `other`' })) },
  { additionalProperties: false },
);

const encodeCursor = (c: { receivedAt: string; id: string }) => Buffer.from(JSON.stringify([c.receivedAt, c.id])).toString('base64url');
function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string')
      return { receivedAt: value[0], id: value[1] };
  } catch {
    // falls through to the 400 below
  }
  throw new HttpError(400, 'querystring/cursor: not a cursor this server gave (use `next` of the previous page)');
}

/** A command's refusal as an HTTP error the nurse can read. */
function refused(result: CommandResult & { ok: false }): HttpError {
  if (result.error === 'not-found') return new HttpError(404, 'no such alarm');
  if (result.error === 'already-resolved') return new HttpError(409, 'the alarm is already resolved');
  if (result.error === 'note-required') return new HttpError(400, 'body/note: a note is required when the outcome is "other"');
  if (result.error.startsWith('already-acknowledged:'))
    return new HttpError(409, `${result.error.slice('already-acknowledged:'.length)} is already going to this alarm`);
  return new HttpError(409, result.error);
}

/**
 * Alarms over REST beyond the board's open list: the whole history filtered by site, status,
 * priority, rule, resident and time, paged newest first; and "Jeg går" / resolve for a client
 * without a socket (the same transitions, audit and broadcast as on `/staff`). The history of
 * one alarm (its audit trail) is `GET /api/alarms/:id`, its delivery `GET /api/alarms/:id/delivery`.
 */
export const alarmListRoutes: FastifyPluginAsync<{ alarms: AlarmService }> = async (app, { alarms }) => {
  const tags = ['alarms'];

  app.get<{ Querystring: ListQuery }>(
    '/api/alarms',
    {
      schema: {
        tags,
        summary: 'Alarms of your sites by filter, newest first (received time), paged with `cursor`',
        querystring: ListQuery,
        response: { 200: Type.Object({ alarms: Type.Array(Alarm), next: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const user = requireRole(request, STAFF_ROLES);
      const q = request.query;
      for (const site of q.site ?? []) requireSite(user, site);
      const from = q.from === undefined ? undefined : new Date(q.from).toISOString();
      const to = q.to === undefined ? undefined : new Date(q.to).toISOString();
      if (from !== undefined && to !== undefined && from >= to) throw new HttpError(400, 'querystring/from: must be before `to`');
      const page = await alarms.list({
        sites: q.site ?? user.sites,
        ...(q.status ? { status: q.status } : {}),
        ...(q.priority ? { priority: q.priority } : {}),
        ...(q.rule ? { rule: q.rule } : {}),
        ...(q.residentId !== undefined ? { residentId: q.residentId } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(q.cursor !== undefined ? { after: decodeCursor(q.cursor) } : {}),
        limit: q.limit,
      });
      return { alarms: page.alarms, next: page.next === null ? null : encodeCursor(page.next) };
    },
  );

  /** The nurse, if the alarm exists and is of one of their sites. */
  const owner = async (request: FastifyRequest<{ Params: { id: string } }>): Promise<SessionUser> => {
    const user = requireRole(request, STAFF_ROLES);
    const found = await alarms.get(request.params.id);
    if (found === null) throw new HttpError(404, 'no such alarm');
    requireSite(user, found.alarm.siteId);
    return user;
  };

  app.post<{ Params: Static<typeof AlarmParams> }>(
    '/api/alarms/:id/acknowledge',
    {
      schema: {
        tags,
        summary: '"Jeg går": I am going (nurse, nurse in charge, admin of the site); 409 when a colleague already is',
        params: AlarmParams,
        response: { 200: Type.Object({ alarm: Alarm }) },
      },
    },
    async (request) => {
      const user = await owner(request);
      const result = await alarms.acknowledge({ alarmId: request.params.id, by: user.displayName });
      if (!result.ok) throw refused(result);
      return { alarm: result.alarm };
    },
  );

  app.post<{ Params: Static<typeof AlarmParams>; Body: Static<typeof ResolveBody> }>(
    '/api/alarms/:id/resolve',
    {
      schema: {
        tags,
        summary: 'Resolve with an outcome (nurse, nurse in charge, admin of the site); `other` needs a note',
        params: AlarmParams,
        body: ResolveBody,
        response: { 200: Type.Object({ alarm: Alarm }) },
      },
    },
    async (request) => {
      const user = await owner(request);
      const result = await alarms.resolve({
        alarmId: request.params.id,
        by: user.displayName,
        outcome: request.body.outcome,
        ...(request.body.note !== undefined ? { note: request.body.note } : {}),
      });
      if (!result.ok) throw refused(result);
      return { alarm: result.alarm };
    },
  );
};
