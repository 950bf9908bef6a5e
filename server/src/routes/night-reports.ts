import { CareRuleId, RuleId } from '@nattevakt/protocol/alarm';
import { Id } from '@nattevakt/protocol/ids';
import { AlarmReport, NightDate, NightSummary, NightSummaryList, WhatIfResult } from '@nattevakt/protocol/night-summary';
import { addNights, isNightDate, nightOf, nightSpan, nightsBetween } from '@nattevakt/protocol/rules/nights';
import { checkSiteConfig, type Resident, type SiteConfig, SupervisionPlan } from '@nattevakt/protocol/site-config';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireRole, requireSite } from '../auth/auth-routes.js';
import { type Role, STAFF_ROLES } from '../auth/auth-service.js';
import { buildAlarmReport } from '../reports/alarm-report.js';
import { alarmBundle, type FhirAlarm } from '../reports/fhir-export.js';
import { allEvents, lastEndedNight, type NightSummaryService, toNightAlarm } from '../reports/night-summary-service.js';
import { countByNight, replay, replayConfig, sumCounts } from '../reports/what-if.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { TimeSeriesStore } from '../stores/timeseries/time-series-store.js';
import { HttpError } from './http-error.js';

/** Who reads reports, replays plans and exports to the journal. */
export const REPORT_ROLES: readonly Role[] = ['nurse_in_charge', 'admin'];
const CARE_RULES: readonly RuleId[] = CareRuleId.anyOf.map((l) => l.const);

/** The longest range of nights one report covers. */
export const MAX_REPORT_NIGHTS = 366;

const ResidentParams = Type.Object({ siteId: Id, residentId: Id }, { additionalProperties: false });
const NightRange = Type.Object(
  {
    from: Type.Optional({ ...NightDate, description: 'first night (default: 14 nights back)' }),
    to: Type.Optional({ ...NightDate, description: 'last night, inclusive (default: the last night that has ended)' }),
  },
  { additionalProperties: false },
);
const WhatIfBody = Type.Object(
  {
    plan: SupervisionPlan,
    nights: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 14, description: 'how many of the last nights to replay' })),
    rules: Type.Optional(
      Type.Array(RuleId, { minItems: 1, maxItems: 10, description: 'compare only these rules (default: the care rules)' }),
    ),
  },
  { additionalProperties: false },
);
const FhirBundleSchema = Type.Object(
  {
    resourceType: Type.Literal('Bundle'),
    type: Type.Literal('collection'),
    timestamp: Type.String(),
    entry: Type.Array(
      Type.Object({ fullUrl: Type.String(), resource: Type.Object({ resourceType: Type.String() }, { additionalProperties: true }) }),
    ),
  },
  { description: 'HL7 FHIR R4 Bundle of DetectedIssue (and the Patient, Device and Practitioner they refer to)' },
);

export interface NightReportDeps {
  sites: SiteService;
  nights: NightSummaryService;
  timeSeries: TimeSeriesStore;
  db: RelationalDb;
  now: () => number;
  /** Raw events are kept this many days: a replay cannot go further back. */
  rawEventDays: number;
}

/**
 * Night summaries (staff of the site), and for the nurse in charge: alarm reports, the what-if
 * replay of a proposed plan, and the FHIR export of a resident's alarms.
 */
