import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@nattevakt/gateway/broker/credentials';
import { topics } from '@nattevakt/protocol/topics';
import { builtInScenario, compileScenario } from '@nattevakt/simulator';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReadable, hasChromium, launchChromium, logIn, newPage, screenshot, webDir } from './support/browser.js';
import { addPerson, eventually, oslo, type Stack, startStack } from './support/stack.js';

const SITE = 'bench';
const SIMULATOR = { username: 'simulator', password: 'simulator password for the bench page' };

/**
 * The technician's bench in a real Chromium against a real server and gateway: one sensor's
 * events arrive live (not by the 2-second poll), a built-in scenario runs from the page with its
 * progress and PASS, an uploaded one shows FAIL with its differences, and the self-test log.
 */
describe.skipIf(!hasChromium)('the technician bench in a real Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let sensors: MqttClient;
  let failing: string;
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-bench-page-'));

  beforeAll(async () => {
    const bedExit = await builtInScenario('bed-exit');
    if (bedExit === null) throw new Error('no bed-exit scenario');
    const ward = compileScenario(bedExit.source, { file: 'bed-exit.yaml', siteId: SITE }).site;
    stack = await startStack({
      start: oslo('2026-11-24T20:00:00'),
      site: ward,
      webDir,
      mqttDevices: [{ role: 'simulator', username: SIMULATOR.username, passwordHash: await hashPassword(SIMULATOR.password) }],
    });
    await eventually('gateway uplink', () => stack.gateway.uplinkConnected);
    const admin = { id: 'admin', name: 'Admin Anne' };
    await stack.server.testSettings.setSimulator(SITE, { url: stack.mqttUrl, ...SIMULATOR }, admin);
    // Two days of the maintenance log: yesterday's test failed at the tablet, today's passed.
    await stack.server.selfTests.record(
      SITE,
      {
        ok: false,
        at: '2026-11-23T09:00:00.000Z',
        gatewayMs: 5,
        serverMs: 24,
        failure: 'no tablet confirmed alarm within 120 s',
        resolved: false,
      },
      'Selvtest',
    );
    await stack.server.selfTests.record(
      SITE,
      { ok: true, at: '2026-11-24T09:00:00.000Z', gatewayMs: 4, serverMs: 21, tabletMs: 180, device: 'nettbrett-vakt-1', resolved: true },
      'Selvtest',
    );
    failing = join(dir, 'sen-toalettur.yaml');
    writeFileSync(failing, bedExit.source.replace('name: bed-exit', 'name: sen-toalettur').replace('at: "01:30:30"', 'at: "01:45"'));
    sensors = await mqtt.connectAsync(stack.mqttUrl, { ...SIMULATOR, clientId: 'bench-page-sim' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await sensors?.endAsync();
    await browser?.close();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a sensor live, runs a scenario with progress and PASS, and an uploaded one with FAIL and its differences', async () => {
    await addPerson(stack, { username: 'tor', displayName: 'Tor Tekniker', role: 'technician' });
    const page = await newPage(browser, 'Tor');
    await logIn(page, stack.httpUrl, 'tor');
    await page.getByTestId('technician-page').waitFor();

    // Bed 1's events live: the link says so, and an event is on screen well before a 2-second poll.
    await page.getByTestId('sensor-bed-1').getByRole('button').click();
    const stream = page.getByTestId('sensor-stream');
    await expect.poll(() => stream.getAttribute('data-live'), { timeout: 10_000 }).toBe('true');
    await expect(stream.getByTestId('stream-mode').textContent()).resolves.toMatch(/^Direkte/);
    const published = Date.now();
    await sensors.publishAsync(topics.sensorState(SITE, 'bed-1'), JSON.stringify({ kind: 'bed', occupied: true, battery: 64 }), { qos: 1 });
    await stream.getByTestId('stream-event').filter({ hasText: 'batteri 64 %' }).waitFor({ timeout: 5_000 });
    const shownAfterMs = Date.now() - published;
    expect(shownAfterMs).toBeLessThan(1_500);

    // The built-in bed-exit scenario, from the page.
    const panel = page.getByTestId('scenario-panel');
    await expect.poll(() => panel.getByTestId('scenario-choice').inputValue()).toBe('bed-exit');
    await panel.getByTestId('run-scenario').click();
    const current = panel.getByTestId('scenario-current');
    await expect.poll(() => current.getAttribute('data-status'), { timeout: 20_000 }).toBe('passed');
    await expect(panel.getByTestId('scenario-verdict').textContent()).resolves.toMatch(/BESTÅTT/);
    await expect(panel.getByTestId('scenario-verdict').textContent()).resolves.toContain('bed-exit res-1 bed-1 at 01:30:30');
    await expectReadable(page);
    await screenshot(page, 'technician-bench-scenario-pass');

    // A file from the technician's computer, expecting the alarm at the wrong time: FAIL, with why.
    await panel.getByTestId('scenario-file').setInputFiles(failing);
    await expect.poll(() => panel.getByTestId('run-upload').isEnabled()).toBe(true);
    await panel.getByTestId('run-upload').click();
    await expect.poll(() => current.getAttribute('data-status'), { timeout: 20_000 }).toBe('failed');
    const differences = panel.getByTestId('scenario-differences');
    await expect(differences.textContent()).resolves.toMatch(/Mangler.*expected bed-exit res-1 between 01:44:54 and 01:45:06/);
    await expect(differences.textContent()).resolves.toMatch(/Uventet.*got bed-exit res-1 bed-1 at 01:30:30/);
    await expect.poll(() => panel.getByTestId('scenario-runs').locator('tbody tr').count()).toBe(2);

    // The maintenance log, newest first.
    const log = page.getByTestId('self-test-log');
    await expect
      .poll(() => log.getByTestId('self-test-entry').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-result'))))
      .toEqual(['passed', 'failed']);
    await expectReadable(page);
    await page.getByTestId('scenario-panel').scrollIntoViewIfNeeded();
    await screenshot(page, 'technician-bench-scenario-fail');
    await page.setViewportSize({ width: 1024, height: 2200 });
    await screenshot(page, 'technician-bench-full');
  }, 60_000);
});
