import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { BatchAck, GatewayClientToServer, GatewayServerToClient } from '@nattevakt/protocol/socket-events';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countSound, hasChromium, launchChromium, logIn, newPage, pulses, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, oslo, type Stack, startStack, TOKEN } from './support/stack.js';

type GatewaySocket = Socket<GatewayServerToClient, GatewayClientToServer>;

/**
 * "Emit before commit" on the nurse's tablet: the server passes a gateway's decision on at once
 * (`alarmDecided` → `provisionalAlarm`), and the stored alarm of the same id follows when the
 * outbox's batch brings it. To hold the board in between for as long as the test needs, the test
 * is the gateway here: a second real Socket.IO client on `/gateway` with the site's token, which
 * announces the decision and sends its batch when the test says so.
 */
describe.skipIf(!hasChromium)('a provisional alarm on the nurse board, in a real Chromium at 1024×768', () => {
  let stack: Stack;
  let browser: Browser;
  const sockets: GatewaySocket[] = [];

  beforeAll(async () => {
    stack = await startStack({ start: oslo('2026-11-25T03:10:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
  }, 60_000);

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function connectGateway(): Promise<GatewaySocket> {
    const socket: GatewaySocket = io(`${stack.httpUrl}/gateway`, {
      auth: { token: TOKEN },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  async function startShift(username: string, displayName: string): Promise<Page> {
    await addPerson(stack, { username, displayName });
    const page = await newPage(browser, displayName);
    await countSound(page);
    await logIn(page, stack.httpUrl, username);
    // The tap that starts the shift also switches the sound on.
    await page.getByTestId('start-shift').click();
    await page.getByTestId('room-room-12').waitFor();
    // The live link is up: what the server pushes from now on reaches this tablet.
    await expect.poll(() => page.getByTestId('server-status').getAttribute('class')).toContain('status-ok');
    return page;
  }

  it('shows and sounds the decision at once without buttons, and the stored alarm takes over the same card with its buttons', async () => {
    const tablet = await startShift('kari', 'Kari');
    const gateway = await connectGateway();
    const raisedAt = new Date(stack.clock.now()).toISOString();
    const decision: AlarmDecision = {
      id: `early-${Date.now()}`,
      siteId: 'test',
      residentId: 'res-12',
      roomId: 'room-12',
      sensorId: 'door-12',
      rule: 'door-open-at-night',
      priority: 'high',
      raisedAt,
      decidedAt: new Date().toISOString(),
      evidence: { eventIds: ['e2e-door-12'], since: raisedAt, nightWindow: { start: '22:00', end: '07:00' } },
    };
    const pulsesBefore = await pulses(tablet);

    gateway.emit('alarmDecided', decision);
    const card = tablet.getByTestId(`alarm-${decision.id}`);
    await card.waitFor({ timeout: 5000 });
    expect(await card.getAttribute('data-source')).toBe('provisional');
    expect(await card.getAttribute('data-priority')).toBe('high');
    expect(await card.getAttribute('data-status')).toBe('active');
    expect(await card.innerText()).toMatch(/Rom 12 · Beboer 12/);
    expect(await tablet.getByTestId(`provisional-${decision.id}`).innerText()).toBe('Varslet direkte fra gatewayen – lagres nå');
    expect(await tablet.getByTestId(`no-commands-${decision.id}`).innerText()).toBe(
      'Knappene kommer når alarmen er lagret. Gå til beboeren.',
    );
    expect(await card.getByRole('button').count()).toBe(0);
    // A real alarm: the room's tile and the sound say so, as for any high alarm.
    expect(await tablet.getByTestId('room-room-12').getAttribute('data-alarm')).toBe('high');
    await expect.poll(() => tablet.getByTestId('ward-board').getAttribute('data-sound')).toBe('high');
    await expect.poll(() => pulses(tablet)).toBeGreaterThan(pulsesBefore);
    // Nothing is stored yet, and the tablet confirms nothing the server could not keep.
    expect(await stack.server.alarms.get(decision.id)).toBeFalsy();
    await screenshot(tablet, 'provisional-alarm');

    // Marks the card's element, to tell below whether the stored alarm took over this one or drew a new one.
    await card.evaluate((element) => element.setAttribute('data-e2e-mark', 'provisional'));

    // The outbox's batch brings the same decision: stored, with a seq and a lifecycle.
    const ack: BatchAck = await gateway.timeout(5000).emitWithAck('batch', [{ type: 'alarm', alarm: decision }]);
    expect(ack).toEqual({ ok: true, accepted: 1, rejected: [] });
    await expect.poll(() => card.getAttribute('data-source')).toBe('server');
    expect(await tablet.getByTestId(`alarm-${decision.id}`).count()).toBe(1);
    expect(await card.getAttribute('data-e2e-mark')).toBe('provisional');
    expect(await tablet.getByTestId(`provisional-${decision.id}`).count()).toBe(0);
    await tablet.getByTestId(`ack-${decision.id}`).waitFor();
    expect(await tablet.getByTestId(`resolve-${decision.id}`).isVisible()).toBe(true);
    // The stored alarm's card sends the read receipt.
    await eventually('the read receipt of the stored alarm', async () => {
      const timeline = await stack.server.delivery.timeline(decision.id);
      return timeline?.devices[0]?.displayedAt ? timeline : undefined;
    });
    await screenshot(tablet, 'provisional-alarm-stored');

    // Its buttons work: "Jeg går".
    await tablet.getByTestId(`ack-${decision.id}`).click();
    await expect.poll(() => card.getAttribute('data-status')).toBe('acknowledged');
    expect((await stack.server.alarms.get(decision.id))?.alarm).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Kari' });
  }, 60_000);
});
