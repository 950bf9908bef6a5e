import { topics } from '@nattevakt/protocol/topics';
import { lastEndedNight } from '@nattevakt/server/reports/night-summary-service';
import { DateTime } from 'luxon';
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, type Stack, startStack } from './support/stack.js';

/**
 * The nurse in charge edits a supervision plan: each rule said in words, every field checked as
 * she types, and the what-if count of the last recorded nights before she saves.
 */
describe.skipIf(!hasChromium)('the plan editor in a real Chromium at 1024×768', () => {
  let stack: Stack;
  let browser: Browser;
  const night = lastEndedNight(Date.now(), { start: '22:00', end: '07:00' }, 'Europe/Oslo');
  const at = (time: string, nextDay = false) =>
    DateTime.fromISO(`${night}T${time}`, { zone: 'Europe/Oslo' })
      .plus({ days: nextDay ? 1 : 0 })
      .toMillis();

  beforeAll(async () => {
    stack = await startStack({ start: at('21:30:00'), webDir });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    browser = await launchChromium();
    // Last night, room 7: in bed at 22:30, up at 03:12 for six minutes: under the current plan (out of bed > 20 min) no alarm.
    const sensor = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'plan-night' });
    try {
      for (const [time, nextDay, occupied] of [
        ['22:30:00', false, true],
        ['03:12:00', true, false],
        ['03:18:00', true, true],
        ['07:30:00', true, false],
      ] as const) {
        stack.clock.advanceTo(at(time, nextDay));
        await sensor.publishAsync(topics.sensorState('test', 'bed-7'), JSON.stringify({ kind: 'bed', occupied, battery: 80 }), { qos: 1 });
      }
    } finally {
      await sensor.endAsync();
    }
    await eventually('events stored', async () => {
      const events = await stack.server.timeSeries.range('test', new Date(at('22:00:00')), new Date(at('08:00:00', true)), 100);
      return events.length >= 4 ? events : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('explains each rule, validates as you type, shows the what-if count, and saves', async () => {
    await addPerson(stack, { username: 'berit', displayName: 'Berit Leder', role: 'nurse_in_charge' });
    const page = await newPage(browser, 'Berit');
    await logIn(page, `${stack.httpUrl}/admin`, 'berit');
    await page.getByTestId('admin-page').waitFor();
    await page.getByTestId('choose-res-7').click();
    const editor = page.getByTestId('plan-editor');
    await editor.waitFor();
    await expect.poll(() => page.getByTestId('explain-outOfBedTooLong').innerText()).toMatch(/mer enn 20 minutter mellom 22:00 og 07:00/);
    await expect.poll(() => page.getByTestId('explain-bedExit').innerText()).toMatch(/^Av:/);

    // Validation as you type, naming what is wrong; nothing can be saved meanwhile.
    const minutes = page.getByTestId('plan-outOfBedTooLong-minutes');
    await minutes.fill('0');
    await expect.poll(() => page.getByTestId('error-plan-outOfBedTooLong-minutes').innerText()).toMatch(/mellom 1 og 720/);
    expect(await minutes.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('plan-save').isDisabled()).toBe(true);
    await minutes.fill('tjue');
    await expect.poll(() => page.getByTestId('error-plan-outOfBedTooLong-minutes').innerText()).toMatch(/helt tall/);
    await page.getByTestId('plan-bedGraceSeconds').fill('301');
    await expect.poll(() => page.getByTestId('error-plan-bedGraceSeconds').innerText()).toMatch(/mellom 0 og 300/);
    await expect.poll(() => page.getByTestId('plan-has-errors').innerText()).toMatch(/2 felt/);
    await expect.poll(() => page.getByTestId('whatif').innerText()).toMatch(/Rett feilene/);
    await screenshot(page, 'admin-plan-invalid');

    // Corrected: the words follow, and the what-if replay counts last night's six minutes out of bed.
    await page.getByTestId('plan-bedGraceSeconds').fill('');
    await minutes.fill('5');
    await expect.poll(() => page.getByTestId('error-plan-outOfBedTooLong-minutes').count()).toBe(0);
    await expect.poll(() => page.getByTestId('explain-outOfBedTooLong').innerText()).toMatch(/mer enn 5 minutter/);
    await page.getByTestId('plan-bedExit-enabled').check();
    await expect.poll(() => page.getByTestId('explain-bedExit').innerText()).toMatch(/forlater sengen mellom 22:00 og 07:00/);
    const result = page.getByTestId('whatif-result');
    await result.waitFor({ timeout: 15_000 });
    await expect.poll(() => result.innerText()).toMatch(/Med denne planen: 2 alarmer de siste 14 nettene\. Med planen som gjelder nå: 0\./);
    await screenshot(page, 'admin-plan-whatif');
    await expectReadable(page);

    await page.getByTestId('plan-save').click();
    await expect
      .poll(async () =>
        (await page.getByTestId('plan-save-error').count()) > 0
          ? await page.getByTestId('plan-save-error').innerText()
          : await page.getByTestId('plan-saved').isVisible(),
      )
      .toBe(true);
    const saved = stack.server.sites.get('test')?.residents.find((r) => r.id === 'res-7')?.plan;
    expect(saved?.rules.outOfBedTooLong.minutes).toBe(5);
    expect(saved?.rules.bedExit?.enabled).toBe(true);

    // A vedtak for room 1 due for evaluation in three days: on the legal tab, and on the nurse in charge's board.
    const today = DateTime.now().setZone('Europe/Oslo');
    await page.getByTestId('tab-legal').click();
    await page.getByTestId('legal-resident').selectOption('res-1');
    await page.getByTestId('legal-decidedOn').fill(today.minus({ days: 30 }).toISODate() ?? '');
    await page.getByTestId('legal-nextEvaluationOn').fill(today.plus({ days: 3 }).toISODate() ?? '');
    await page.getByTestId('legal-reference').fill('2026/1234');
    await page.getByTestId('legal-record').click();
    await expect.poll(() => page.getByTestId('legal-message').innerText()).toMatch(/Registrert/);
    await expect.poll(() => page.getByTestId('reminders').innerText()).toMatch(/2026\/1234.*om 3 dager/s);
    await page.getByTestId('nav-board').click();
    await page.getByTestId('start-shift').click();
    await expect.poll(() => page.getByTestId('board-reminders').innerText(), { timeout: 8000 }).toMatch(/1 vedtak skal evalueres/);
    await page.context().close();
  }, 90_000);
});
