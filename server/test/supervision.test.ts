import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { EvaluationReminders, UnprotectedView } from '@nattevakt/protocol/supervision';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, Harness, ManualClock, type StaffSocket, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';

const CSRF = { 'x-nattevakt': '1' };
const DAY = 86_400_000;
const BASE = '/api/sites/demo/residents/res-1';

describe.each(engines)('legal basis, plan status and arming ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  /** A server whose resident res-1 has no legal basis yet (the harness seeds one; it is ended here), a nurse in charge and a gateway socket. */
  async function start(clock = new ManualClock()) {
    const { server, url } = await h.server({ clock, supervision: { reminderDays: 14, pollMs: 3_600_000 } });
    const leder = await loginAs(server, { username: 'leder', displayName: 'Liv Leder', role: 'nurse_in_charge' });
    let cookie = leder;
    /** As the nurse in charge; logs in again when the clock moved past the session's end. */
    const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: object) => {
      const send = () => server.app.inject({ method, url: path, headers: { cookie, ...CSRF }, ...(payload ? { payload } : {}) });
      const answer = await send();
      if (answer.statusCode !== 401) return answer;
      cookie = await loginAs(server, { username: 'leder', displayName: 'Liv Leder', role: 'nurse_in_charge' });
      return send();
    };
    // Start from "no legal basis": end the consent the harness seeded.
    expect((await call('POST', `${BASE}/legal-basis/end`, { reason: 'reset for the test' })).statusCode).toBe(200);
    const gateway = await h.gateway(url);
    const configs: SiteConfig[] = [];
    gateway.socket.on('config', (c) => configs.push(c));
    const armedOf = () => server.sites.get('demo')?.residents[0]?.plan.armed;
    return { server, url, clock, call, leder, configs, armedOf };
  }

  it('arms a resident only with a recorded legal basis and an active plan, and pushes each change to the gateway', async () => {
    const { server, call, configs, armedOf, clock } = await start();
    clock.advance(60_000);
    expect(armedOf()).toBe(false);
    const revision0 = server.sites.get('demo')?.revision ?? 0;

    const consent = await call('POST', `${BASE}/legal-basis`, {
      kind: 'consent',
      givenBy: 'guardian',
      guardianName: 'Per H.',
      consentedOn: '2026-11-20',
    });
    expect(consent.statusCode).toBe(201);
    expect(consent.json()).toMatchObject({
      armed: true,
      revision: revision0 + 1,
      legalBasis: {
        kind: 'consent',
        givenBy: 'guardian',
        guardianName: 'Per H.',
        consentedOn: '2026-11-20',
        recordedBy: 'Liv Leder',
        evaluation: 'not-applicable',
      },
    });
    const pushed = await eventually('armed config pushed', () => configs.find((c) => c.revision === revision0 + 1));
    expect(pushed.residents[0]?.plan.armed).toBe(true);

    const pause = await call('POST', `${BASE}/plan/pause`, { reason: 'på sykehus' });
    expect(pause.json()).toMatchObject({
      armed: false,
      status: { state: 'paused', reason: 'på sykehus', until: null, changedBy: 'Liv Leder' },
    });
    await eventually('paused config pushed', () =>
      configs.find((c) => c.revision === revision0 + 2 && c.residents[0]?.plan.armed === false),
    );
    expect((await call('POST', `${BASE}/plan/pause`, { reason: 'x', until: '2020-01-01T00:00:00Z' })).json()).toEqual({
      error: 'body/until: 2020-01-01T00:00:00Z has already passed',
    });

    expect((await call('POST', `${BASE}/plan/resume`, {})).json()).toMatchObject({ armed: true, status: { state: 'active' } });
    expect((await call('POST', `${BASE}/plan/resume`, {})).statusCode).toBe(409);
    expect((await call('POST', `${BASE}/plan/end`, { reason: 'flyttet' })).json()).toMatchObject({
      armed: false,
      status: { state: 'ended' },
    });
    expect((await call('POST', `${BASE}/plan/pause`, { reason: 'x' })).statusCode).toBe(409);
    expect((await call('POST', `${BASE}/plan/resume`, { note: 'tilbake' })).json()).toMatchObject({ armed: true });

    // Withdrawn consent: unarmed at once, the record kept as history.
    clock.advance(60_000);
    const ended = await call('POST', `${BASE}/legal-basis/end`, { reason: 'samtykke trukket' });
    expect(ended.json()).toMatchObject({ armed: false, legalBasis: { endReason: 'samtykke trukket', endedBy: 'Liv Leder' } });
    const bases = (await call('GET', `${BASE}/legal-basis`)).json();
    expect(bases.current).toBeNull();
    expect(bases.history.map((b: { endReason: string }) => b.endReason)).toEqual(['samtykke trukket', 'reset for the test']);

    // Every change is in the audit trail with who and when, newest first.
    const audit = (await call('GET', '/api/sites/demo/audit?residentId=res-1')).json().entries as {
      entity: string;
      action: string;
      actor: string;
    }[];
    expect(audit.map((e) => `${e.entity}:${e.action}:${e.actor}`)).toEqual([
      'legal-basis:ended:Liv Leder',
      'plan-status:resumed:Liv Leder',
      'plan-status:ended:Liv Leder',
      'plan-status:resumed:Liv Leder',
      'plan-status:paused:Liv Leder',
      'legal-basis:recorded:Liv Leder',
      'legal-basis:ended:Liv Leder',
      'legal-basis:seeded:test',
    ]);
  });

  it('keeps a vedtak whose evaluation is overdue armed, flags it, and reminds the nurse in charge', async () => {
    const { server, call, clock, armedOf } = await start();
    const vedtak = await call('POST', `${BASE}/legal-basis`, {
      kind: 'vedtak',
      decidedOn: '2026-05-01',
      nextEvaluationOn: '2026-12-20',
      reference: 'Sak 2026/114',
    });
    expect(vedtak.statusCode).toBe(201);
    expect(vedtak.json()).toMatchObject({ armed: true, legalBasis: { kind: 'vedtak', evaluation: 'ok', reference: 'Sak 2026/114' } });
    const reminders = async (q = '') => (await call('GET', `/api/sites/demo/evaluation-reminders${q}`)).json() as EvaluationReminders;
    expect((await reminders()).reminders).toEqual([]);
    expect((await reminders('?withinDays=30')).reminders).toMatchObject([{ residentId: 'res-1', daysLeft: 25, state: 'due' }]);

    clock.advance(12 * DAY); // 2026-12-07: 13 days left
    expect(await server.supervision.runDue()).toEqual({ resumed: 0, reminded: 1 });
    expect(await server.supervision.runDue()).toEqual({ resumed: 0, reminded: 0 });
    expect((await reminders()).reminders).toMatchObject([
      { residentName: 'Astrid H.', roomName: 'Rom 1', nextEvaluationOn: '2026-12-20', daysLeft: 13, state: 'due' },
    ]);

    clock.advance(14 * DAY); // 2026-12-21: one day overdue
    expect(await server.supervision.runDue()).toEqual({ resumed: 0, reminded: 1 });
    expect(armedOf()).toBe(true);
    const overdue = await reminders();
    expect(overdue).toMatchObject({ today: '2026-12-21', withinDays: 14, reminders: [{ daysLeft: -1, state: 'overdue' }] });
    const unprotected = (await call('GET', '/api/sites/demo/unprotected')).json() as UnprotectedView;
    const astrid = unprotected.residents.find((r) => r.residentId === 'res-1');
    expect(astrid?.armed).toBe(true);
    expect(astrid?.reasons).toContainEqual({ code: 'evaluation-overdue', severity: 'weakened', date: '2026-12-20', days: -1 });

    // Evaluated: the reminder goes away, the next date is kept.
    const evaluated = await call('POST', `${BASE}/legal-basis/evaluation`, { evaluatedOn: '2026-12-21', nextEvaluationOn: '2027-06-21' });
    expect(evaluated.json()).toMatchObject({
      armed: true,
      legalBasis: { evaluatedOn: '2026-12-21', nextEvaluationOn: '2027-06-21', evaluation: 'ok' },
    });
    expect((await reminders()).reminders).toEqual([]);
    expect(
      (await call('POST', `${BASE}/legal-basis/evaluation`, { evaluatedOn: '2026-12-21', nextEvaluationOn: '2026-12-01' })).json(),
    ).toEqual({
      error: 'body/nextEvaluationOn: must be after evaluatedOn (2026-12-21)',
    });
  });

  it('resumes a pause by itself when its time is up, as "system", exactly once', async () => {
    const { server, call, clock, armedOf } = await start();
    await call('POST', `${BASE}/legal-basis`, { kind: 'consent', givenBy: 'resident', consentedOn: '2026-11-25' });
    const until = new Date(clock.now() + 2 * 3_600_000).toISOString();
    // Given with an offset and no milliseconds (05:00+01:00 = 04:00Z), kept as UTC text so it compares as time.
    const pause = await call('POST', `${BASE}/plan/pause`, { reason: 'permisjon', until: '2026-11-25T05:00:00+01:00' });
    expect(pause.json()).toMatchObject({ armed: false, status: { until } });
    clock.advance(2 * 3_600_000 - 1);
    expect(await server.supervision.runDue()).toEqual({ resumed: 0, reminded: 0 });
    clock.advance(1);
    const [a, b] = await Promise.all([server.supervision.runDue(), server.supervision.runDue()]);
    expect(a.resumed + b.resumed).toBe(1);
    expect(armedOf()).toBe(true);
    const [latest] = (await call('GET', '/api/sites/demo/audit?limit=1')).json().entries;
    expect(latest).toMatchObject({ entity: 'plan-status', action: 'resumed', actor: 'system', detail: { pauseReason: 'permisjon' } });
  });

  it('refuses bad legal-basis input with the field named, and writes nothing', async () => {
    const { server, call } = await start();
    const revision = server.sites.get('demo')?.revision;
    const cases: [object, RegExp][] = [
      [{ kind: 'consent', givenBy: 'resident', consentedOn: '2026-12-24' }, /^body\/consentedOn: 2026-12-24 is in the future/],
      [{ kind: 'consent', givenBy: 'guardian', consentedOn: '2026-11-01' }, /^body\/guardianName: required/],
      [{ kind: 'consent', givenBy: 'resident', consentedOn: '2026-02-30' }, /^body\/consentedOn: 2026-02-30 is not a date that exists/],
      [
        { kind: 'vedtak', decidedOn: '2026-11-01', nextEvaluationOn: '2026-10-01', reference: 'x' },
        /^body\/nextEvaluationOn: must be after decidedOn/,
      ],
      [{ kind: 'vedtak', decidedOn: '2026-11-01', nextEvaluationOn: '2027-01-01' }, /^body\/reference: required for a vedtak$/],
      [{ kind: 'consent', givenBy: 'resident', consentedOn: '2026-11-01', armed: true }, /must NOT have additional properties|armed/],
      [{ kind: 'samtykke', consentedOn: '2026-11-01' }, /^body\/kind must be equal to one of the allowed values|^body\/kind/],
      [{ kind: 'consent', consentedOn: '2026-11-01' }, /^body\/givenBy: required for a consent$/],
      [
        { kind: 'vedtak', decidedOn: '2026-11-01', nextEvaluationOn: '2027-01-01', reference: 'x', givenBy: 'resident' },
        /^body\/givenBy: not part of a vedtak$/,
      ],
    ];
    for (const [payload, message] of cases) {
      const answer = await call('POST', `${BASE}/legal-basis`, payload);
      expect(answer.statusCode, JSON.stringify(payload)).toBe(400);
      expect(answer.json().error).toMatch(message);
    }
    expect(
      (
        await call('POST', '/api/sites/demo/residents/nobody/legal-basis', {
          kind: 'consent',
          givenBy: 'resident',
          consentedOn: '2026-11-01',
        })
      ).statusCode,
    ).toBe(404);
    expect(server.sites.get('demo')?.revision).toBe(revision);
    expect((await call('GET', `${BASE}/legal-basis`)).json().current).toBeNull();
  });

  it('sends evaluation reminders over /staff to the nurse in charge only: on connect and when one falls due', async () => {
    const { server, url, call, clock } = await start();
    // Due in 6 days: recording it claims the "due" reminder at once.
    await call('POST', `${BASE}/legal-basis`, {
      kind: 'vedtak',
      decidedOn: '2026-05-01',
      nextEvaluationOn: '2026-12-01',
      reference: 'Sak 7',
    });
    const nurse = await connectStaff(url, await loginAs(server, { username: 'kari', role: 'nurse' }));
    const inCharge = await connectStaff(url, await loginAs(server, { username: 'liv', role: 'nurse_in_charge' }));
    h.onClose(() => {
      nurse.socket.disconnect();
      inCharge.socket.disconnect();
    });
    const onConnect = await eventually('reminders on connect', () => inCharge.reminders[0]);
    expect(onConnect).toMatchObject({
      siteId: 'demo',
      reminders: [{ residentId: 'res-1', reference: 'Sak 7', daysLeft: 6, state: 'due' }],
    });

    clock.advance(7 * DAY);
    expect((await server.supervision.runDue()).reminded).toBe(1);
    await eventually('overdue reminder', () => inCharge.reminders.find((r) => r.reminders[0]?.state === 'overdue'));
    await sleep(100);
    expect(nurse.reminders).toEqual([]);
  });
});

async function connectStaff(url: string, cookie: string) {
  const socket: StaffSocket = io(`${url}/staff`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie },
  });
  const reminders: EvaluationReminders[] = [];
  socket.on('evaluationReminders', (r) => reminders.push(r));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, reminders };
}
