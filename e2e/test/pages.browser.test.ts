import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, PHONE, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, oslo, type Stack, startStack } from './support/stack.js';

/** Each role lands on its own page: the technician's bench at tablet size, the nurse's board on a phone. */
describe.skipIf(!hasChromium)('routing by role, the technician bench and the board on a phone, in a real Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let sensor: MqttClient;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T02:00:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
    sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'pages-sim' });
  }, 60_000);

  afterAll(async () => {
    await sensor?.endAsync();
    await browser?.close();
    await stack?.stop();
  });

  const publish = (id: string, payload: object) => sensor.publishAsync(topics.sensorState('test', id), JSON.stringify(payload), { qos: 1 });

  it("sorts the technician's sensors by trouble and streams one sensor's events", async () => {
    // Door 7: nearly empty battery and a weak radio. Bed 12: fine. Bed 1: flaps 12 times within a minute.
    await publish('door-7', { kind: 'door', open: false, battery: 9, linkquality: 20 });
    await publish('bed-12', { kind: 'bed', occupied: true, battery: 95, linkquality: 200 });
    for (let i = 0; i < 12; i++) {
      stack.clock.advanceTo(stack.clock.now() + 2_000);
      await publish('bed-1', { kind: 'bed', occupied: i % 2 === 0, battery: 80, linkquality: 180 });
    }
    await addPerson(stack, { username: 'tor', displayName: 'Tor Tekniker', role: 'technician' });
    const page = await newPage(browser, 'Tor');
    await logIn(page, stack.httpUrl, 'tor');
    await page.getByTestId('technician-page').waitFor();
    expect(new URL(page.url()).pathname).toBe('/tekniker');
    const rows = page.getByTestId('sensor-table').locator('tbody tr');
    await expect
      .poll(() => page.getByTestId('sensor-door-7').getAttribute('data-problems'), { timeout: 15_000 })
      .toMatch(/battery.*signal/);
    await expect.poll(() => page.getByTestId('sensor-bed-1').getAttribute('data-problems')).toMatch(/flapping/);
    expect(await page.getByTestId('sensor-bed-12').getAttribute('data-problems')).toBe('');
    // Trouble first: the healthy bed 12 comes after every sensor with a problem.
    const order = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({ id: tr.getAttribute('data-testid'), problems: tr.getAttribute('data-problems') })),
    );
    const firstHealthy = order.findIndex((row) => row.problems === '');
    expect(order.slice(firstHealthy).every((row) => row.problems === '')).toBe(true);
    expect(order.findIndex((row) => row.id === 'sensor-bed-12')).toBeGreaterThanOrEqual(firstHealthy);

    // One sensor's events as they arrive.
    await page.getByTestId('sensor-door-7').getByRole('button').click();
    const stream = page.getByTestId('sensor-stream');
    await expect.poll(() => stream.getByTestId('stream-event').count()).toBe(1);
    stack.clock.advanceTo(stack.clock.now() + 60_000);
    await publish('door-7', { kind: 'door', open: true, battery: 9, linkquality: 18 });
    await expect.poll(() => stream.getByTestId('stream-event').count(), { timeout: 8000 }).toBe(2);
    await expect.poll(() => stream.getByTestId('stream-event').first().innerText()).toMatch(/Dør åpen.*signal 18/);
    await screenshot(page, 'technician-bench');
    await expectReadable(page);
    await page.context().close();
  }, 60_000);

  it('shows the nurse board on a phone, readable, with every room and the unprotected panel', async () => {
    await addPerson(stack, { username: 'nils', displayName: 'Nils', role: 'nurse' });
    const phone = await newPage(browser, 'Nils', { viewport: PHONE, isMobile: true, hasTouch: true });
    await logIn(phone, `${stack.httpUrl}/tekniker`, 'nils');
    // A nurse asking for the technician's page lands on the board instead.
    await phone.getByTestId('start-shift').waitFor();
    expect(new URL(phone.url()).pathname).toBe('/vakt');
    await screenshot(phone, 'nurse-start-phone');
    await phone.getByTestId('start-shift').click();
    await phone.getByTestId('room-room-12').waitFor();
    await expect.poll(() => phone.getByTestId('unprotected-panel').getAttribute('data-source')).toBe('server');
    await expect.poll(() => phone.getByTestId('unprotected-panel').innerText()).toMatch(/Ubeskyttet i natt/);
    await screenshot(phone, 'nurse-board-phone');
    await expectReadable(phone);
    await phone.context().close();
  }, 60_000);
});
