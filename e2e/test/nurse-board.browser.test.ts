import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, oslo, PASSWORD, type Stack, startStack } from './support/stack.js';

describe.skipIf(!hasChromium)('the night nurse board in a real Chromium at 1024×768', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack({ start: oslo('2026-11-25T03:09:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openTablet(name: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 }, locale: 'nb-NO' });
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
    await addPerson(stack, { username: name.toLowerCase(), displayName: name });
    await page.goto(stack.httpUrl);
    // No session yet: the login page, then the start screen with the logged-in name.
    await page.getByTestId('login-username').fill(name.toLowerCase());
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toContain(name);
    await page.getByTestId('start-shift').click();
    await page.getByTestId('room-room-7').waitFor();
    return page;
  }

  it('shows the ward, an alarm raised through the gateway, and acknowledging and resolving it on every tab', async () => {
    const nurse = await openTablet('Kari');
    const colleague = await openTablet('Ola');

    // Every room with its resident.
    for (const room of ['room-1', 'room-7', 'room-12']) await expect.poll(() => nurse.getByTestId(`room-${room}`).isVisible()).toBe(true);
    await expect.poll(() => nurse.getByTestId('room-room-7').innerText()).toContain('Beboer 7');

    // The resident in room 7 walks out of the door at 03:10.
    stack.clock.advanceTo(oslo('2026-11-25T03:10:00'));
    const sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'door-7' });
    try {
      await sensor.publishAsync(topics.sensorState('test', 'bed-7'), '{"kind":"bed","occupied":false}', { qos: 1 });
      await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":true,"battery":88}', { qos: 1 });
    } finally {
      await sensor.endAsync();
    }

    const overlay = nurse.getByTestId('alarm-overlay');
    await overlay.waitFor({ timeout: 5000 });
    const card = overlay.locator('[data-status]').first();
    await expect.poll(() => card.getAttribute('data-status')).toBe('active');
    const alarmId = ((await card.getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
    expect(alarmId).not.toBe('');
    await expect.poll(() => card.innerText()).toMatch(/Rom 7/);
    await expect.poll(() => card.innerText()).toMatch(/03:10/);
    await expect.poll(() => colleague.getByTestId(`alarm-${alarmId}`).isVisible()).toBe(true);
    await screenshot(nurse, 'nurse-board-alarm');

    // "Jeg går": the colleague's tablet shows who is going.
    await nurse.getByTestId(`ack-${alarmId}`).click();
    await expect.poll(() => colleague.getByTestId(`alarm-${alarmId}`).getAttribute('data-status')).toBe('acknowledged');
    await expect.poll(() => colleague.getByTestId(`alarm-${alarmId}`).innerText()).toContain('Kari');
    await screenshot(colleague, 'nurse-board-acknowledged');

    // Resolve with an outcome: the alarm leaves every open board.
    await nurse.getByTestId(`resolve-${alarmId}`).click();
    await nurse.getByTestId('outcome-assisted').click();
    await expect.poll(() => colleague.getByTestId(`alarm-${alarmId}`).count()).toBe(0);
    await expect.poll(() => nurse.getByTestId(`alarm-${alarmId}`).count()).toBe(0);
    const stored = await stack.server.alarms.get(alarmId);
    expect(stored?.alarm).toMatchObject({ status: 'resolved', outcome: 'assisted', acknowledgedBy: 'Kari', resolvedBy: 'Kari' });

    // The board shows the door open and the resident out of bed.
    await expect.poll(() => nurse.getByTestId('room-room-7').innerText()).toMatch(/Dør åpen/i);
    await screenshot(nurse, 'nurse-board-after');

    // The night's history comes from the server: after a reload (or on a tablet that was off) it still lists the alarm.
    await colleague.reload();
    await colleague.getByTestId('start-shift').click();
    const history = colleague.getByTestId('night-history');
    await expect.poll(() => history.getAttribute('data-state')).toBe('ready');
    await history.locator('summary').click();
    await expect.poll(() => history.locator('summary').innerText()).toMatch(/\(1\)/);
    await expect.poll(() => history.getByTestId(`history-${alarmId}`).innerText()).toMatch(/Rom 7[\s\S]*Hjalp beboeren · Kari/);
    await screenshot(colleague, 'nurse-board-history-after-reload');
  }, 60_000);
});
