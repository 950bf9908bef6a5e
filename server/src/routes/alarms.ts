import { Alarm } from '@nattevakt/protocol/alarm';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.js';
import { HttpError } from './http-error.js';

const AlarmList = Type.Object({ seq: Type.Integer(), alarms: Type.Array(Alarm) });

/** Alarm reads over REST: the open list, and the changes a reconnecting tablet missed. */
export const alarmRoutes: FastifyPluginAsync<{ alarms: AlarmService }> = async (app, { alarms }) => {
  app.get('/api/alarms/open', { schema: { response: { 200: AlarmList } } }, async () => alarms.open());

  app.get<{ Querystring: { since: number } }>(
    '/api/alarms/changes',
    {
      schema: {
        querystring: Type.Object(
          { since: Type.Integer({ minimum: 0, description: 'the highest alarm seq the client has seen' }) },
          { additionalProperties: false },
        ),
        response: { 200: AlarmList },
      },
    },
    async (request) => alarms.changesSince(request.query.since),
  );

  app.get<{ Params: { id: string } }>(
    '/api/alarms/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: Type.Object({
            alarm: Alarm,
            audit: Type.Array(
              Type.Object({
                seq: Type.Integer(),
                action: Type.String({ description: 'raised, acknowledged, condition-cleared, escalated, resolved' }),
                actor: Type.String({ description: 'a nurse, `gateway:<site>`, or `system` (escalation)' }),
                at: Type.String(),
                detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const found = await alarms.get(request.params.id);
      if (found === null) throw new HttpError(404, 'no such alarm');
      return found;
    },
  );
};
