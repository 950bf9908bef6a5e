import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, PHONE, screenshot, TABLET, webDir } from './support/browser.js';
import { addPerson, eventually, loginOverHttp, oslo, PASSWORD, type Stack, startStack } from './support/stack.js';

/**
 * The admin's people and the nurse in charge's relatives and reports, in a real Chromium against
 * the real server: every change checked where it matters, at the server (who may log in, what a
 * relative may read), not only on the screen.
 */
describe.skipIf(!hasChromium)('admin: users, relatives and reports in a real Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T02:00:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  // Straight to the auth service: the HTTP login is rate-limited per address, and the browsers need those tries.
  const canLogIn = async (username: string, password: string) => {
    const result = await stack.server.auth.login(username, password);
    return result.ok ? 'yes' : result.reason;
  };
  let adminCookie: string | undefined;
  const userOnServer = async (username: string) => {
    adminCookie ??= await loginOverHttp(stack.httpUrl, 'ada', PASSWORD);
    const answer = (await (await fetch(`${stack.httpUrl}/api/users?limit=200`, { headers: { cookie: adminCookie } })).json()) as {
      users: { username: string; role: string; sites: string[]; disabledAt: string | null }[];
    };
    return answer.users.find((u) => u.username === username);
  };

  it('lets the admin create a user with a role and sites, change the role, reset the password, disable and enable (tablet)', async () => {
    await addPerson(stack, { username: 'ada', displayName: 'Ada Admin', role: 'admin' });
    const page = await newPage(browser, 'Ada', { viewport: TABLET });
    await logIn(page, stack.httpUrl, 'ada');
    await page.getByTestId('admin-page').waitFor();
    await page.getByTestId('tab-users').click();
    await page.getByTestId('user-ada').waitFor();

    // Checked as typed: a username the server would refuse, a short password.
    await page.getByTestId('new-username').fill('s');
    await page.getByTestId('new-password').fill('short');
    expect(await page.getByTestId('new-username').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('new-password').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('new-user-submit').isDisabled()).toBe(true);

    await page.getByTestId('new-username').fill('siri');
    await page.getByTestId('new-displayName').fill('Siri Sykepleier');
    await page.getByTestId('new-password').fill('first password for siri');
    // One site at this server: it is chosen already.
    expect(await page.getByTestId('new-sites').getByRole('checkbox', { name: 'Testheimen' }).isChecked()).toBe(true);
    await page.getByTestId('new-user-submit').click();
    await expect.poll(() => page.getByTestId('users-message').innerText()).toBe('Siri Sykepleier er opprettet.');
    expect(await userOnServer('siri')).toMatchObject({ role: 'nurse', sites: ['test'], disabledAt: null });
    expect(await canLogIn('siri', 'first password for siri')).toBe('yes');

    // A username that is taken: the server's words on the form, nothing lost.
    await page.getByTestId('new-username').fill('siri');
    await page.getByTestId('new-displayName').fill('Another Siri');
    await page.getByTestId('new-password').fill('another long password');
    await page.getByTestId('new-user-submit').click();
    await expect.poll(() => page.getByTestId('new-user-error').innerText()).toMatch(/siri/);
    expect(await page.getByTestId('new-displayName').inputValue()).toBe('Another Siri');

    // Change the role.
    await page.getByTestId('edit-siri').click();
    await page.getByTestId('edit-role').selectOption('nurse_in_charge');
    await page.getByTestId('edit-save').click();
    await expect.poll(() => page.getByTestId('users-message').innerText()).toBe('Endringene for Siri Sykepleier er lagret.');
    await expect.poll(() => page.getByTestId('user-siri').innerText()).toContain('Sykepleieleder');
    expect((await userOnServer('siri'))?.role).toBe('nurse_in_charge');

    // Reset the password: the old one stops working.
    await page.getByTestId('reset-password').fill('second password for siri');
    await page.getByTestId('reset-submit').click();
    await expect.poll(() => page.getByTestId('users-message').innerText()).toMatch(/Nytt passord er satt for Siri Sykepleier/);
    expect(await canLogIn('siri', 'first password for siri')).toBe('invalid');
    expect(await canLogIn('siri', 'second password for siri')).toBe('yes');

    // Disable (after a confirmation), then enable.
    await page.getByTestId('user-disable').click();
    await page.getByTestId('user-disable-confirm').click();
    await expect.poll(() => page.getByTestId('user-siri').innerText()).toMatch(/Deaktivert \d\d\.\d\d\.\d{4} \d\d:\d\d/);
    expect(await canLogIn('siri', 'second password for siri')).toBe('invalid');
    await screenshot(page, 'admin-users');
    await expectReadable(page);
    await page.getByTestId('user-enable').click();
    await expect.poll(() => page.getByTestId('user-siri').innerText()).toContain('Aktiv');
    expect(await canLogIn('siri', 'second password for siri')).toBe('yes');
    await page.context().close();
  }, 60_000);

  it("lets the nurse in charge link a relative and record and withdraw the consent to share, on a phone; the relative's access follows", async () => {
    await addPerson(stack, { username: 'nina', displayName: 'Nina Leder', role: 'nurse_in_charge' });
    await addPerson(stack, { username: 'anne', displayName: 'Anne Datter', role: 'relative' });
    const anne = await loginOverHttp(stack.httpUrl, 'anne', PASSWORD);
    const anneSees = async () =>
      (
        (await (await fetch(`${stack.httpUrl}/api/relative/residents`, { headers: { cookie: anne } })).json()) as {
          residents: { residentId: string }[];
        }
      ).residents.map((r) => r.residentId);
    const trendStatus = async () =>
      (await fetch(`${stack.httpUrl}/api/relative/residents/test/res-7/trend`, { headers: { cookie: anne } })).status;

    const phone = await newPage(browser, 'Nina', { viewport: PHONE, isMobile: true, hasTouch: true });
    await logIn(phone, `${stack.httpUrl}/admin`, 'nina');
    await phone.getByTestId('admin-page').waitFor();
    await phone.getByTestId('tab-relatives').click();
    await phone.getByTestId('relatives-resident').selectOption('res-7');
    await phone.getByTestId('consent-none').waitFor();

    await phone.getByTestId('link-username').fill('anne');
    await phone.getByTestId('link-submit').click();
    await expect.poll(() => phone.getByTestId('link-anne').innerText()).toMatch(/Anne Datter[\s\S]*knyttet av Nina Leder/);
    // Linked but no consent: Anne sees nothing.
    expect(await anneSees()).toEqual([]);
    expect(await trendStatus()).toBe(403);

    // The guardian consents on Anne's mother's behalf.
    await phone.getByTestId('consent-givenBy-guardian').check();
    expect(await phone.getByTestId('consent-record').isDisabled()).toBe(true);
    await phone.getByTestId('consent-guardianName').fill('Ola Verge');
    await phone.getByTestId('consent-record').click();
    await expect.poll(() => phone.getByTestId('consent-current').innerText()).toMatch(/Samtykke gjelder\.[\s\S]*Ola Verge/);
    expect(await anneSees()).toEqual(['res-7']);
    expect(await trendStatus()).toBe(200);

    // Her reads are in the access log (shown again when the resident is chosen again).
    await phone.getByTestId('relatives-resident').selectOption('');
    await phone.getByTestId('relatives-resident').selectOption('res-7');
    await expect.poll(() => phone.getByTestId('access-log').innerText()).toMatch(/anne[\s\S]*De siste nettene/);
    await screenshot(phone, 'admin-relatives-phone');
    await expectReadable(phone);

    // Withdrawn: Anne loses access at once, and her refused read is logged too.
    await phone.getByTestId('consent-withdraw').click();
    await phone.getByTestId('consent-withdraw-confirm').click();
    await phone.getByTestId('consent-none').waitFor();
    expect(await trendStatus()).toBe(403);
    expect(await anneSees()).toEqual([]);
    await phone.getByTestId('relatives-resident').selectOption('');
    await phone.getByTestId('relatives-resident').selectOption('res-7');
    await expect.poll(() => phone.getByTestId('access-log').innerText()).toMatch(/Avvist: De siste nettene/);

    // Unlink.
    await phone.getByTestId('unlink-anne').click();
    await expect.poll(() => phone.getByTestId('link-anne').count()).toBe(0);

    // The nurse in charge sees the people of her ward, but cannot change them.
    await phone.getByTestId('tab-users').click();
    await phone.getByTestId('user-nina').waitFor();
    expect(await phone.getByTestId('edit-nina').count()).toBe(0);
    expect(await phone.getByTestId('new-user').count()).toBe(0);
    await phone.context().close();
  }, 60_000);

  it('shows the nurse in charge the measured delivery of every alarm as a chart and a table (tablet and phone)', async () => {
    // A nurse's board is open, so the alarm is delivered and shown on a real tablet, and she says "Jeg går".
    await addPerson(stack, { username: 'kari', displayName: 'Kari', role: 'nurse' });
    await addPerson(stack, { username: 'nina', displayName: 'Nina Leder', role: 'nurse_in_charge' });
    const board = await newPage(browser, 'Kari', { viewport: TABLET });
    await logIn(board, stack.httpUrl, 'kari');
    await board.getByTestId('start-shift').click();
    await board.getByTestId('room-room-12').waitFor();
    stack.clock.advanceTo(oslo('2026-11-25T02:30:00'));
    const sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'reports-door-12' });
    try {
      await sensor.publishAsync(topics.sensorState('test', 'door-12'), '{"kind":"door","open":true,"battery":70}', { qos: 1 });
    } finally {
      await sensor.endAsync();
    }
    const card = board.getByTestId('alarm-overlay').locator('[data-status="active"]').first();
    await card.waitFor({ timeout: 8000 });
    const alarmId = ((await card.getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
    await board.getByTestId(`ack-${alarmId}`).click();
    await eventually('the alarm acknowledged and displayed', async () => {
      const stored = await stack.server.alarms.get(alarmId);
      return stored?.alarm.status === 'acknowledged' ? stored : undefined;
    });

    for (const [viewport, name] of [
      [TABLET, 'admin-reports'],
      [PHONE, 'admin-reports-phone'],
    ] as const) {
      const page: Page = await newPage(browser, `Nina ${name}`, { viewport });
      await logIn(page, `${stack.httpUrl}/admin`, 'nina');
      await page.getByTestId('tab-reports').click();
      const row = page.getByTestId(`delivery-${alarmId}`);
      await row.waitFor({ timeout: 10_000 });
      // Measured, not made up: every stage has a number, and one tablet got it.
      const cells = await row.locator('td').allInnerTexts();
      expect(
        cells.slice(0, 4).every((cell) => /^\d+(,\d)? (ms|s|min)$/.test(cell)),
        cells.join(' | '),
      ).toBe(true);
      expect(cells[4]).toBe('1');
      expect(await row.locator('th').innerText()).toMatch(/^\d\d\.\d\d\.\d{4} \d\d:\d\d · Rom 12 · Dør åpnet om natten$/);
      await expect
        .poll(() => page.getByTestId('delivery-chart').getAttribute('aria-label'))
        .toMatch(/^Levering av \d+ alarmer?: lengste tid fra gateway til skjerm \d/);
      await page.getByTestId('report-deliveries').scrollIntoViewIfNeeded();
      await screenshot(page, name);
      await expectReadable(page);
      await page.context().close();
    }
    await board.context().close();
  }, 60_000);
});
