import { hashPassword } from '@nattevakt/gateway/broker/credentials';
import type { Alarm } from '@nattevakt/protocol/alarm';
import type { ScenarioProgress, ScenarioRun, SelfTestLogEntry, TestSettingsView } from '@nattevakt/protocol/commissioning';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { builtInScenario, compileScenario } from '@nattevakt/simulator';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, login, oslo, type Person, type Stack, startStack } from './support/stack.js';

type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;

const SITE = 'bench';
const OTHER = 'other';
const SIMULATOR = { username: 'simulator', password: 'simulator password for the bench test' };

/**
 * The technician's bench against a real server, a real gateway (secured broker with a simulator
 * device, simulated clock) and real MQTT and /staff Socket.IO clients: a sensor's live events, a
 * scenario run from the route with progress and verdict, and the self-test maintenance log with
 * its watch for a missing self-test.
 */
describe('technician bench and self-test log, end to end', () => {
  let stack: Stack;
  let serverNow = Date.parse('2026-11-25T08:00:00Z'); // 09:00 in Oslo
  const cleanups: (() => Promise<void> | void)[] = [];
  const cookies = new Map<string, string>();

  beforeAll(async () => {
    const bedExit = await builtInScenario('bed-exit');
    if (bedExit === null) throw new Error('no built-in scenario bed-exit');
    const ward = compileScenario(bedExit.source, { file: 'bed-exit.yaml', siteId: SITE }).site;
    stack = await startStack({
      start: oslo('2026-11-24T20:00:00'),
      site: ward,
      mqttDevices: [{ role: 'simulator', username: SIMULATOR.username, passwordHash: await hashPassword(SIMULATOR.password) }],
      serverClock: { now: () => serverNow },
      commissioning: { selfTestPollMs: 0 },
    });
    // A second site without a gateway, with a self-test sensor in a room of its own.
    await stack.server.sites.save({
      version: 1,
      site: { id: OTHER, name: 'Andre avdeling', timezone: 'Europe/Oslo' },
      rooms: [{ id: 'selvtest', name: 'Selvtest' }],
      residents: [],
      sensors: [{ id: 'selvtest', kind: 'door', roomId: 'selvtest' }],
    });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await stack?.stop();
  });

  const as = async (person: Person) => {
    const cookie = cookies.get(person.username) ?? (await login(stack, person));
    cookies.set(person.username, cookie);
    return cookie;
  };
  const technician: Person = { username: 'tekniker', displayName: 'Tekniker Tor', role: 'technician', sites: [SITE, OTHER] };
  const admin: Person = { username: 'admin', displayName: 'Admin Anne', role: 'admin', sites: [SITE, OTHER] };
  const nurse: Person = { username: 'kari', displayName: 'Kari', role: 'nurse', sites: [SITE, OTHER] };
  const leader: Person = { username: 'leder', displayName: 'Leder Liv', role: 'nurse_in_charge', sites: [OTHER] };
  const strangerTech: Person = { username: 'fremmed', displayName: 'Fremmed tekniker', role: 'technician', sites: [OTHER] };
  const relative: Person = { username: 'datter', displayName: 'Datter', role: 'relative', sites: [SITE] };

  const http = async (person: Person, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.httpUrl}${path}`, {
      method,
      headers: { cookie: await as(person), 'x-nattevakt': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };

  /** A /staff client logged in as `person`, recording what it hears. */
  async function staffSocket(person: Person) {
    const socket: StaffSocket = io(`${stack.httpUrl}/staff`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: { cookie: await as(person) },
    });
    cleanups.push(() => void socket.disconnect());
    const heard = { events: [] as SensorEvent[], progress: [] as ScenarioProgress[], finished: [] as ScenarioRun[], alarms: [] as Alarm[] };
    socket.on('sensorEvent', (event) => heard.events.push(event));
    socket.on('scenarioProgress', (p) => heard.progress.push(p));
    socket.on('scenarioFinished', (run) => heard.finished.push(run));
    socket.on('alarm', (alarm) => heard.alarms.push(alarm));
    const error = await new Promise<string | null>((done) => {
      socket.on('connect', () => done(null));
      socket.on('connect_error', (e) => done(e.message));
    });
    return { socket, heard, error };
  }

  async function simulatorClient() {
    const client = await mqtt.connectAsync(stack.mqttUrl, { ...SIMULATOR, clientId: `bench-${Math.random()}`, protocolVersion: 4 });
    cleanups.push(() => client.endAsync());
    return client;
  }

  it('streams one sensor’s events live to a technician of the site, and to nobody else', async () => {
    const tech = await staffSocket(technician);
    expect(tech.error).toBeNull();
    expect(await tech.socket.emitWithAck('subscribeSensor', { siteId: SITE, sensorId: 'bed-1' })).toEqual({ ok: true });

    // Refused: a nurse (raw events are for the people who look after sensors), a technician of
    // another site, an unknown sensor, a malformed subscription; a relative never gets a /staff socket.
    const nurseSocket = await staffSocket(nurse);
    expect(await nurseSocket.socket.emitWithAck('subscribeSensor', { siteId: SITE, sensorId: 'bed-1' })).toEqual({
      ok: false,
      error: 'forbidden',
    });
    const stranger = await staffSocket(strangerTech);
    expect(await stranger.socket.emitWithAck('subscribeSensor', { siteId: SITE, sensorId: 'bed-1' })).toEqual({
      ok: false,
      error: 'forbidden',
    });
    expect(await tech.socket.emitWithAck('subscribeSensor', { siteId: SITE, sensorId: 'bed-99' })).toEqual({
      ok: false,
      error: 'no sensor "bed-99" at site "bench"',
    });
    const malformed = await tech.socket.emitWithAck('subscribeSensor', { siteId: SITE, sensorId: 'Bed/1' } as never);
    expect(malformed).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid: \/sensorId/) });
    const relativeSocket = await staffSocket(relative);
    expect(relativeSocket.error).toBe('your role may not use the ward board');

    const sensors = await simulatorClient();
    await sensors.publishAsync(topics.sensorState(SITE, 'bed-2'), JSON.stringify({ kind: 'bed', occupied: true, battery: 80 }), { qos: 1 });
    await sensors.publishAsync(topics.sensorState(SITE, 'bed-1'), JSON.stringify({ kind: 'bed', occupied: true, battery: 77 }), { qos: 1 });
    const event = await eventually('bed-1 event on the technician socket', () => tech.heard.events[0]);
    expect(event).toMatchObject({ siteId: SITE, sensorId: 'bed-1', occupied: true, battery: 77, format: 'native' });
    // The event of bed-2 came first and went to nobody; the nurse and the stranger heard nothing.
    await new Promise((r) => setTimeout(r, 200));
    expect(tech.heard.events.map((e) => e.sensorId)).toEqual(['bed-1']);
    expect(nurseSocket.heard.events).toEqual([]);
    expect(stranger.heard.events).toEqual([]);

    // Unsubscribed: the next event is not pushed. (The resident stays in bed: an empty bed before the
    // night window would be out of bed too long at the scenario's start, and the next test's verdict FAIL.)
    expect(await tech.socket.emitWithAck('unsubscribeSensor', { siteId: SITE, sensorId: 'bed-1' })).toEqual({ ok: true });
    await sensors.publishAsync(topics.sensorState(SITE, 'bed-1'), JSON.stringify({ kind: 'bed', occupied: true, battery: 76 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(tech.heard.events).toHaveLength(1);
  });

  it('stores the simulator connection write-only, and refuses a run without one', async () => {
    expect((await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, { scenario: 'bed-exit' })).json).toMatchObject({
      error: expect.stringContaining('no simulator connection is set for site "bench"'),
    });
    const body = { url: stack.mqttUrl, username: SIMULATOR.username, password: SIMULATOR.password };
    expect((await http(technician, 'PUT', `/api/sites/${SITE}/test-settings/simulator`, body)).status).toBe(403);
    expect((await http(admin, 'PUT', `/api/sites/${SITE}/test-settings/simulator`, { ...body, url: 'http://x' })).status).toBe(400);
    const saved = await http(admin, 'PUT', `/api/sites/${SITE}/test-settings/simulator`, body);
    expect(saved.status).toBe(200);
    expect(saved.text).not.toContain(SIMULATOR.password);
    const read = await http(technician, 'GET', `/api/sites/${SITE}/test-settings`);
    expect(read.text).not.toContain(SIMULATOR.password);
    expect(read.json as unknown as TestSettingsView).toMatchObject({
      simulator: { url: stack.mqttUrl, username: 'simulator', passwordSet: true, bridgeUsername: null, bridgePasswordSet: false },
      updatedBy: 'Admin Anne',
    });
    // Stored encrypted: the database does not hold the password in the clear either.
    const row = await stack.server.testSettings.simulatorConnection(SITE);
    expect(row?.password).toBe(SIMULATOR.password);
  });

  it('runs a built-in scenario from the route: progress to the technician, PASS stored and listed; one run at a time', async () => {
    const tech = await staffSocket(technician);
    expect((await http(nurse, 'POST', `/api/sites/${SITE}/scenario-runs`, { scenario: 'bed-exit' })).status).toBe(403);
    expect((await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, { scenario: 'no-such' })).status).toBe(404);
    const other = await http(technician, 'POST', `/api/sites/${OTHER}/scenario-runs`, { scenario: 'bed-exit' });
    expect(other.status).toBe(409);

    const started = await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, { scenario: 'bed-exit' });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ status: 'running', scenario: 'bed-exit', night: '2026-11-24', startedBy: 'Tekniker Tor' });
    const again = await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, { scenario: 'bed-exit' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already running on site "bench" \(bed-exit, started by Tekniker Tor\)/);

    const run = await eventually('verdict on the technician socket', () => tech.heard.finished[0], 20_000);
    expect(run, JSON.stringify(run)).toMatchObject({ id: started.json.id, status: 'passed', differences: [], error: null });
    expect(run.alarms).toEqual(['bed-exit res-1 bed-1 at 01:30:30']);
    expect(tech.heard.progress.length).toBeGreaterThan(0);
    expect(tech.heard.progress.at(-1)).toMatchObject({ runId: run.id, fraction: 1 });
    const listed = await http(admin, 'GET', `/api/sites/${SITE}/scenario-runs`);
    expect((listed.json.runs as ScenarioRun[])[0]).toMatchObject({ id: run.id, status: 'passed', sent: run.sent });
    // The gateway's alarm reached the server and the boards, like any alarm of a commissioning ward.
    await eventually('the scenario’s alarm on the server', async () =>
      (await stack.server.alarms.open()).alarms.find((a) => a.siteId === SITE && a.rule === 'bed-exit'),
    );
  });

  it('runs an uploaded scenario on a later night and stores FAIL with the differences; refuses a bad file with line and field', async () => {
    const tech = await staffSocket(technician);
    const bad = await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, {
      file: 'name: broken\nsite: demo-ward\nnight: "2026-11-24"\nfrom: "00:30"\nto: "02:30"\ntimeline:\n  - { at: "01:00", resident: res-1, does: toilet, for: 25 }\nexpect: []\n',
      fileName: 'broken.yaml',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.details).toEqual([expect.stringMatching(/^broken\.yaml:7:\d+: \/timeline\/0\/for: expected a duration/)]);

    const source = (await builtInScenario('bed-exit'))?.source.replace('at: "01:30:30"', 'at: "01:45"') ?? '';
    const started = await http(technician, 'POST', `/api/sites/${SITE}/scenario-runs`, { file: source, fileName: 'late.yaml' });
    expect(started.status).toBe(202);
    // The gateway's simulated clock is past the first night: the run moves to the next evening.
    expect(started.json).toMatchObject({ source: 'upload', night: '2026-11-25' });
    const run = await eventually('FAIL verdict', () => tech.heard.finished.find((r) => r.id === started.json.id), 20_000);
    expect(run.status).toBe('failed');
    expect(run.differences.map((d) => d.kind).sort()).toEqual(['missing', 'unexpected']);
    expect(run.differences.find((d) => d.kind === 'missing')?.text).toMatch(
      /expected bed-exit res-1 between 01:44:54 and 01:45:06 \(line \d+\); got the nearest at 01:30:30/,
    );
  });

  it('records self-tests in the maintenance log, readable by technician, nurse in charge and admin only', async () => {
    const report = {
      ok: true,
      at: new Date(serverNow).toISOString(),
      sensorId: 'selvtest',
      gatewayMs: 4,
      serverMs: 21,
      tabletMs: 180,
      device: 'tablet-1',
      resolved: true,
    };
    expect((await http(relative, 'POST', `/api/sites/${OTHER}/self-tests`, report)).status).toBe(403);
    expect((await http(nurse, 'POST', `/api/sites/${OTHER}/self-tests`, { ...report, sensorId: 'nope' })).status).toBe(400);
    expect((await http(nurse, 'POST', `/api/sites/${OTHER}/self-tests`, { ...report, gatewayMs: -1 })).status).toBe(400);
    const recorded = await http(nurse, 'POST', `/api/sites/${OTHER}/self-tests`, report);
    expect(recorded.status).toBe(201);
    expect(recorded.json).toMatchObject({
      result: 'passed',
      late: false,
      reportedBy: 'Kari',
      stages: [
        { stage: 'gateway', ms: 4 },
        { stage: 'server', ms: 21 },
        { stage: 'tablet', ms: 180 },
      ],
    });
    for (const reader of [technician, leader, admin]) {
      const log = await http(reader, 'GET', `/api/sites/${OTHER}/self-tests`);
      expect((log.json.entries as SelfTestLogEntry[]).map((e) => e.result)).toEqual(['passed']);
    }
    expect((await http(nurse, 'GET', `/api/sites/${OTHER}/self-tests`)).status).toBe(403);
    expect((await http(relative, 'GET', `/api/sites/${SITE}/self-tests`)).status).toBe(403);
  });

  it('raises self-test-missed exactly once when the daily self-test does not come, and marks a late one', async () => {
    serverNow = Date.parse('2026-11-26T08:00:00Z'); // 09:00 the next day: no test yet today
    cookies.clear(); // yesterday's sessions have expired
    const board = await staffSocket(leader);
    expect(
      (await http(nurse, 'PUT', `/api/sites/${OTHER}/test-settings/self-test`, { at: '10:00', graceMinutes: 15, sensorId: 'selvtest' }))
        .status,
    ).toBe(403);
    const bad = await http(leader, 'PUT', `/api/sites/${OTHER}/test-settings/self-test`, {
      at: '25:00',
      graceMinutes: 15,
      sensorId: 'selvtest',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/at/);
    expect(
      (await http(leader, 'PUT', `/api/sites/${OTHER}/test-settings/self-test`, { at: '10:00', graceMinutes: 15, sensorId: 'selvtest' }))
        .status,
    ).toBe(200);

    // 10:10: due, but within the grace; yesterday's test predates the schedule.
    serverNow = Date.parse('2026-11-26T09:10:00Z');
    expect(await stack.server.selfTests.check()).toBe(0);
    // 10:16: nothing came. The watch raises once, however often it looks.
    serverNow = Date.parse('2026-11-26T09:16:00Z');
    expect(await stack.server.selfTests.check()).toBe(1);
    expect(await Promise.all([stack.server.selfTests.check(), stack.server.selfTests.check()])).toEqual([0, 0]);
    expect(await stack.server.selfTests.check()).toBe(0);
    const missed = (await stack.server.alarms.open()).alarms.filter((a) => a.siteId === OTHER && a.rule === 'self-test-missed');
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({ priority: 'technical', sensorId: 'selvtest', roomName: 'Selvtest', status: 'active' });
    expect(missed[0]?.explanation?.nb.title).toBe('Selvtesten kom ikke');
    const onBoard = await eventually('the missed alarm on the nurse in charge’s board', () =>
      board.heard.alarms.find((a) => a.rule === 'self-test-missed'),
    );
    expect(onBoard.id).toBe(missed[0]?.id);

    // 10:30: the test comes after all: recorded as late, and the alarm's condition is over.
    serverNow = Date.parse('2026-11-26T09:30:00Z');
    const late = await http(nurse, 'POST', `/api/sites/${OTHER}/self-tests`, {
      ok: true,
      at: '2026-11-26T09:29:00.000Z',
      sensorId: 'selvtest',
      gatewayMs: 5,
      serverMs: 30,
      tabletMs: 200,
      device: 'tablet-1',
      resolved: true,
    });
    expect(late.json).toMatchObject({ result: 'passed', late: true });
    const cleared = (await stack.server.alarms.get(missed[0]?.id ?? ''))?.alarm;
    expect(cleared?.conditionClearedAt).toBe('2026-11-26T09:30:00.000Z');
    const log = (await http(technician, 'GET', `/api/sites/${OTHER}/self-tests`)).json.entries as SelfTestLogEntry[];
    expect(log.map((e) => [e.result, e.late])).toEqual([
      ['passed', true],
      ['missed', false],
      ['passed', false],
    ]);
    expect(log[1]).toMatchObject({ at: '2026-11-26T09:00:00.000Z', alarmId: missed[0]?.id, reportedBy: 'server' });

    // A failed test whose alarm never reached the server raises self-test-failed.
    const failed = await http(nurse, 'POST', `/api/sites/${OTHER}/self-tests`, {
      ok: false,
      at: '2026-11-26T09:31:00.000Z',
      sensorId: 'selvtest',
      failure: 'the gateway raised no tamper alarm for selvtest within 10 s',
      resolved: false,
    });
    expect(failed.json).toMatchObject({ result: 'failed', alarmId: expect.stringMatching(/^self-test-failed-/) });
    expect((await stack.server.alarms.get(failed.json.alarmId as string))?.alarm).toMatchObject({
      rule: 'self-test-failed',
      status: 'active',
    });
  });
});
