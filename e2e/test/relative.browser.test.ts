import { topics } from '@nattevakt/protocol/topics';
import { lastEndedNight } from '@nattevakt/server/reports/night-summary-service';
import { DateTime } from 'luxon';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, PHONE, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, login, type Stack, startStack } from './support/stack.js';

/**
 * A relative on a phone in daylight: last night in plain words and the last fourteen nights,
 * built from a night the real gateway and server recorded, and shared only with consent.
 */
describe.skipIf(!hasChromium)("the relative's page in a real Chromium at 390×844", () => {
  let stack: Stack;
  let browser: Browser;
  let sensor: MqttClient;
  // The server names "last night" by its own clock: play the night that ended last, in Oslo.
  const night = lastEndedNight(Date.now(), { start: '22:00', end: '07:00' }, 'Europe/Oslo');
  const at = (time: string, nextDay = false) =>
    DateTime.fromISO(`${night}T${time}`, { zone: 'Europe/Oslo' })
      .plus({ days: nextDay ? 1 : 0 })
      .toMillis();

  beforeAll(async () => {
    stack = await startStack({ start: at('21:30:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
    sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'relative-night' });
  }, 60_000);

  afterAll(async () => {
    await sensor?.endAsync();
    await browser?.close();
    await stack?.stop();
  });

  const publish = async (time: number, id: string, payload: object) => {
    stack.clock.advanceTo(time);
    await sensor.publishAsync(topics.sensorState('test', id), JSON.stringify(payload), { qos: 1 });
  };

  it('shows last night in plain Norwegian and a 14-night trend, only with consent, and no staff names', async () => {
    // Room 7: in bed at 22:30, up at 03:12 for six minutes (the door opens: an alarm Kari answers), back in bed till morning.
    await publish(at('22:30:00'), 'door-7', { kind: 'door', open: false, battery: 90 });
    await publish(at('22:30:05'), 'bed-7', { kind: 'bed', occupied: true, battery: 90 });
    await publish(at('03:12:00', true), 'bed-7', { kind: 'bed', occupied: false, battery: 90 });
    await publish(at('03:13:00', true), 'door-7', { kind: 'door', open: true, battery: 90 });
    const alarm = await eventually('the door alarm on the server', async () =>
      (await stack.server.alarms.open()).alarms.find((a) => a.roomId === 'room-7' && a.rule === 'door-open-at-night'),
    );
    const cookie = await login(stack, { username: 'kari', displayName: 'Kari Nattevakt', role: 'nurse_in_charge' });
    await stack.server.alarms.acknowledge({ alarmId: alarm.id, by: 'Kari Nattevakt' });
    await publish(at('03:14:00', true), 'door-7', { kind: 'door', open: false, battery: 90 });
    await publish(at('03:18:00', true), 'bed-7', { kind: 'bed', occupied: true, battery: 90 });
    await stack.server.alarms.resolve({ alarmId: alarm.id, by: 'Kari Nattevakt', outcome: 'assisted' });
    await publish(at('07:30:00', true), 'bed-7', { kind: 'bed', occupied: false, battery: 90 });
    await eventually('events stored', async () => {
      const events = await stack.server.timeSeries.range('test', new Date(at('22:00:00')), new Date(at('08:00:00', true)), 100);
      return events.length >= 7 ? events : undefined;
    });
    await stack.server.nights.summariseSiteNight('test', night);

    // The nurse in charge links two relatives; only Anne's resident has consented to share.
    await addPerson(stack, { username: 'anne', displayName: 'Anne Datter', role: 'relative' });
    await addPerson(stack, { username: 'per', displayName: 'Per Sønn', role: 'relative' });
    const staff = { cookie, 'x-nattevakt': '1', 'content-type': 'application/json' };
    for (const [resident, username] of [
      ['res-7', 'anne'],
      ['res-1', 'per'],
    ]) {
      const linked = await fetch(`${stack.httpUrl}/api/sites/test/residents/${resident}/relatives/${username}`, {
        method: 'PUT',
        headers: { cookie, 'x-nattevakt': '1' },
      });
      expect(linked.status, await linked.text()).toBe(200);
    }
    const consent = await fetch(`${stack.httpUrl}/api/sites/test/residents/res-7/sharing-consent`, {
      method: 'POST',
      headers: staff,
      body: JSON.stringify({ givenBy: 'resident', givenOn: night }),
    });
    expect(consent.status, await consent.text()).toBe(200);

    const phone = await newPage(browser, 'Anne', { viewport: PHONE, isMobile: true, hasTouch: true });
    await logIn(phone, stack.httpUrl, 'anne');
    await phone.getByTestId('relative-page').waitFor();
    expect(new URL(phone.url()).pathname).toBe('/parorende');
    const text = phone.getByTestId('last-night-text');
    await expect.poll(() => text.innerText()).toMatch(/03:12/);
    expect(await phone.getByTestId('last-night').innerText()).toContain('Beboer 7');
    // Fourteen nights, last night with data, the nights before without.
    const inBed = phone.getByTestId('trend-in-bed');
    expect(await inBed.locator('g[data-value]').count()).toBe(14);
    expect(await inBed.locator('g[data-value="none"]').count()).toBe(13);
    expect(
      Number(await phone.getByTestId('trend-exits').locator('g[data-value]').last().getAttribute('data-value')),
    ).toBeGreaterThanOrEqual(1);
    // Summaries only: no staff names, no alarm details.
    const page = await phone.locator('body').innerText();
    expect(page).not.toContain('Kari');
    expect(page).not.toMatch(/Jeg går|Dør åpnet om natten/);
    await screenshot(phone, 'relative-phone');
    await expectReadable(phone);
    await phone.context().close();

    // Per is linked, but without consent he sees nothing of the resident.
    const other = await newPage(browser, 'Per', { viewport: PHONE, isMobile: true, hasTouch: true });
    await logIn(other, stack.httpUrl, 'per');
    await other.getByTestId('relative-none').waitFor();
    expect(await other.locator('body').innerText()).not.toContain('Beboer 1');
    await screenshot(other, 'relative-phone-no-consent');
    await other.context().close();
  }, 90_000);
});
