import type { AddressInfo } from 'node:net';
import type { AlarmReport, NightSummary, WhatIfResult } from '@nattevakt/protocol/night-summary';
import type { SupervisionPlan } from '@nattevakt/protocol/site-config';
import type { GatewayClientToServer, GatewayServerToClient, OutboxItem } from '@nattevakt/protocol/socket-events';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { NattevaktServer } from '../src/app.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';
import { type ManualClock, NURSE_NAME, oslo, recordedNights } from './support/nights.js';

type Role = 'nurse' | 'nurse_in_charge' | 'relative' | 'technician' | 'admin';

describe.each(engines)('night summaries, reports, what-if and FHIR export ($name)', (engine) => {
  let server: NattevaktServer | undefined;
  afterEach(async () => {
    await server?.app.close();
    server = undefined;
    await engine.reset();
  });

  const start = async (rawEventDays = 30): Promise<{ server: NattevaktServer; clock: ManualClock }> => {
    const recorded = await recordedNights(engine, { retention: { intervalMs: 0, rawEventDays } });
    server = recorded.server;
    return recorded;
  };
  const as = async (s: NattevaktServer, role: Role, sites = ['demo']) => {
    const cookie = await loginAs(s, { username: `${role}-${sites.join('-')}`, displayName: `${role} ${sites.join(' ')}`, role, sites });
    return {
      get: (url: string) => s.app.inject({ method: 'GET', url, headers: { cookie } }),
      post: (url: string, payload: object) => s.app.inject({ method: 'POST', url, headers: { cookie, 'x-nattevakt': '1' }, payload }),
    };
  };

  it("summarises a resident's night from the recorded events and alarms, with response times and no staff names", async () => {
    const { server: s } = await start();
    const nurse = await as(s, 'nurse');
    const response = await nurse.get('/api/sites/demo/residents/res-1/nights/2026-11-24');
    expect(response.statusCode, response.body).toBe(200);
    const summary = response.json<NightSummary>();
    expect(summary).toMatchObject({
      night: '2026-11-24',
      window: { start: new Date(oslo('2026-11-24', '22:00')).toISOString(), end: new Date(oslo('2026-11-25', '07:00')).toISOString() },
      complete: true,
      timeInBedMinutes: 534,
      bedExits: 1,
      longestOutOfBedMinutes: 6,
      doorOpenings: 1,
      verdict: 'calm',
    });
    expect(summary.alarms).toEqual([
      expect.objectContaining({
        id: 'alarm-24',
        rule: 'door-open-at-night',
        deliveredAfterMs: 500,
        responseMs: 40_000,
        outcome: 'back-by-themselves',
      }),
    ]);
    expect(summary.reason.nb).toMatch(/^Rolig natt: i seng 8 t 54 min av 9 t, oppe 1 gang \(lengst 6 min\)/);
    expect(response.body).not.toContain(NURSE_NAME);

    // Bjarne's own window (23:00–06:00) and bed mat; his room has no door sensor.
    const other = (await nurse.get('/api/sites/demo/residents/res-2/nights/2026-11-24')).json<NightSummary>();
    expect(other).toMatchObject({ timeInBedMinutes: 420, bedExits: 0, doorOpenings: null, alarms: [], verdict: 'calm' });

    // Stored: the list reads it back.
    const list = await nurse.get('/api/sites/demo/residents/res-1/nights?from=2026-11-20&to=2026-11-24');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ summaries: NightSummary[] }>().summaries.map((x) => x.night)).toEqual(['2026-11-24']);
  });

  it('retention: the job summarises the nights first, then deletes raw events; summaries and the alarm audit trail stay', async () => {
    const { server: s, clock } = await start(2);
    clock.set(oslo('2026-11-28', '09:00'));
    const run = await s.retention.run();
    expect(run).toMatchObject({ deleted: true, cutoff: new Date(oslo('2026-11-26', '09:00')).toISOString() });
    expect(await s.timeSeries.range('demo', new Date(oslo('2026-11-20', '00:00')), new Date(oslo('2026-11-28', '00:00')))).toEqual([]);
    const nurse = await as(s, 'nurse');
    // Made by the job, before the delete: the same numbers as from the raw events.
    const summary = (await nurse.get('/api/sites/demo/residents/res-1/nights/2026-11-24')).json<NightSummary>();
    expect(summary).toMatchObject({
      timeInBedMinutes: 534,
      bedExits: 1,
      doorOpenings: 1,
      computedAt: new Date(oslo('2026-11-28', '09:00')).toISOString(),
    });
    const night23 = (await nurse.get('/api/sites/demo/residents/res-1/nights/2026-11-23')).json<NightSummary>();
    expect(night23.alarms.map((a) => a.id)).toEqual(['alarm-23a', 'alarm-23b']);
    const audit = (await nurse.get('/api/alarms/alarm-24')).json<{ audit: { action: string }[] }>().audit.map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['raised', 'acknowledged', 'resolved']));
    // A second run finds nothing new to summarise and deletes idempotently.
    expect(await s.retention.run()).toMatchObject({ deleted: true, summarised: 0 });
  });

  it("a gateway's outbox delivered late sends an already summarised night back to be summarised again", async () => {
    const { server: s } = await start();
    expect(await s.retention.run()).toMatchObject({ summarised: 2 }); // the nights of the 23rd and 24th
    const nurse = await as(s, 'nurse');
    const before = (await nurse.get('/api/sites/demo/residents/res-2/nights/2026-11-24')).json<NightSummary>();
    expect(before).toMatchObject({ bedExits: 0, timeInBedMinutes: 420 });

    // Bjarne's gateway was cut off at 03:00 and delivers its outbox through the real ingestion path.
    await s.sites.setGatewayToken('demo', 'gateway-token-for-night-tests-01');
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const socket: Socket<GatewayServerToClient, GatewayClientToServer> = io(
      `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}/gateway`,
      {
        auth: { token: 'gateway-token-for-night-tests-01' },
        transports: ['websocket'],
        reconnection: false,
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const late = (id: string, time: string, occupied: boolean): OutboxItem => ({
        type: 'event',
        event: {
          id,
          siteId: 'demo',
          sensorId: 'bed-2',
          sensorKind: 'bed',
          roomId: 'room-2',
          residentId: 'res-2',
          time: new Date(oslo('2026-11-25', time)).toISOString(),
          occupied,
          format: 'native',
          raw: '{}',
        },
      });
      const ack = await socket.emitWithAck('batch', [late('late-1', '03:00', false), late('late-2', '03:40', true)]);
      expect(ack).toEqual({ ok: true, accepted: 2, rejected: [] });
    } finally {
      socket.disconnect();
    }
    const after = (await nurse.get('/api/sites/demo/residents/res-2/nights/2026-11-24')).json<NightSummary>();
    expect(after).toMatchObject({ bedExits: 1, longestOutOfBedMinutes: 40, timeInBedMinutes: 380 });
    // Astrid's stored night is the same as before.
    expect((await nurse.get('/api/sites/demo/residents/res-1/nights/2026-11-24')).json<NightSummary>()).toMatchObject({
      timeInBedMinutes: 534,
    });
  });

  it('finds the state of a bed mat that reports only on change from the day before', async () => {
    const { server: s } = await start();
    const bed2 = (id: string, date: string, time: string, occupied: boolean) => ({
      id,
      siteId: 'demo',
      sensorId: 'bed-2',
      sensorKind: 'bed' as const,
      roomId: 'room-2',
      residentId: 'res-2',
      time: new Date(oslo(date, time)).toISOString(),
      occupied,
      format: 'zigbee2mqtt' as const,
      raw: '{}',
    });
    // In bed since the morning (a sick day); the mat says nothing more until 03:00.
    await s.timeSeries.write([
      bed2('z1', '2026-11-20', '09:00', true),
      bed2('z2', '2026-11-21', '03:00', false),
      bed2('z3', '2026-11-21', '03:10', true),
    ]);
    const nurse = await as(s, 'nurse');
    const summary = (await nurse.get('/api/sites/demo/residents/res-2/nights/2026-11-20')).json<NightSummary>();
    expect(summary).toMatchObject({ observedMinutes: 420, timeInBedMinutes: 410, bedExits: 1, longestOutOfBedMinutes: 10 });
  });

  it('retention keeps raw events younger than the period', async () => {
    const { server: s } = await start(30);
    expect(await s.retention.run()).toMatchObject({ deleted: true });
    expect(await s.timeSeries.range('demo', new Date(oslo('2026-11-24', '00:00')), new Date(oslo('2026-11-26', '00:00')))).toHaveLength(11);
  });

  it('reports alarms per night and rule, response time p50/p90, false-alarm share and nights without a physical check', async () => {
    const { server: s } = await start();
    const lead = await as(s, 'nurse_in_charge');
    // The night of the 24th is summarised (watched); the 23rd has alarms.
    expect((await lead.get('/api/sites/demo/residents/res-1/nights/2026-11-24')).statusCode).toBe(200);
    const response = await lead.get('/api/sites/demo/reports/alarms?from=2026-11-22&to=2026-11-24');
    expect(response.statusCode, response.body).toBe(200);
    const report = response.json<AlarmReport>();
    expect(report).toMatchObject({ alarms: 3, responseMs: { count: 3, p50: 60_000, p90: 120_000 }, nightsWithoutPhysicalCheck: 1 });
    expect(report.nights).toEqual([
      { night: '2026-11-22', watched: false, alarms: 0, byRule: {}, physicalChecks: 0, noPhysicalCheckNeeded: false },
      {
        night: '2026-11-23',
        watched: true,
        alarms: 2,
        byRule: { 'door-open-at-night': 1, 'out-of-bed-too-long': 1 },
        physicalChecks: 1,
        noPhysicalCheckNeeded: false,
      },
      {
        night: '2026-11-24',
        watched: true,
        alarms: 1,
        byRule: { 'door-open-at-night': 1 },
        physicalChecks: 0,
        noPhysicalCheckNeeded: true,
      },
    ]);
    expect(report.rules).toEqual([
      {
        rule: 'door-open-at-night',
        alarms: 2,
        withOutcome: 2,
        falseAlarms: 1,
        falseAlarmShare: 0.5,
        responseMs: { count: 2, p50: 40_000, p90: 60_000 },
      },
      {
        rule: 'out-of-bed-too-long',
        alarms: 1,
        withOutcome: 1,
        falseAlarms: 0,
        falseAlarmShare: 0,
        responseMs: { count: 1, p50: 120_000, p90: 120_000 },
      },
    ]);
    const one = (await lead.get('/api/sites/demo/reports/alarms?from=2026-11-22&to=2026-11-24&residentId=res-2')).json<AlarmReport>();
    expect(one).toMatchObject({ residentId: 'res-2', alarms: 0 });
  });

  it('what-if replays the recorded nights through the rule engine with the proposed and the current plan, and saves nothing', async () => {
    const { server: s } = await start(2);
    const lead = await as(s, 'nurse_in_charge');
    const before = s.sites.get('demo');
    const proposed: SupervisionPlan = {
      armed: true,
      nightWindow: { start: '22:00', end: '07:00' },
      rules: {
        doorOpenAtNight: { enabled: false, priority: 'high' },
        outOfBedTooLong: { enabled: true, minutes: 5, priority: 'medium' },
        bedExit: { enabled: true, priority: 'high' },
      },
    };
    const response = await lead.post('/api/sites/demo/residents/res-1/what-if', { plan: proposed, nights: 2 });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json<WhatIfResult>();
    expect(result.nights.map((n) => n.night)).toEqual(['2026-11-23', '2026-11-24']);
    expect(result.nights[1]).toMatchObject({
      events: 9,
      current: { total: 1, byRule: { 'door-open-at-night': 1 } },
      proposed: { total: 2, byRule: { 'bed-exit': 1, 'out-of-bed-too-long': 1 } },
      recorded: { total: 1, byRule: { 'door-open-at-night': 1 } },
    });
    expect(result.nights[0]).toMatchObject({ events: 0, current: { total: 0 }, proposed: { total: 0 }, recorded: { total: 2 } });
    expect(result.totals).toMatchObject({ current: { total: 1 }, proposed: { total: 2 }, recorded: { total: 3 } });
    expect(s.sites.get('demo')).toEqual(before);

    // Replayed as armed whatever the plan says: arming is the legal basis's business, not a plan change's.
    const off = (
      await lead.post('/api/sites/demo/residents/res-1/what-if', { plan: { ...proposed, armed: false }, nights: 1 })
    ).json<WhatIfResult>();
    expect(off.totals.proposed.total).toBe(2);
    // Only the rules asked for.
    const only = (
      await lead.post('/api/sites/demo/residents/res-1/what-if', { plan: proposed, nights: 1, rules: ['bed-exit'] })
    ).json<WhatIfResult>();
    expect(only).toMatchObject({ rules: ['bed-exit'], totals: { current: { total: 0 }, proposed: { total: 1 }, recorded: { total: 0 } } });

    // Bad requests say which field is wrong.
    const tooMany = await lead.post('/api/sites/demo/residents/res-1/what-if', { plan: proposed, nights: 3 });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json<{ error: string }>().error).toMatch(/body\/nights.*kept 2 days/);
    const bad = await lead.post('/api/sites/demo/residents/res-1/what-if', {
      plan: { ...proposed, rules: { ...proposed.rules, outOfBedTooLong: { enabled: true, minutes: 0, priority: 'medium' } } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toMatch(/minutes/);
    expect((await lead.post('/api/sites/demo/residents/res-1/what-if', { plan: proposed, extra: 1 })).statusCode).toBe(400);
    const battery = await lead.post('/api/sites/demo/residents/res-1/what-if', {
      plan: { ...proposed, technical: { lowBatteryPercent: 30, batteryClearPercent: 20 } },
    });
    expect(battery.statusCode).toBe(400);
    expect(battery.json<{ error: string }>().error).toBe(
      'body/plan/technical: batteryClearPercent (20) must be above lowBatteryPercent (30)',
    );
  });

  it('exports a resident’s alarms as a FHIR R4 Bundle of DetectedIssue with the nurses’ actions as mitigation', async () => {
    const { server: s } = await start();
    const lead = await as(s, 'nurse_in_charge');
    const response = await lead.get('/api/sites/demo/residents/res-1/fhir/alarms');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = response.json<FhirBundle>();
    const issues = validateBundle(bundle);
    expect(issues.map((i) => i.identifier[0]?.value)).toEqual(['alarm-23a', 'alarm-23b', 'alarm-24']);
    const last = issues[2] as DetectedIssue;
    expect(last).toMatchObject({
      status: 'final',
      severity: 'high',
      code: { coding: [{ system: 'urn:nattevakt:fhir:alarm-rule', code: 'door-open-at-night' }] },
      identifiedDateTime: new Date(oslo('2026-11-25', '03:13') + 1000).toISOString(),
    });
    expect(last.mitigation?.map((m) => [m.action.coding?.[0]?.code, m.author?.display])).toEqual([
      ['acknowledged', NURSE_NAME],
      ['back-by-themselves', NURSE_NAME],
    ]);
    expect(issues[0]?.mitigation?.[1]?.action.coding?.[0]?.code).toBe('false-alarm');
    // One Practitioner for the nurse, one Patient, and a Device per sensor that raised.
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Practitioner')).toHaveLength(1);
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Device')).toHaveLength(2);

    const window = await lead.get(
      `/api/sites/demo/residents/res-1/fhir/alarms?from=${encodeURIComponent(new Date(oslo('2026-11-25', '00:00')).toISOString())}`,
    );
    expect(validateBundle(window.json<FhirBundle>())).toHaveLength(1);
    // The same data gives the same bundle (stable ids), apart from its timestamp.
    const again = (await lead.get('/api/sites/demo/residents/res-1/fhir/alarms')).json<FhirBundle>();
    expect(again.entry).toEqual(bundle.entry);
  });

  it('refuses other roles, other sites, no session, and bad nights with a clear error', async () => {
    const { server: s } = await start();
    const nurse = await as(s, 'nurse');
    const technician = await as(s, 'technician');
    const relative = await as(s, 'relative', []);
    const stranger = await as(s, 'nurse_in_charge', ['other']);
    const lead = await as(s, 'nurse_in_charge');
    const plan = s.sites.get('demo')?.residents[0]?.plan;
    for (const url of ['/api/sites/demo/reports/alarms', '/api/sites/demo/residents/res-1/fhir/alarms']) {
      expect((await nurse.get(url)).statusCode).toBe(403);
      expect((await relative.get(url)).statusCode).toBe(403);
      expect((await stranger.get(url)).statusCode).toBe(403);
      expect((await s.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    }
    expect((await nurse.post('/api/sites/demo/residents/res-1/what-if', { plan })).statusCode).toBe(403);
    expect((await stranger.post('/api/sites/demo/residents/res-1/what-if', { plan })).statusCode).toBe(403);
    for (const who of [technician, relative, stranger])
      expect((await who.get('/api/sites/demo/residents/res-1/nights/2026-11-24')).statusCode).toBe(403);
    const error = async (url: string) => {
      const r = await lead.get(url);
      return [r.statusCode, r.json<{ error: string }>().error] as const;
    };
    expect(await error('/api/sites/demo/residents/res-9/nights/2026-11-24')).toEqual([404, 'no resident "res-9" at site "demo"']);
    expect(await error('/api/sites/demo/residents/res-1/nights/2026-02-30')).toEqual([400, 'params/night: "2026-02-30" is not a date']);
    expect((await error('/api/sites/demo/residents/res-1/nights/2026-12-24'))[0]).toBe(400);
    expect((await error('/api/sites/demo/residents/res-1/nights/2026-11-10'))[0]).toBe(404);
    expect(await error('/api/sites/demo/reports/alarms?from=2026-11-24&to=2026-11-20')).toEqual([
      400,
      'querystring/from must not be after querystring/to',
    ]);
    expect((await error('/api/sites/demo/reports/alarms?from=2020-01-01&to=2026-11-20'))[0]).toBe(400);
    expect((await error('/api/sites/demo/reports/alarms?since=2026-11-24'))[0]).toBe(400);
  });
});

// --- A structural check of FHIR R4 resources: required elements, value sets, references that resolve ---

interface Reference {
  reference: string;
  display?: string;
}
interface DetectedIssue {
  resourceType: 'DetectedIssue';
  identifier: { system: string; value: string }[];
  status: string;
  code?: { coding?: { system: string; code: string; display?: string }[]; text?: string };
  severity?: string;
  patient?: Reference;
  identifiedDateTime?: string;
  author?: Reference;
  detail?: string;
  mitigation?: { action: { coding?: { system: string; code: string }[]; text?: string }; date?: string; author?: Reference }[];
}
interface FhirBundle {
  resourceType: string;
  type: string;
  timestamp: string;
  entry: { fullUrl: string; resource: { resourceType: string; [key: string]: unknown } }[];
}

const OBSERVATION_STATUS = ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'];
const SEVERITY = ['high', 'moderate', 'low'];
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Checks what R4 requires of a collection Bundle of DetectedIssue; returns the issues. */
function validateBundle(bundle: FhirBundle): DetectedIssue[] {
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('collection');
  expect(bundle.timestamp).toMatch(DATE_TIME);
  const byUrl = new Map<string, { resourceType: string; [key: string]: unknown }>();
  for (const entry of bundle.entry) {
    expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(byUrl.has(entry.fullUrl), `duplicate fullUrl ${entry.fullUrl}`).toBe(false);
    byUrl.set(entry.fullUrl, entry.resource);
    if (entry.resource.id !== undefined) expect(entry.resource.id).toMatch(FHIR_ID);
  }
  const resolves = (ref: Reference | undefined, type: string) => {
    expect(ref?.reference, `reference to ${type}`).toBeDefined();
    expect(byUrl.get(ref?.reference as string)?.resourceType, `${ref?.reference} resolves to a ${type}`).toBe(type);
  };
  const issues = bundle.entry
    .map((e) => e.resource)
    .filter((r): r is DetectedIssue & { [key: string]: unknown } => r.resourceType === 'DetectedIssue');
  for (const issue of issues) {
    expect(OBSERVATION_STATUS).toContain(issue.status); // DetectedIssue.status 1..1
    if (issue.severity !== undefined) expect(SEVERITY).toContain(issue.severity);
    expect(issue.code?.coding?.[0]?.system).toMatch(/^(urn|https?):/);
    expect(issue.code?.coding?.[0]?.code).toMatch(/^[a-z-]+$/);
    expect(issue.identifiedDateTime).toMatch(DATE_TIME);
    resolves(issue.patient, 'Patient');
    resolves(issue.author, 'Device');
    for (const m of issue.mitigation ?? []) {
      expect(m.action.coding?.length ?? 0).toBeGreaterThan(0); // mitigation.action 1..1
      expect(m.date).toMatch(DATE_TIME);
      resolves(m.author, 'Practitioner');
    }
    expect(
      Object.keys(issue).every((k) =>
        [
          'resourceType',
          'id',
          'identifier',
          'status',
          'code',
          'severity',
          'patient',
          'identifiedDateTime',
          'author',
          'detail',
          'mitigation',
        ].includes(k),
      ),
    ).toBe(true);
  }
  for (const r of byUrl.values()) {
    if (r.resourceType === 'Patient' || r.resourceType === 'Practitioner') expect((r.name as { text: string }[])[0]?.text).toBeTruthy();
    if (r.resourceType === 'Device')
      expect(['udi-label-name', 'user-friendly-name', 'patient-reported-name', 'manufacturer-name', 'model-name', 'other']).toContain(
        (r.deviceName as { type: string }[])[0]?.type,
      );
  }
  return issues;
}
