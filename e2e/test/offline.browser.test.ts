import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSound, hasChromium, launchChromium, logIn, newPage, PHONE, pulses, screenshot, webDir } from './support/browser.js';
import { TcpProxy } from './support/processes.js';
import { addPerson, eventually, oslo, type Stack, startStack } from './support/stack.js';

/**
 * The app pinned to the home screen and opened without a server: the service worker brings up the
 * cached shell, which must say at once that there is no contact, never show a board, an alarm or
 * a cached answer from the API.
 */
describe.skipIf(!hasChromium)('the service worker offline, in a real Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let proxy: TcpProxy;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:00:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    proxy = await new TcpProxy(Number(new URL(stack.httpUrl).port)).start();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await stack?.stop();
  });

  it('opens the cached shell without a server and says it has no contact, with no board, no alarm and no cached API answer', async () => {
    await addPerson(stack, { username: 'kari', displayName: 'Kari' });
    const url = `http://127.0.0.1:${proxy.port}`;
    const page = await newPage(browser, 'Kari offline', { viewport: PHONE, isMobile: true, hasTouch: true });
    await countSound(page);
    await logIn(page, url, 'kari');
    await page.getByTestId('start-shift').click();
    await page.getByTestId('room-room-7').waitFor();
    // The worker is installed and controls the page (as after the first visit from the home screen).
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    await proxy.cut();
    await page.reload();
    const unreachable = page.getByTestId('server-unreachable');
    await unreachable.waitFor({ timeout: 10_000 });
    expect(await unreachable.getAttribute('role')).toBe('alert');
    await expect.poll(() => unreachable.innerText()).toMatch(/INGEN KONTAKT MED SERVEREN/);
    expect(await page.getByTestId('ward-board').count()).toBe(0);
    expect(await page.getByTestId('alarm-overlay').count()).toBe(0);
    expect(await page.getByTestId('start-shift').count()).toBe(0);
    // The worker never answers the API from a cache: the request fails as the network does.
    const api = await page.evaluate(() =>
      fetch('/api/alarms/open', { headers: { accept: 'application/json' } }).then(
        (response) => `answered ${response.status}`,
        () => 'failed',
      ),
    );
    expect(api).toBe('failed');
    expect(await pulses(page)).toBe(0);
    await screenshot(page, 'offline-shell-phone');

    // The server is back: the app finds it by itself and asks for the login or the shift again.
    await proxy.restore();
    await page.getByTestId('start-shift').waitFor({ timeout: 15_000 });
    await page.context().close();
  }, 60_000);
});
