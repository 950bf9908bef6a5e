import {
  ScenarioInfo,
  ScenarioRun,
  ScenarioRunRequest,
  SelfTestLogEntry,
  SelfTestReport,
  SelfTestSchedule,
  SimulatorConnectionInput,
  TestSettingsView,
} from '@nattevakt/protocol/commissioning';
import { Id } from '@nattevakt/protocol/ids';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { requireRole } from '../auth/auth-routes.js';
import { type Role, STAFF_ROLES } from '../auth/auth-service.js';
import { ScenarioRunError, type ScenarioRunner } from '../commissioning/scenario-runner.js';
import type { SelfTestLog } from '../commissioning/self-test-log.js';
import { SettingsError, type TestSettings } from '../commissioning/test-settings.js';
import type { SiteService } from '../sites/site-service.js';
import { HttpError } from './http-error.js';
import { actorOf, SiteParams, siteAccess } from './site-config.js';

/** Run scenarios and read their verdicts: the people who commission and look after the sensors. */
const RUN_ROLES: readonly Role[] = ['technician', 'admin'];
/** Read the maintenance log and the test settings. */
const LOG_ROLES: readonly Role[] = ['technician', 'nurse_in_charge', 'admin'];
/** Report a self-test: the self-test's own login is a member of staff (it resolves its test alarm) or a technician. */
const REPORT_ROLES: readonly Role[] = [...STAFF_ROLES, 'technician'];
/** When the self-test is due: the ward's nurse in charge or an admin. */
const SCHEDULE_ROLES: readonly Role[] = ['nurse_in_charge', 'admin'];

const ErrorBody = Type.Object({ error: Type.String(), details: Type.Optional(Type.Array(Type.String())) });
const RunParams = Type.Object({ siteId: Id, runId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const LimitQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'newest first, at most this many' }) },
  { additionalProperties: false },
);

/**
 * Commissioning and maintenance: the site's test settings (the gateway broker's simulator device
 * for scenario runs, with its password write-only; when the daily self-test is due), scenario runs
 * against the site's gateway with their verdicts, and the self-test maintenance log.
 */
