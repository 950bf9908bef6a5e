/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, PHONE, screenshot, TABLET, webDir } from './support/browser.js';
import { TcpProxy } from './support/processes.js';
import { addPerson, eventually, loginOverHttp, oslo, PASSWORD, type Stack, startStack } from './support/stack.js';

const SIZES = [
  { name: 'tablet', viewport: TABLET, device: {} },
  { name: 'phone', viewport: PHONE, device: { isMobile: true, hasTouch: true } },
] as const;

/**
 * Things every page owes a person, checked on what is on screen: nothing wider than the screen
 * (no sideways scrolling on a phone), every control named for a screen reader, and a visible
 * focus ring for the keyboard. Returns what fails.
 */
async function pageFaults(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const faults: string[] = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1)
      faults.push(`the page is ${document.documentElement.scrollWidth}px wide on a ${width}px screen`);
    const controls = document.querySelectorAll<HTMLElement>(
      'button, input:not([type="hidden"]), select, textarea, a[href], [role="button"]',
    );
    for (const control of controls) {
      const rect = control.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      const labelled = control.getAttribute('aria-labelledby');
      const name =
        control.getAttribute('aria-label') ||
        (labelled
          ? labelled
              .split(/\s+/)
              .map((id) => document.getElementById(id)?.textContent ?? '')
              .join(' ')
          : '') ||
        [...((control as HTMLInputElement).labels ?? [])].map((label) => label.textContent ?? '').join(' ') ||
        (control.closest('label')?.textContent ?? '') ||
        (control.tagName === 'BUTTON' || control.tagName === 'A' ? (control.textContent ?? '') : '') ||
        control.getAttribute('title') ||
        '';
      if (!name.trim()) faults.push(`unnamed ${control.tagName.toLowerCase()} ${control.outerHTML.slice(0, 80)}`);
    }
    return faults;
  });
}

/** Tabs to the first control and checks that it shows where the focus is. */
async function focusIsVisible(page: Page): Promise<string> {
  await page.keyboard.press('Tab');
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return 'nothing has the focus';
    const style = getComputedStyle(element);
    const ring = (style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    return ring ? 'visible' : `no focus ring on ${element.outerHTML.slice(0, 100)}`;
  });
}

async function checkPage(page: Page, shot: string): Promise<void> {
  await screenshot(page, shot);
  expect(await pageFaults(page), shot).toEqual([]);
  await expectReadable(page);
}

/**
 * Each role's main path at tablet (1024×768) and phone (390×844) size against the real server and
 * gateway: the nurse (an alarm answered by keyboard, the server lost and found again), the nurse
 * in charge, the relative, the technician and the admin. Screenshots in artifacts/roles-*.png.
 */
