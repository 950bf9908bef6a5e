import { afterEach, describe, expect, it } from 'vitest';
import type { NattevaktServer } from '../src/app.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';
import { NURSE_NAME, oslo, recordedNights } from './support/nights.js';

type Role = 'nurse' | 'nurse_in_charge' | 'relative' | 'technician' | 'admin';

interface AccessEntry {
  username: string;
  residentId: string;
  what: string;
  at: string;
}

describe.each(engines)('relatives: links, consent to share, what they see, access log ($name)', (engine) => {
  let server: NattevaktServer | undefined;
  afterEach(async () => {
    await server?.app.close();
    server = undefined;
    await engine.reset();
  });

  const start = async () => {
    const recorded = await recordedNights(engine);
    server = recorded.server;
    return recorded;
  };
  const as = async (s: NattevaktServer, username: string, role: Role, sites: string[] = []) => {
    const cookie = await loginAs(s, { username, displayName: `${username} (${role})`, role, sites });
    const headers = { cookie, 'x-nattevakt': '1' };
    return {
      get: (url: string) => s.app.inject({ method: 'GET', url, headers }),
      post: (url: string, payload: object) => s.app.inject({ method: 'POST', url, headers, payload }),
      put: (url: string) => s.app.inject({ method: 'PUT', url, headers }),
      delete: (url: string) => s.app.inject({ method: 'DELETE', url, headers }),
    };
  };
  const consent = { givenBy: 'guardian', guardianName: 'Ola Hansen', givenOn: '2026-11-20', note: 'signert skjema' };

  it('a linked relative with consent sees last night in plain words and a 14-night trend, never raw events or staff names', async () => {
    const { server: s } = await start();
    const lead = await as(s, 'leder', 'nurse_in_charge', ['demo']);
    const daughter = await as(s, 'datter', 'relative');

    // Linked, but no consent yet: nothing to see.
    const linked = await lead.put('/api/sites/demo/residents/res-1/relatives/datter');
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json()).toMatchObject({ links: [{ username: 'datter', linkedBy: 'leder (nurse_in_charge)' }], consent: null });
    expect((await daughter.get('/api/relative/residents')).json()).toEqual({ residents: [] });
    expect((await daughter.get('/api/relative/residents/demo/res-1/last-night')).statusCode).toBe(403);

    // The guardian consents: the relative sees her mother.
    const recorded = await lead.post('/api/sites/demo/residents/res-1/sharing-consent', consent);
    expect(recorded.statusCode, recorded.body).toBe(200);
    expect(recorded.json()).toMatchObject({
      consent: {
        givenBy: 'guardian',
        guardianName: 'Ola Hansen',
        givenOn: '2026-11-20',
        recordedBy: 'leder (nurse_in_charge)',
        withdrawnAt: null,
      },
    });
    expect((await daughter.get('/api/relative/residents')).json()).toEqual({
      residents: [{ siteId: 'demo', residentId: 'res-1', name: 'Astrid H.' }],
    });

    const lastNight = await daughter.get('/api/relative/residents/demo/res-1/last-night');
    expect(lastNight.statusCode, lastNight.body).toBe(200);
    expect(lastNight.json()).toEqual({
      siteId: 'demo',
      residentId: 'res-1',
      name: 'Astrid H.',
      night: '2026-11-24',
      verdict: 'calm',
      text: {
        nb: 'Sov rolig, var oppe én gang kl. 03:12 i seks minutter. Lå i sengen i åtte timer og 54 minutter. Nattevakten ble varslet én gang.',
        en: 'Slept calmly, was up once at 03:12 for six minutes. Was in bed for eight hours and 54 minutes. The night staff were alerted once.',
      },
    });

    const trend = await daughter.get('/api/relative/residents/demo/res-1/trend');
    expect(trend.statusCode, trend.body).toBe(200);
    const nights = trend.json<{ nights: { night: string }[] }>().nights;
    expect(nights).toHaveLength(14);
    expect(nights[0]?.night).toBe('2026-11-11');
    expect(nights.at(-1)).toEqual({ night: '2026-11-24', verdict: 'calm', timeInBedMinutes: 534, bedExits: 1, alarms: 1 });
    expect(nights[12]).toEqual({ night: '2026-11-23', verdict: null, timeInBedMinutes: null, bedExits: null, alarms: null });

    for (const body of [lastNight.body, trend.body]) {
      expect(body).not.toContain(NURSE_NAME);
      expect(body).not.toContain('evt-'); // no raw event ids
      expect(body).not.toContain('alarm-'); // no alarm ids or rules
      expect(body).not.toContain('door-open-at-night');
    }
  });

  it('refuses a relative asking for another resident, a relative without link, without consent, or after withdrawal; logs every read', async () => {
    const { server: s, clock } = await start();
    const lead = await as(s, 'leder', 'nurse_in_charge', ['demo']);
    const daughter = await as(s, 'datter', 'relative');
    const neighbour = await as(s, 'nabo', 'relative');
    await lead.put('/api/sites/demo/residents/res-1/relatives/datter');
    await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { givenBy: 'resident', givenOn: '2026-11-20' });
    // Bjarne (res-2) has a consent but no link to the daughter.
    await lead.post('/api/sites/demo/residents/res-2/sharing-consent', { givenBy: 'resident', givenOn: '2026-11-20' });

    expect((await daughter.get('/api/relative/residents/demo/res-1/last-night')).statusCode).toBe(200);
    for (const url of [
      '/api/relative/residents/demo/res-2/last-night',
      '/api/relative/residents/other/res-1/trend',
      '/api/relative/residents/demo/res-9/trend',
    ]) {
      const refused = await daughter.get(url);
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json<{ error: string }>().error).toMatch(/may not see this resident/);
    }
    expect((await neighbour.get('/api/relative/residents/demo/res-1/last-night')).statusCode).toBe(403);
    // Relatives never reach staff routes or raw events.
    for (const url of [
      '/api/sites/demo/residents/res-1/nights/2026-11-24',
      '/api/sites/demo/events?from=2026-11-24T00:00:00Z&to=2026-11-26T00:00:00Z',
      '/api/alarms/open',
      '/api/ward',
      '/api/sites/demo/relative-access-log',
      '/api/sites/demo/residents/res-1/relatives',
    ])
      expect((await daughter.get(url)).statusCode, url).toBe(403);

    // Withdrawn: access ends at once, and the history keeps who withdrew when.
    clock.set(oslo('2026-11-25', '10:00'));
    const withdrawn = await lead.delete('/api/sites/demo/residents/res-1/sharing-consent');
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json()).toMatchObject({
      consent: null,
      consents: [
        { givenBy: 'resident', withdrawnAt: new Date(oslo('2026-11-25', '10:00')).toISOString(), withdrawnBy: 'leder (nurse_in_charge)' },
      ],
    });
    expect((await daughter.get('/api/relative/residents/demo/res-1/trend')).statusCode).toBe(403);
    expect((await daughter.get('/api/relative/residents')).json()).toEqual({ residents: [] });
    expect((await lead.delete('/api/sites/demo/residents/res-1/sharing-consent')).statusCode).toBe(404);

    // The access log: who, which resident, what, when — readable by the nurse in charge, not by a nurse.
    const log = await lead.get('/api/sites/demo/relative-access-log?residentId=res-1');
    expect(log.statusCode, log.body).toBe(200);
    const entries = log.json<{ entries: AccessEntry[] }>().entries.map((e) => [e.username, e.residentId, e.what]);
    expect(entries).toEqual([
      ['datter', 'res-1', 'refused:trend'],
      ['nabo', 'res-1', 'refused:last-night'],
      ['datter', 'res-1', 'last-night'],
    ]);
    const all = (await lead.get('/api/sites/demo/relative-access-log')).json<{ entries: AccessEntry[] }>().entries;
    expect(all.map((e) => e.what)).toContain('refused:last-night');
    expect(all.find((e) => e.residentId === 'res-2')?.username).toBe('datter');
    const nurse = await as(s, 'sykepleier', 'nurse', ['demo']);
    expect((await nurse.get('/api/sites/demo/relative-access-log')).statusCode).toBe(403);
  });

  it("dates a consent by the site's day: just after midnight in Oslo, while UTC is still on yesterday", async () => {
    const { server: s, clock } = await start();
    // 00:30 in Oslo on 27 November is 23:30 UTC on the 26th.
    clock.set(oslo('2026-11-27', '00:30'));
    const lead = await as(s, 'leder', 'nurse_in_charge', ['demo']);
    const tomorrow = await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { givenBy: 'resident', givenOn: '2026-11-28' });
    expect([tomorrow.statusCode, tomorrow.json<{ error: string }>().error]).toEqual([
      400,
      'body/givenOn: a consent cannot be given in the future (today is 2026-11-27)',
    ]);
    const today = await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { givenBy: 'resident', givenOn: '2026-11-27' });
    expect(today.statusCode).toBe(200);
  });

  it('validates links and consents, and keeps staff of other sites and plain nurses out', async () => {
    const { server: s } = await start();
    const lead = await as(s, 'leder', 'nurse_in_charge', ['demo']);
    const admin = await as(s, 'admin', 'admin', ['demo']);
    const stranger = await as(s, 'fremmed', 'nurse_in_charge', ['other']);
    const nurse = await as(s, 'sykepleier', 'nurse', ['demo']);
    await as(s, 'datter', 'relative');

    const error = async (r: { statusCode: number; json: <T>() => T }) => [r.statusCode, r.json<{ error: string }>().error] as const;
    expect(await error(await lead.put('/api/sites/demo/residents/res-1/relatives/sykepleier'))).toEqual([
      400,
      'params/username: "sykepleier" is not a relative (role nurse)',
    ]);
    expect(await error(await lead.put('/api/sites/demo/residents/res-1/relatives/ingen'))).toEqual([404, 'no user "ingen"']);
    expect((await lead.put('/api/sites/demo/residents/res-9/relatives/datter')).statusCode).toBe(404);
    expect(
      await error(await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { givenBy: 'guardian', givenOn: '2026-11-20' })),
    ).toEqual([400, 'body/guardianName: the guardian who consents must be named']);
    expect(
      (await error(await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { ...consent, givenOn: '2026-12-24' })))[1],
    ).toMatch(/body\/givenOn/);
    expect((await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { ...consent, givenOn: '24.11.2026' })).statusCode).toBe(
      400,
    );
    expect((await lead.post('/api/sites/demo/residents/res-1/sharing-consent', { ...consent, extra: true })).statusCode).toBe(400);
    expect((await admin.post('/api/sites/demo/residents/res-1/sharing-consent', consent)).statusCode).toBe(200);
    expect(await error(await lead.post('/api/sites/demo/residents/res-1/sharing-consent', consent))).toEqual([
      409,
      'a consent to share with relatives is already recorded for this resident: withdraw it first',
    ]);

    for (const who of [stranger, nurse]) {
      expect((await who.put('/api/sites/demo/residents/res-1/relatives/datter')).statusCode).toBe(403);
      expect((await who.post('/api/sites/demo/residents/res-1/sharing-consent', consent)).statusCode).toBe(403);
      expect((await who.delete('/api/sites/demo/residents/res-1/sharing-consent')).statusCode).toBe(403);
      expect((await who.get('/api/sites/demo/residents/res-1/relatives')).statusCode).toBe(403);
    }
    expect((await s.app.inject({ method: 'GET', url: '/api/relative/residents' })).statusCode).toBe(401);
    expect((await nurse.get('/api/relative/residents')).statusCode).toBe(403);

    await lead.put('/api/sites/demo/residents/res-1/relatives/datter');
    expect((await lead.delete('/api/sites/demo/residents/res-1/relatives/datter')).json()).toMatchObject({ links: [] });
    expect((await lead.delete('/api/sites/demo/residents/res-1/relatives/datter')).statusCode).toBe(404);
  });
});