export const commissioningRoutes: FastifyPluginAsync<{
  sites: SiteService;
  settings: TestSettings;
  runner: ScenarioRunner;
  selfTests: SelfTestLog;
}> = async (app, { sites, settings, runner, selfTests }) => {
  const tags = ['commissioning'];
  const refuse = (reply: FastifyReply, error: unknown) => {
    if (error instanceof ScenarioRunError) return reply.code(error.statusCode).send({ error: error.message, details: error.details });
    if (error instanceof SettingsError) return reply.code(400).send({ error: error.message });
    throw error;
  };

  app.get<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/test-settings',
    {
      schema: {
        tags,
        summary: "The site's test settings (technician, nurse in charge, admin): never a password, only whether one is stored",
        params: SiteParams,
        response: { 200: TestSettingsView },
      },
    },
    async (request) => {
      siteAccess(request, LOG_ROLES, sites);
      return settings.view(request.params.siteId);
    },
  );

  app.put<{ Params: Static<typeof SiteParams>; Body: SimulatorConnectionInput }>(
    '/api/sites/:siteId/test-settings/simulator',
    {
      schema: {
        tags,
        summary:
          "How the server reaches the site's gateway broker to run scenarios (admin): a device with role simulator (and bridge). Passwords are stored encrypted and never returned",
        params: SiteParams,
        body: SimulatorConnectionInput,
        response: { 200: TestSettingsView, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const { actor } = siteAccess(request, ['admin'], sites);
      try {
        const view = await settings.setSimulator(request.params.siteId, request.body, actor);
        request.log.info({ siteId: request.params.siteId, by: actor.id }, 'simulator connection set');
        return view;
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.delete<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/test-settings/simulator',
    {
      schema: { tags, summary: "Forget the site's simulator connection (admin)", params: SiteParams, response: { 200: TestSettingsView } },
    },
    async (request) => {
      const { actor } = siteAccess(request, ['admin'], sites);
      return settings.clearSimulator(request.params.siteId, actor);
    },
  );

  app.put<{ Params: Static<typeof SiteParams>; Body: SelfTestSchedule }>(
    '/api/sites/:siteId/test-settings/self-test',
    {
      schema: {
        tags,
        summary:
          'When the daily chain self-test is due (nurse in charge, admin): a missing or late one raises self-test-missed on the boards',
        params: SiteParams,
        body: SelfTestSchedule,
        response: { 200: TestSettingsView },
      },
    },
    async (request) => {
      const { actor, config } = siteAccess(request, SCHEDULE_ROLES, sites);
      const sensor = config.sensors.find((s) => s.id === request.body.sensorId);
      if (sensor === undefined) throw new HttpError(400, `body/sensorId: no sensor "${request.body.sensorId}" at site "${config.site.id}"`);
      if (sensor.residentId !== undefined)
        throw new HttpError(400, `body/sensorId: "${sensor.id}" belongs to a resident; the self-test sensor sits in a room without one`);
      return settings.setSelfTest(request.params.siteId, request.body, actor);
    },
  );

  app.delete<{ Params: Static<typeof SiteParams> }>(
    '/api/sites/:siteId/test-settings/self-test',
    {
      schema: {
        tags,
        summary: 'No daily self-test expected any more (nurse in charge, admin)',
        params: SiteParams,
        response: { 200: TestSettingsView },
      },
    },
    async (request) => {
      const { actor } = siteAccess(request, SCHEDULE_ROLES, sites);
      return settings.setSelfTest(request.params.siteId, null, actor);
    },
  );

  app.get(
    '/api/scenarios',
    {
      schema: {
        tags,
        summary: 'The built-in simulator scenarios (technician, admin)',
        response: { 200: Type.Object({ scenarios: Type.Array(ScenarioInfo) }) },
      },
    },
    async (request, reply) => {
      requireRole(request, RUN_ROLES);
      try {
        return { scenarios: await runner.builtIns() };
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.post<{ Params: Static<typeof SiteParams>; Body: ScenarioRunRequest }>(
    '/api/sites/:siteId/scenario-runs',
    {
      schema: {
        tags,
        summary:
          "Run a built-in or uploaded scenario against the site's gateway (technician, admin of the site); progress and verdict come over /staff. 409: one is running, the gateway is not on a simulated clock, or the site is not the scenario's ward",
        params: SiteParams,
        body: ScenarioRunRequest,
        response: { 202: ScenarioRun, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const { user } = siteAccess(request, RUN_ROLES, sites);
      try {
        const run = await runner.start(request.params.siteId, request.body, actorOf(user));
        reply.code(202);
        return run;
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );

  app.get<{ Params: Static<typeof SiteParams>; Querystring: Static<typeof LimitQuery> }>(
    '/api/sites/:siteId/scenario-runs',
    {
      schema: {
        tags,
        summary: "The site's scenario runs and their verdicts, newest first (technician, admin)",
        params: SiteParams,
        querystring: LimitQuery,
        response: { 200: Type.Object({ runs: Type.Array(ScenarioRun) }) },
      },
    },
    async (request) => {
      siteAccess(request, RUN_ROLES, sites);
      return { runs: await runner.list(request.params.siteId, request.query.limit) };
    },
  );

  app.get<{ Params: Static<typeof RunParams> }>(
    '/api/sites/:siteId/scenario-runs/:runId',
    { schema: { tags, summary: 'One scenario run (technician, admin)', params: RunParams, response: { 200: ScenarioRun } } },
    async (request) => {
      siteAccess(request, RUN_ROLES, sites);
      const run = await runner.get(request.params.siteId, request.params.runId);
      if (run === null) throw new HttpError(404, `no scenario run "${request.params.runId}" at site "${request.params.siteId}"`);
      return run;
    },
  );

  app.post<{ Params: Static<typeof SiteParams>; Body: SelfTestReport }>(
    '/api/sites/:siteId/self-tests',
    {
      schema: {
        tags,
        summary: "Record a chain self-test's result in the site's maintenance log (the self-test's login: staff or technician of the site)",
        params: SiteParams,
        body: SelfTestReport,
        response: { 201: SelfTestLogEntry },
      },
    },
    async (request, reply) => {
      const { user, config } = siteAccess(request, REPORT_ROLES, sites);
      const { sensorId } = request.body;
      if (sensorId !== undefined && !config.sensors.some((s) => s.id === sensorId))
        throw new HttpError(400, `body/sensorId: no sensor "${sensorId}" at site "${config.site.id}"`);
      const entry = await selfTests.record(request.params.siteId, request.body, user.displayName);
      reply.code(201);
      return entry;
    },
  );

  app.get<{ Params: Static<typeof SiteParams>; Querystring: Static<typeof LimitQuery> }>(
    '/api/sites/:siteId/self-tests',
    {
      schema: {
        tags,
        summary: "The site's self-test maintenance log, newest first: passed, failed and missed (technician, nurse in charge, admin)",
        params: SiteParams,
        querystring: LimitQuery,
        response: { 200: Type.Object({ entries: Type.Array(SelfTestLogEntry) }) },
      },
    },
    async (request) => {
      siteAccess(request, LOG_ROLES, sites);
      return { entries: await selfTests.list(request.params.siteId, request.query.limit) };
    },
  );
};
