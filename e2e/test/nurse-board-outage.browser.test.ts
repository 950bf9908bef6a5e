import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSound, expectReadable, hasChromium, launchChromium, logIn, newPage, pulses, screenshot, webDir } from './support/browser.js';
import { TcpProxy } from './support/processes.js';
import { addPerson, eventually, LOCAL_FEED_TOKEN, login, oslo, type Stack, startStack } from './support/stack.js';

/**
 * The nurse's tablet when things go wrong: the server disappears (the link is cut by a TCP
 * proxy between the browser and the server, while the gateway keeps its own link), the board
 * alarms about it, falls back to the gateway's local feed, and resyncs when the server is back.
 * Also the sound pause that re-alarms by itself, and the receipts every alarm gets.
 */
describe.skipIf(!hasChromium)('the nurse board when the server is lost, in a real Chromium at 1024×768', () => {
  let stack: Stack;
  let browser: Browser;
  let proxy: TcpProxy;
  let tabletUrl: string;

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T02:50:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    proxy = await new TcpProxy(Number(new URL(stack.httpUrl).port)).start();
    tabletUrl = `http://127.0.0.1:${proxy.port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await stack?.stop();
  });

  async function publish(sensor: string, payload: object): Promise<void> {
    const client = await mqtt.connectAsync(stack.mqttUrl, { clientId: `sim-${sensor}-${Date.now()}` });
    try {
      await client.publishAsync(topics.sensorState('test', sensor), JSON.stringify(payload), { qos: 1 });
    } finally {
      await client.endAsync();
    }
  }

  async function startShift(page: Page, username: string, url: string): Promise<void> {
    await logIn(page, url, username);
    await page.getByTestId('start-shift').click();
    await page.getByTestId('room-room-7').waitFor();
  }

  const openCard = (page: Page) => page.getByTestId('alarm-overlay').locator('[data-status]');

  it('alarms loudly when the server is lost, shows the gateway feed meanwhile, and resyncs everything on return', async () => {
    await addPerson(stack, { username: 'kari', displayName: 'Kari' });
    const tablet = await newPage(browser, 'Kari');
    // The technician's setup link hands the tablet the gateway's feed; it leaves the address bar at once.
    const setupLink = `${tabletUrl}/#gateway-feed=${encodeURIComponent(stack.gatewayUrl)}&gateway-token=${LOCAL_FEED_TOKEN}`;
    await startShift(tablet, 'kari', setupLink);
    expect(tablet.url()).not.toContain('gateway-token');

    // An alarm while all is well: delivered and displayed are confirmed by this tablet.
    stack.clock.advanceTo(oslo('2026-11-25T03:10:00'));
    await publish('door-7', { kind: 'door', open: true, battery: 90 });
    const first = openCard(tablet).first();
    await first.waitFor({ timeout: 5000 });
    const firstId = ((await first.getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
    // Told first as provisional (the gateway's announcement), then the stored alarm takes the card over.
    await expect.poll(() => first.getAttribute('data-source')).toBe('server');
    const receipts = await eventually('delivery and read receipts', async () => {
      const timeline = await stack.server.delivery.timeline(firstId);
      const device = timeline?.devices[0];
      return device?.deliveredAt && device.displayedAt ? timeline : undefined;
    });
    expect(receipts?.devices).toHaveLength(1);
    expect(receipts?.devices[0]?.device).toMatch(/^tablet-/);
    expect(receipts?.stages.firstDisplayedAt).not.toBeNull();

    // The server is gone for the tablet (the gateway still reaches it).
    await proxy.cut();
    const banner = tablet.getByTestId('connection-banner');
    await expect.poll(() => banner.isVisible(), { timeout: 5000 }).toBe(true);
    await expect.poll(() => banner.innerText()).toMatch(/INGEN KONTAKT MED SERVEREN/);
    await expect.poll(() => tablet.title()).toMatch(/INGEN KONTAKT/);
    // The gateway's feed stands in, and the board says so.
    await expect.poll(() => banner.getAttribute('data-fallback'), { timeout: 8000 }).toBe('connected');
    await expect.poll(() => tablet.getByTestId('fallback-state').innerText()).toMatch(/RESERVE I BRUK/);
    // Commands cannot be sent now, and the card says so rather than pretend.
    await tablet.getByTestId(`ack-${firstId}`).click();
    await expect.poll(() => tablet.getByTestId(`error-${firstId}`).innerText()).toMatch(/ingen kontakt/i);

    // While the tablet is cut off: a colleague acknowledges the first alarm on the server, and a new alarm is raised.
    const cookie = await login(stack, { username: 'ola', displayName: 'Ola' });
    const colleague: Socket<StaffServerToClient, StaffClientToServer> = io(`${stack.httpUrl}/staff`, {
      transports: ['websocket'],
      forceNew: true,
      extraHeaders: { cookie },
    });
    try {
      await eventually('colleague connected', () => colleague.connected);
      const acked = await colleague.emitWithAck('acknowledge', { alarmId: firstId, by: 'Ola' });
      expect(acked.ok).toBe(true);
    } finally {
      colleague.disconnect();
    }
    stack.clock.advanceTo(oslo('2026-11-25T03:14:00'));
    await publish('door-12', { kind: 'door', open: true, battery: 90 });
    // It reaches the tablet only through the gateway, marked as such, and it sounds.
    const fromGateway = tablet.locator('[data-source="gateway"]');
    await fromGateway.first().waitFor({ timeout: 5000 });
    const secondId = ((await fromGateway.first().getAttribute('data-testid')) ?? '').replace(/^alarm-/, '');
    await expect.poll(() => fromGateway.first().innerText()).toMatch(/Rom 12/);
    await expect.poll(() => fromGateway.first().innerText()).toMatch(/Fra gatewayen/);
    await screenshot(tablet, 'nurse-board-server-lost');

    // The server is back: the board resyncs what it missed and leaves the fallback.
    await proxy.restore();
    await expect.poll(() => tablet.getByTestId('resync-notice').isVisible(), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => tablet.getByTestId('resync-notice').innerText()).toMatch(/Hentet \d+ alarmendring/);
    await expect.poll(() => tablet.getByTestId(`alarm-${secondId}`).getAttribute('data-source')).toBe('server');
    await expect.poll(() => tablet.getByTestId(`alarm-${firstId}`).getAttribute('data-status')).toBe('acknowledged');
    await expect.poll(() => tablet.getByTestId(`alarm-${firstId}`).innerText()).toContain('Ola');
    expect(await tablet.locator('[data-source="gateway"]').count()).toBe(0);
    await expect.poll(() => tablet.getByTestId('server-status').innerText()).toMatch(/Server tilkoblet/);
    // The alarm that came during the outage is confirmed delivered and displayed once the tablet is back.
    await eventually('receipts for the alarm raised during the outage', async () => {
      const device = (await stack.server.delivery.timeline(secondId))?.devices[0];
      return device?.deliveredAt && device.displayedAt ? device : undefined;
    });
    // And now it can be answered.
    await tablet.getByTestId(`ack-${secondId}`).click();
    await expect.poll(() => tablet.getByTestId(`alarm-${secondId}`).getAttribute('data-status')).toBe('acknowledged');
    await screenshot(tablet, 'nurse-board-resynced');
    await tablet.context().close();
  }, 90_000);

  it('pauses the sound for two minutes and re-alarms by itself', async () => {
    await addPerson(stack, { username: 'siri', displayName: 'Siri' });
    const tablet = await newPage(browser, 'Siri');
    await countSound(tablet);
    await tablet.clock.install();
    await startShift(tablet, 'siri', tabletUrl);
    // The resident in room 1 walks out of the door: an unanswered high alarm, the high pattern sounds.
    stack.clock.advanceTo(oslo('2026-11-25T03:20:00'));
    await publish('door-1', { kind: 'door', open: true, battery: 90 });
    const board = tablet.getByTestId('ward-board');
    await expect.poll(() => board.getAttribute('data-sound'), { timeout: 5000 }).toBe('high');
    await expect.poll(() => pulses(tablet)).toBeGreaterThan(0);

    await tablet.getByTestId('pause-sound').click();
    await expect.poll(() => board.getAttribute('data-sound')).toBe('none');
    await expect.poll(() => tablet.getByTestId('sound-paused').innerText()).toMatch(/Lyd pauset [12]:\d\d/);
    const silentFrom = await pulses(tablet);
    await tablet.clock.runFor(30_000);
    expect(await pulses(tablet)).toBe(silentFrom);
    await screenshot(tablet, 'nurse-board-sound-paused');

    // Two minutes later it sounds again without anyone touching it.
    await tablet.clock.runFor(95_000);
    await expect.poll(() => board.getAttribute('data-sound')).toBe('high');
    await expect.poll(() => tablet.getByTestId('sound-paused').count()).toBe(0);
    await expect.poll(() => pulses(tablet)).toBeGreaterThan(silentFrom);
    await tablet.context().close();
  }, 60_000);

  it('is readable in the dark: WCAG AA contrast on the board with open alarms, and on the server-lost state', async () => {
    const tablet = await newPage(browser, 'Kari');
    await startShift(tablet, 'kari', tabletUrl);
    await openCard(tablet).first().waitFor();
    await expectReadable(tablet);
    // Every button is a large touch target.
    const small = await tablet
      .locator('button:visible, summary:visible')
      .evaluateAll((elements) =>
        elements.map((e) => ({ text: e.textContent, h: e.getBoundingClientRect().height })).filter((e) => e.h < 44),
      );
    expect(small).toEqual([]);
    await proxy.cut();
    await tablet.getByTestId('connection-banner').waitFor();
    await expectReadable(tablet);
    await proxy.restore();
    await tablet.context().close();
  }, 60_000);
});