describe.skipIf(!hasChromium)("each role's main path at tablet and phone size, in a real Chromium", () => {
  let stack: Stack;
  let browser: Browser;
  let proxy: TcpProxy;
  let viaProxy: string;
  let minute = 0;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T02:00:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    proxy = await new TcpProxy(Number(new URL(stack.httpUrl).port)).start();
    viaProxy = `http://127.0.0.1:${proxy.port}`;
    browser = await launchChromium();
    await addPerson(stack, { username: 'kari', displayName: 'Kari Nattevakt', role: 'nurse' });
    await addPerson(stack, { username: 'nina', displayName: 'Nina Leder', role: 'nurse_in_charge' });
    await addPerson(stack, { username: 'tor', displayName: 'Tor Tekniker', role: 'technician' });
    await addPerson(stack, { username: 'ada', displayName: 'Ada Admin', role: 'admin' });
    await addPerson(stack, { username: 'anne', displayName: 'Anne Datter', role: 'relative' });
    // Anne follows the resident of room 7, who has consented to share.
    const cookie = await loginOverHttp(stack.httpUrl, 'nina', PASSWORD);
    const headers = { cookie, 'x-nattevakt': '1', 'content-type': 'application/json' };
    expect(
      (
        await fetch(`${stack.httpUrl}/api/sites/test/residents/res-7/relatives/anne`, {
          method: 'PUT',
          headers: { cookie, 'x-nattevakt': '1' },
        })
      ).status,
    ).toBe(200);
    const consent = await fetch(`${stack.httpUrl}/api/sites/test/residents/res-7/sharing-consent`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ givenBy: 'resident', givenOn: '2026-11-01' }),
    });
    expect(consent.status, await consent.text()).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await stack?.stop();
  });

  // The login is rate-limited per address (10 a minute): each person logs in once, the phone reuses the tablet's session.
  const sessions = new Map<string, Awaited<ReturnType<ReturnType<Page['context']>['storageState']>>>();
  async function openAs(username: string, size: (typeof SIZES)[number], url: string): Promise<Page> {
    const known = sessions.get(username);
    const page = await newPage(browser, `${username} ${size.name}`, {
      viewport: size.viewport,
      ...size.device,
      ...(known ? { storageState: known } : {}),
    });
    if (known) await page.goto(url);
    else {
      const answered = page.waitForResponse((response) => response.url().endsWith('/api/auth/login'));
      await logIn(page, url, username);
      expect((await answered).status()).toBe(200);
      sessions.set(username, await page.context().storageState());
    }
    return page;
  }

  async function publish(sensor: string, payload: object): Promise<void> {
    const client = await mqtt.connectAsync(stack.mqttUrl, { clientId: `roles-${sensor}-${Date.now()}` });
    try {
      await client.publishAsync(topics.sensorState('test', sensor), JSON.stringify(payload), { qos: 1 });
    } finally {
      await client.endAsync();
    }
  }

  for (const size of SIZES) {
    it(`nurse (${size.name}): an alarm answered from the keyboard, then the server lost, loudly, and found again with a resync`, async () => {
      const page = await openAs('kari', size, viaProxy);
      await page.getByTestId('start-shift').waitFor();
      expect(await focusIsVisible(page)).toBe('visible');
      await checkPage(page, `roles-nurse-start-${size.name}`);
      await page.getByTestId('start-shift').click();
      await page.getByTestId('room-room-7').waitFor();

      // A door opens at night: the alarm cannot be missed, on any screen.
      minute += 5;
      stack.clock.advanceTo(oslo('2026-11-25T03:00:00') + minute * 60_000);
      await publish('door-7', { kind: 'door', open: false, battery: 90 });
      await publish('door-7', { kind: 'door', open: true, battery: 90 });
      const card = page.getByTestId('alarm-overlay').locator('[data-status="active"]').first();
      await card.waitFor({ timeout: 8000 });
      const alarmId = ((await card.getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
      const ack = page.getByTestId(`ack-${alarmId}`);
      // "Jeg går" is on screen without scrolling (polled: the overlay may still be laying out).
      await expect
        .poll(() =>
          ack.evaluate((button) => {
            const rect = button.getBoundingClientRect();
            return rect.top >= 0 && rect.bottom <= window.innerHeight && rect.height >= 44;
          }),
        )
        .toBe(true);
      await checkPage(page, `roles-nurse-alarm-${size.name}`);
      // Answered from the keyboard: focus the button, press Enter.
      await ack.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByTestId(`alarm-${alarmId}`).getAttribute('data-status')).toBe('acknowledged');
      await page.getByTestId(`resolve-${alarmId}`).focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('outcome-back-by-themselves').focus();
      await page.keyboard.press('Space');
      await expect.poll(() => page.getByTestId(`alarm-${alarmId}`).count()).toBe(0);
      expect((await stack.server.alarms.get(alarmId))?.alarm).toMatchObject({
        status: 'resolved',
        outcome: 'back-by-themselves',
        resolvedBy: 'Kari Nattevakt',
      });
      await publish('door-7', { kind: 'door', open: false, battery: 90 });

      // The server is lost: loud and unmistakable, at the top of the screen.
      await proxy.cut();
      const banner = page.getByTestId('connection-banner');
      await expect.poll(() => banner.innerText(), { timeout: 8000 }).toMatch(/INGEN KONTAKT MED SERVEREN/);
      expect(await banner.evaluate((element) => element.getBoundingClientRect().top < window.innerHeight / 2)).toBe(true);
      await checkPage(page, `roles-nurse-server-lost-${size.name}`);
      // Meanwhile an alarm is raised and resolved elsewhere; the tablet learns it on return.
      minute += 5;
      stack.clock.advanceTo(oslo('2026-11-25T03:00:00') + minute * 60_000);
      await publish('door-12', { kind: 'door', open: false, battery: 90 });
      await publish('door-12', { kind: 'door', open: true, battery: 90 });
      await proxy.restore();
      await expect.poll(() => page.getByTestId('resync-notice').innerText(), { timeout: 15_000 }).toMatch(/Hentet \d+ alarmendring/);
      await page.getByTestId('alarm-overlay').locator('[data-source="server"]').first().waitFor();
      await checkPage(page, `roles-nurse-resynced-${size.name}`);
      // Close it for the next run.
      for (const open of await stack.server.alarms.open().then((batch) => batch.alarms)) {
        await stack.server.alarms.resolve({ alarmId: open.id, by: 'Kari Nattevakt', outcome: 'false-alarm' });
      }
      await publish('door-12', { kind: 'door', open: false, battery: 90 });
      await page.context().close();
    }, 90_000);

    it(`nurse in charge (${size.name}): the board, then the administration with the plan editor`, async () => {
      const page = await openAs('nina', size, stack.httpUrl);
      await page.getByTestId('start-shift').click();
      await page.getByTestId('room-room-7').waitFor();
      await checkPage(page, `roles-nurse-in-charge-board-${size.name}`);
      await page.getByTestId('nav-admin').click();
      await page.getByTestId('admin-page').waitFor();
      await page.getByTestId('choose-res-7').click();
      await page.getByTestId('plan-editor').waitFor();
      await page.getByTestId('plan-outOfBedTooLong-minutes').fill('25');
      await expect.poll(() => page.getByTestId('explain-outOfBedTooLong').innerText()).toMatch(/mer enn 25 minutter/);
      await checkPage(page, `roles-nurse-in-charge-admin-${size.name}`);
      await page.context().close();
    }, 60_000);

    it(`relative (${size.name}): the resident's page in daylight, no staff names`, async () => {
      const page = await openAs('anne', size, stack.httpUrl);
      await page.getByTestId('relative-page').waitFor();
      expect(new URL(page.url()).pathname).toBe('/parorende');
      await expect.poll(() => page.getByTestId('relative-page').innerText()).toMatch(/Beboer 7/);
      expect(await page.getByTestId('relative-page').innerText()).not.toMatch(/Kari|Nina/);
      expect(await focusIsVisible(page)).toBe('visible');
      await checkPage(page, `roles-relative-${size.name}`);
      await page.context().close();
    }, 60_000);

    it(`technician (${size.name}): the sensors by trouble`, async () => {
      const page = await openAs('tor', size, stack.httpUrl);
      await page.getByTestId('technician-page').waitFor();
      await page.getByTestId('sensor-door-7').waitFor();
      await checkPage(page, `roles-technician-${size.name}`);
      await page.context().close();
    }, 60_000);

    it(`admin (${size.name}): the administration's users`, async () => {
      const page = await openAs('ada', size, stack.httpUrl);
      await page.getByTestId('admin-page').waitFor();
      await page.getByTestId('tab-users').click();
      await page.getByTestId('user-anne').waitFor();
      await checkPage(page, `roles-admin-users-${size.name}`);
      await page.getByTestId('tab-reports').click();
      await page.getByTestId('report-deliveries').waitFor();
      await expect.poll(() => page.getByTestId('report-deliveries').innerText()).not.toMatch(/Laster/);
      await checkPage(page, `roles-admin-reports-${size.name}`);
      await page.context().close();
    }, 60_000);
  }
});
