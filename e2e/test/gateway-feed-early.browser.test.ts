import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSound, hasChromium, launchChromium, logIn, newPage, pulses, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, LOCAL_FEED_TOKEN, oslo, type Stack, startStack } from './support/stack.js';

/**
 * A tablet that was given the gateway's local feed keeps it open while the server is there too:
 * an alarm the gateway raises comes straight from the gateway, without waiting for the server.
 * Shown here with the gateway's uplink cut (a TCP proxy between the gateway and the server), so
 * the server cannot have told the tablet: the card is there, provisional and sounding, while the
 * board is connected to the server; once the uplink is back the stored alarm takes the card over.
 */
describe.skipIf(!hasChromium)('an alarm straight from the gateway’s feed, in a real Chromium at 1024×768', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00'), webDir, uplinkProxy: true });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows and sounds the gateway’s alarm before the server knows of it, and the stored alarm takes the same card over', async () => {
    await addPerson(stack, { username: 'kari', displayName: 'Kari' });
    const tablet = await newPage(browser, 'Kari');
    await countSound(tablet);
    // The technician's setup link gives this tablet the gateway's feed.
    await logIn(tablet, `${stack.httpUrl}/#gateway-feed=${encodeURIComponent(stack.gatewayUrl)}&gateway-token=${LOCAL_FEED_TOKEN}`, 'kari');
    await tablet.getByTestId('start-shift').click();
    await tablet.getByTestId('room-room-7').waitFor();
    await expect.poll(() => tablet.getByTestId('server-status').innerText()).toMatch(/Server tilkoblet/);
    // The tablet's second link, to the gateway's feed, is open (the gateway counts its sockets).
    await eventually('the tablet on the gateway feed', async () => {
      const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
      return /nattevakt_gateway_local_feed_clients \d*[1-9]/.test(metrics) || undefined;
    });

    // The gateway can no longer reach the server.
    await stack.uplink?.cut();
    await eventually('uplink down', () => !stack.gateway.uplinkConnected);
    const sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'door-7-early' });
    try {
      await sensor.publishAsync(topics.sensorState('test', 'door-7'), JSON.stringify({ kind: 'door', open: true, battery: 90 }), {
        qos: 1,
      });
    } finally {
      await sensor.endAsync();
    }
    const card = tablet.getByTestId('alarm-overlay').locator('[data-source="provisional"]').first();
    await card.waitFor({ timeout: 5000 });
    const id = ((await card.getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
    expect(id).not.toBe('');
    await expect.poll(() => card.innerText()).toMatch(/Rom 7/);
    // The server has not heard of it, and the board is not in its fallback: it came on the early link.
    expect(await stack.server.alarms.get(id)).toBeNull();
    expect(await tablet.getByTestId('connection-banner').isVisible()).toBe(false);
    expect(await tablet.getByTestId(`ack-${id}`).count()).toBe(0);
    await expect.poll(() => pulses(tablet), { timeout: 5000 }).toBeGreaterThan(0);
    await screenshot(tablet, 'nurse-board-alarm-from-gateway-feed');

    // The uplink is back: the outbox delivers, and the stored alarm takes the same card over.
    await stack.uplink?.restore();
    await expect.poll(() => tablet.getByTestId(`alarm-${id}`).getAttribute('data-source'), { timeout: 15_000 }).toBe('server');
    expect(await tablet.getByTestId('alarm-overlay').locator('[data-status]').count()).toBe(1);
    await tablet.getByTestId(`ack-${id}`).click();
    await expect.poll(() => tablet.getByTestId(`alarm-${id}`).getAttribute('data-status')).toBe('acknowledged');
  }, 60_000);
});