export const nightReportRoutes: FastifyPluginAsync<NightReportDeps> = async (app, deps) => {
  const residentOf = (siteId: string, residentId: string): { config: SiteConfig; resident: Resident } => {
    const config = deps.sites.get(siteId);
    if (config === undefined) throw new HttpError(404, `no site "${siteId}"`);
    const resident = config.residents.find((r) => r.id === residentId);
    if (resident === undefined) throw new HttpError(404, `no resident "${residentId}" at site "${siteId}"`);
    return { config, resident };
  };
  const range = (query: Static<typeof NightRange>, last: string): string[] => {
    for (const key of ['from', 'to'] as const) {
      const v = query[key];
      if (v !== undefined && !isNightDate(v)) throw new HttpError(400, `querystring/${key}: "${v}" is not a date`);
    }
    const to = query.to ?? last;
    const from = query.from ?? addNights(to, -13);
    if (from > to) throw new HttpError(400, 'querystring/from must not be after querystring/to');
    const nights = nightsBetween(from, to);
    if (nights.length > MAX_REPORT_NIGHTS) throw new HttpError(400, `querystring/from: at most ${MAX_REPORT_NIGHTS} nights at a time`);
    return nights;
  };

  app.get<{ Params: Static<typeof ResidentParams>; Querystring: Static<typeof NightRange> }>(
    '/api/sites/:siteId/residents/:residentId/nights',
    {
      schema: {
        tags: ['nights'],
        summary: "A resident's stored night summaries",
        params: ResidentParams,
        querystring: NightRange,
        response: { 200: NightSummaryList },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      requireSite(requireRole(request, STAFF_ROLES), siteId);
      const { config, resident } = residentOf(siteId, residentId);
      const nights = range(request.query, lastEndedNight(deps.now(), resident.plan.nightWindow, config.site.timezone));
      return { summaries: await deps.nights.list(siteId, residentId, nights[0] as string, nights.at(-1) as string) };
    },
  );

  app.get<{ Params: Static<typeof ResidentParams> & { night: string } }>(
    '/api/sites/:siteId/residents/:residentId/nights/:night',
    {
      schema: {
        tags: ['nights'],
        summary: "One resident's night (computed and stored if missing)",
        params: Type.Object({ siteId: Id, residentId: Id, night: NightDate }, { additionalProperties: false }),
        response: { 200: NightSummary },
      },
    },
    async (request) => {
      const { siteId, residentId, night } = request.params;
      requireSite(requireRole(request, STAFF_ROLES), siteId);
      const { config } = residentOf(siteId, residentId);
      if (!isNightDate(night)) throw new HttpError(400, `params/night: "${night}" is not a date`);
      if (nightSpan(night, config.site.timezone).start > deps.now())
        throw new HttpError(400, `params/night: the night of ${night} has not begun`);
      const summary = await deps.nights.get(siteId, residentId, night);
      if (summary === null) throw new HttpError(404, `nothing was recorded at site "${siteId}" in the night of ${night}`);
      return summary;
    },
  );

  app.get<{ Params: { siteId: string }; Querystring: Static<typeof NightRange> & { residentId?: string } }>(
    '/api/sites/:siteId/reports/alarms',
    {
      schema: {
        tags: ['reports'],
        summary: 'Alarms per night and rule, response times, false-alarm shares, nights without a physical check',
        params: Type.Object({ siteId: Id }, { additionalProperties: false }),
        querystring: Type.Object({ ...NightRange.properties, residentId: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 200: AlarmReport },
      },
    },
    async (request) => {
      const { siteId } = request.params;
      requireSite(requireRole(request, REPORT_ROLES), siteId);
      const config = deps.sites.get(siteId);
      if (config === undefined) throw new HttpError(404, `no site "${siteId}"`);
      const residentId = request.query.residentId;
      if (residentId !== undefined) residentOf(siteId, residentId);
      const zone = config.site.timezone;
      // Default: up to the night that began the evening before (at 02:00 that is the night under way).
      const nights = range(request.query, nightOf(deps.now() - 12 * 3_600_000, zone));
      const from = nightSpan(nights[0] as string, zone).start;
      const to = nightSpan(nights.at(-1) as string, zone).end;
      const rows = await deps.nights.alarmRows(siteId, from, to, residentId);
      let watchedQuery = deps.db
        .selectFrom('night_summaries')
        .select('night')
        .distinct()
        .where('site_id', '=', siteId)
        .where('night', '>=', nights[0] as string)
        .where('night', '<=', nights.at(-1) as string);
      if (residentId !== undefined) watchedQuery = watchedQuery.where('resident_id', '=', residentId);
      const watched = new Set((await watchedQuery.execute()).map((r) => r.night));
      return buildAlarmReport({ siteId, residentId: residentId ?? null, timeZone: zone }, nights, rows.map(toNightAlarm), watched);
    },
  );

  app.post<{ Params: Static<typeof ResidentParams>; Body: Static<typeof WhatIfBody> }>(
    '/api/sites/:siteId/residents/:residentId/what-if',
    {
      schema: {
        tags: ['reports'],
        summary: 'What-if: alarms the last nights would have raised under a proposed plan (nothing is saved)',
        params: ResidentParams,
        body: WhatIfBody,
        response: { 200: WhatIfResult },
      },
    },
    async (request) => {
      const { siteId, residentId } = request.params;
      requireSite(requireRole(request, REPORT_ROLES), siteId);
      const { config, resident } = residentOf(siteId, residentId);
      // What the schema cannot say (battery thresholds in order), checked as a saved plan would be.
      const index = config.residents.findIndex((r) => r.id === residentId);
      const checked = checkSiteConfig({
        ...config,
        residents: config.residents.map((r, i) => (i === index ? { ...r, plan: request.body.plan } : r)),
      });
      if (!checked.ok) throw new HttpError(400, checked.errors.map((e) => e.replace(`/residents/${index}/plan`, 'body/plan')).join('; '));
      const count = request.body.nights ?? 14;
      if (count > deps.rawEventDays)
        throw new HttpError(
          400,
          `body/nights: raw events are kept ${deps.rawEventDays} days, so at most ${deps.rawEventDays} nights can be replayed`,
        );
      const zone = config.site.timezone;
      const now = deps.now();
      const last = lastEndedNight(now, resident.plan.nightWindow, zone);
      const nights = nightsBetween(addNights(last, 1 - count), last);
      const countFrom = nightSpan(nights[0] as string, zone).start;
      const to = Math.min(nightSpan(last, zone).end, now);
      // Half a day before the first night lets the engine learn where the resident is.
      const from = countFrom - 12 * 3_600_000;
      // The care rules unless others are asked for: a plan change is about care alarms, and technical ones replay sensor gaps.
      const rules = request.body.rules ?? CARE_RULES;
      // Only the sensors of the resident's room are read and replayed.
      const sensors = replayConfig(config, residentId, resident.plan).sensors.map((s) => s.id);
      const events = await allEvents(deps.timeSeries, siteId, new Date(from), new Date(to), { sensors });
      const replayWith = (plan: typeof resident.plan) => {
        // Replayed as armed: whether a resident is armed follows the legal basis and plan status, not a plan change.
        const cfg = replayConfig(config, residentId, { ...plan, armed: true });
        return { alarms: replay(cfg, residentId, events, { from, countFrom, to }, rules), events };
      };
      const current = replayWith(resident.plan);
      const proposed = replayWith(request.body.plan);
      const recordedRows = (await deps.nights.alarmRows(siteId, countFrom, to, residentId)).filter((a) =>
        rules.includes(a.rule as (typeof rules)[number]),
      );
      const recorded = recordedRows.map((a) => ({ raisedAt: a.raised_at, rule: a.rule }));
      const byNight = {
        current: countByNight(current.alarms, nights, zone),
        proposed: countByNight(proposed.alarms, nights, zone),
        recorded: countByNight(recorded, nights, zone),
        events: countByNight(
          current.events.map((e) => ({ raisedAt: e.time, rule: e.sensorKind })),
          nights,
          zone,
        ),
      };
      const rows = nights.map((night) => ({
        night,
        events: byNight.events.get(night)?.total ?? 0,
        current: byNight.current.get(night) ?? { total: 0, byRule: {} },
        proposed: byNight.proposed.get(night) ?? { total: 0, byRule: {} },
        recorded: byNight.recorded.get(night) ?? { total: 0, byRule: {} },
      }));
      request.log.info({ siteId, residentId, nights: count, events: current.events.length }, 'what-if replay');
      return {
        siteId,
        residentId,
        armed: resident.plan.armed,
        rules: [...rules],
        nights: rows,
        totals: {
          current: sumCounts(rows.map((r) => r.current)),
          proposed: sumCounts(rows.map((r) => r.proposed)),
          recorded: sumCounts(rows.map((r) => r.recorded)),
        },
      };
    },
  );

  app.get<{ Params: Static<typeof ResidentParams>; Querystring: { from?: string; to?: string } }>(
    '/api/sites/:siteId/residents/:residentId/fhir/alarms',
    {
      schema: {
        tags: ['reports'],
        summary: "A resident's alarms as a FHIR R4 Bundle of DetectedIssue",
        params: ResidentParams,
        querystring: Type.Object(
          {
            from: Type.Optional(
              Type.String({ format: 'date-time', maxLength: 40, description: 'alarms raised at or after (default: all)' }),
            ),
            to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'alarms raised before (default: now)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: FhirBundleSchema },
      },
    },
    async (request, reply) => {
      const { siteId, residentId } = request.params;
      requireSite(requireRole(request, REPORT_ROLES), siteId);
      const { config, resident } = residentOf(siteId, residentId);
      const from = request.query.from === undefined ? 0 : Date.parse(request.query.from);
      const to = request.query.to === undefined ? deps.now() + 1 : Date.parse(request.query.to);
      if (from >= to) throw new HttpError(400, 'querystring/from must be before querystring/to');
      const rows = await deps.db
        .selectFrom('alarms')
        .selectAll()
        .where('site_id', '=', siteId)
        .where('resident_id', '=', residentId)
        .orderBy('raised_at')
        .execute();
      const alarms: FhirAlarm[] = rows
        .filter((r) => Date.parse(r.raised_at) >= from && Date.parse(r.raised_at) < to)
        .map((r) => ({
          id: r.id,
          siteId: r.site_id,
          sensorId: r.sensor_id,
          rule: r.rule,
          priority: r.priority,
          raisedAt: r.raised_at,
          status: r.status,
          explanation: r.explanation === null ? null : (JSON.parse(r.explanation) as FhirAlarm['explanation']),
          acknowledgedAt: r.acknowledged_at,
          acknowledgedBy: r.acknowledged_by,
          resolvedAt: r.resolved_at,
          resolvedBy: r.resolved_by,
          outcome: r.outcome,
          note: r.note,
        }));
      request.log.info({ siteId, residentId, alarms: alarms.length }, 'FHIR export of alarms');
      reply.type('application/fhir+json; charset=utf-8');
      return alarmBundle({ siteId, resident: { id: resident.id, name: resident.name }, sensors: config.sensors, alarms, now: deps.now() });
    },
  );
};
