import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { type CommandLineIo, runCommandLine } from '@nattevakt/simulator/command-line';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import { staffClient } from '@nattevakt/simulator/load';
import { parseRecording } from '@nattevakt/simulator/replay';
import { loadScenarioFile } from '@nattevakt/simulator/scenario-commands';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATOR_USER, startScenarioGateway } from './support/scenario-gateway.js';
import { addPerson, eventually, PASSWORD, type Stack, startStack } from './support/stack.js';

const scenarios = fileURLToPath(new URL('../../simulator/scenarios/', import.meta.url));

function capture(): CommandLineIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    signal: new AbortController().signal,
    now: () => Date.now(),
    progressEveryMs: 100,
    out: (text: string) => {
      io.stdout += text;
    },
    err: (text: string) => {
      io.stderr += text;
    },
  };
  return io;
}

describe('the simulator command line against a real gateway', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('verify prints PASS with exit code 0, FAIL with the differences and exit code 1 on a gateway whose clock has moved past the night, and PASS again on a later night', async () => {
    const file = join(scenarios, 'door-open-at-night.yaml');
    const gateway = await startScenarioGateway(await loadScenarioFile(file));
    cleanups.push(gateway.stop);
    const credentials = ['--username', SIMULATOR_USER.username, '--password', SIMULATOR_USER.password];

    const first = capture();
    expect(await runCommandLine(['verify', file, '--url', gateway.url, ...credentials], first)).toBe(0);
    expect(first.stdout).toMatch(/^PASS door-open-at-night: 2 alarm\(s\) raised, 0 difference\(s\)/);
    expect(first.stdout).toContain('door-open-at-night res-2 door-2 at 03:10:00');
    expect(first.stderr).toMatch(/\[verify\] \d\d:\d\d:\d\d +\d+% sendt \d+ meldinger/);

    // The gateway's simulated clock is at 04:00 now and never runs back: the same night again fails.
    const again = capture();
    expect(await runCommandLine(['verify', file, '--url', gateway.url, ...credentials], again)).toBe(1);
    expect(again.stdout).toMatch(/^FAIL door-open-at-night/);
    expect(again.stdout).toMatch(
      /missing {5}expected door-open-at-night res-2 between 03:09:50 and 03:10:10 \(line 15\); got the nearest at 04:00:00/,
    );

    // With the gateway's health endpoint, verify says so before it starts.
    const checked = capture();
    const health = ['--health', `http://127.0.0.1:${gateway.gateway.healthPort}/health`];
    expect(await runCommandLine(['verify', file, '--url', gateway.url, ...credentials, ...health], checked)).toBe(1);
    expect(checked.stderr).toMatch(/the gateway's clock is at 2026-11-25T03:00:00.000Z, after the scenario's start .* never runs back/);

    const later = capture();
    expect(await runCommandLine(['verify', file, '--url', gateway.url, ...credentials, '--night', '2026-11-30'], later)).toBe(0);
    expect(later.stdout).toMatch(/^PASS/);
  }, 60_000);

  it('verify refuses a bad scenario file with its line, and a bad flag with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-verify-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nsite: demo-ward\nnight: "2026-11-24"\nfrom: "02:00"\nto: "03:00"\ntimeline: []\nexpect:\n  - { rule: fire }\n',
    );
    const io = capture();
    expect(await runCommandLine(['verify', bad, '--url', 'mqtt://127.0.0.1:1'], io)).toBe(1);
    expect(io.stderr).toContain(`${bad}:8:13: /expect/0/rule: expected one of`);
    const flag = capture();
    expect(await runCommandLine(['verify', bad, '--url', 'mqtt://127.0.0.1:1', '--step', '0'], flag)).toBe(2);
    expect(flag.stderr).toMatch(/--step "0": expected simulated seconds/);
  });

  describe('with the server', () => {
    let stack: Stack | undefined;
    afterEach(async () => {
      await stack?.stop();
      stack = undefined;
    });

    it('replays a night exported from the server into a fresh gateway and gets the same alarms', async () => {
      const native = join(scenarios, 'out-of-bed-too-long.yaml');
      const scenario = await loadScenarioFile(native);
      // The incident night happens on a real server and gateway (an open demo broker: one connection for all).
      stack = await startStack({ site: scenario.site, start: scenario.from - 60_000 });
      await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
      await addPerson(stack, { username: 'tekniker', role: 'technician' });
      const original = capture();
      // Steps of 30 s keep the three runs quick; the replays step from the same first instant, so their alarms land on the same times.
      expect(await runCommandLine(['verify', native, '--url', stack.mqttUrl, '--step', '30'], original)).toBe(0);
      const raised = original.stdout.split('\n').filter((l) => l.startsWith('    '));
      expect(raised.length).toBeGreaterThan(0);
      await eventually('events stored on the server', () => (stack?.gateway.outboxDepth === 0 ? true : undefined), 10_000);

      const dir = mkdtempSync(join(tmpdir(), 'nattevakt-replay-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const target = await startScenarioGateway(await loadScenarioFile(native));
      cleanups.push(target.stop);
      const replay = capture();
      const args = ['replay', '--server', stack.httpUrl, '--site', scenario.site.site.id];
      const span = ['--from', '2026-11-24T23:00:00Z', '--to', '2026-11-25T04:00:00Z', '--login', 'tekniker', '--login-password', PASSWORD];
      const mqtt = ['--url', target.url, '--username', SIMULATOR_USER.username, '--password', SIMULATOR_USER.password, '--step', '30'];
      expect(await runCommandLine([...args, ...span, ...mqtt], replay)).toBe(0);
      expect(replay.stderr).toMatch(/\[replay\] hentet \d+ hendelser/);
      const replayed = replay.stdout.split('\n').filter((l) => l.startsWith('  '));
      expect(replayed).toEqual(raised.map((l) => l.slice(2)));

      // The same recording as a file, the way an export is kept.
      const response = await fetch(
        `${stack.httpUrl}/api/sites/${scenario.site.site.id}/events?from=2026-11-24T23:00:00Z&to=2026-11-25T04:00:00Z&limit=10000`,
        {
          headers: { cookie: await loginCookie(stack.httpUrl) },
        },
      );
      const exported = await response.text();
      const events: SensorEvent[] = parseRecording(exported);
      expect(events.length).toBeGreaterThan(50);
      writeFileSync(join(dir, 'night.json'), exported);
      const again = await startScenarioGateway(scenario);
      cleanups.push(again.stop);
      const fromFile = capture();
      expect(
        await runCommandLine(
          [
            'replay',
            join(dir, 'night.json'),
            '--url',
            again.url,
            '--username',
            SIMULATOR_USER.username,
            '--password',
            SIMULATOR_USER.password,
            '--step',
            '30',
          ],
          fromFile,
        ),
      ).toBe(0);
      expect(fromFile.stdout.split('\n').filter((l) => l.startsWith('  '))).toEqual(replayed);
    }, 90_000);

    it('the self-test takes a test alarm to a tablet’s confirmation and resolves it with its timings; without a tablet it fails and the alarm stays open', async () => {
      const ward = demoWard({ residents: 2, siteId: 'selftest' });
      const site = {
        ...ward,
        rooms: [...ward.rooms, { id: 'selvtest', name: 'Selvtest' }],
        sensors: [...ward.sensors, { id: 'selvtest', kind: 'door' as const, roomId: 'selvtest' }],
      };
      stack = await startStack({ site, start: Date.parse('2026-11-25T09:00:00Z') });
      await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
      await addPerson(stack, { username: 'selvtest', displayName: 'Selvtest', role: 'nurse' });
      await addPerson(stack, { username: 'kari', displayName: 'Kari', role: 'nurse' });
      const args = ['selftest', '--url', stack.mqttUrl, '--site', 'selftest', '--sensor', 'selvtest', '--server', stack.httpUrl];
      const login = ['--login', 'selvtest', '--login-password', PASSWORD, '--once'];

      // No tablet is on: nobody confirms within the second allowed.
      const failed = capture();
      expect(await runCommandLine([...args, ...login, '--confirm-within', '1', '--json'], failed)).toBe(1);
      const failure = JSON.parse(failed.stdout) as { ok: boolean; alarmId: string; failure: string; gatewayMs: number; serverMs: number };
      expect(failure).toMatchObject({ ok: false, resolved: false });
      expect(failure.failure).toMatch(/^no tablet confirmed alarm .* within 1 s$/);
      const cookie = await loginCookieAs(stack.httpUrl, 'kari');
      const open = (await (await fetch(`${stack.httpUrl}/api/alarms/${failure.alarmId}`, { headers: { cookie } })).json()) as {
        alarm: { status: string; rule: string };
      };
      expect(open.alarm).toMatchObject({ status: 'active', rule: 'tamper' });

      // A tablet on the ward confirms every alarm it receives, as the web app does.
      const tablet = await staffClient({ server: stack.httpUrl, username: 'kari', password: PASSWORD });
      cleanups.push(() => tablet.disconnect());
      tablet.on('alarm', (alarm) => {
        void tablet.emitWithAck('delivered', { alarmId: alarm.id, seq: alarm.seq, device: 'nettbrett-vakt-1' });
      });
      const passed = capture();
      expect(await runCommandLine([...args, ...login], passed), passed.stdout).toBe(0);
      expect(passed.stdout).toMatch(/^PASS self-test: gateway \d+ ms, server \d+ ms, tablet \d+ ms \(nettbrett-vakt-1\)$/m);
      expect(passed.stderr).toMatch(/\[selftest\] gateway \d+ ms\n\[selftest\] server \d+ ms\n\[selftest\] tablet \d+ ms/);
      const { alarms } = (await (await fetch(`${stack.httpUrl}/api/alarms/open?site=selftest`, { headers: { cookie } })).json()) as {
        alarms: { id: string }[];
      };
      // The failed test's alarm is still open; the passed one is resolved, with its timings as the note.
      expect(alarms.map((a) => a.id)).toEqual([failure.alarmId]);
      const again = capture();
      expect(await runCommandLine([...args, ...login, '--json'], again)).toBe(0);
      const { alarmId } = JSON.parse(again.stdout) as { alarmId: string };
      const record = (await (await fetch(`${stack.httpUrl}/api/alarms/${alarmId}`, { headers: { cookie } })).json()) as {
        alarm: { status: string; outcome: string; note: string; resolvedBy: string };
      };
      expect(record.alarm).toMatchObject({ status: 'resolved', outcome: 'other', resolvedBy: 'Selvtest' });
      expect(record.alarm.note).toMatch(/^Selvtest OK: gateway \d+ ms, server \d+ ms, nettbrett \d+ ms \(nettbrett-vakt-1\)$/);

      // Every run is in the site's maintenance log, newest first, with its stages' timings, as the self-test's login reported it.
      await addPerson(stack, { username: 'tekniker', role: 'technician' });
      const log = (await (
        await fetch(`${stack.httpUrl}/api/sites/selftest/self-tests`, {
          headers: { cookie: await loginCookieAs(stack.httpUrl, 'tekniker') },
        })
      ).json()) as {
        entries: { result: string; alarmId: string; reportedBy: string; stages: { stage: string }[]; failure: string | null }[];
      };
      expect(log.entries.map((e) => [e.result, e.alarmId, e.reportedBy])).toEqual([
        ['passed', alarmId, 'Selvtest'],
        ['passed', expect.any(String), 'Selvtest'],
        ['failed', failure.alarmId, 'Selvtest'],
      ]);
      expect(log.entries[0]?.stages.map((s) => s.stage)).toEqual(['gateway', 'server', 'tablet']);
      expect(log.entries[2]?.failure).toMatch(/^no tablet confirmed alarm/);
    }, 60_000);

    it('load mode reports sent, accepted, alarms and latency to a /staff client', async () => {
      const site = demoWard({ residents: 3, siteId: 'load' });
      stack = await startStack({ site, start: 0 });
      await eventually('gateway uplink', () => stack?.gateway.uplinkConnected);
      await addPerson(stack, { username: 'sykepleier', role: 'nurse' });
      const io = capture();
      const code = await runCommandLine(
        [
          'load',
          '--url',
          stack.mqttUrl,
          '--sensors',
          '6',
          '--site',
          'load',
          '--rate',
          '100',
          '--seconds',
          '2',
          '--alarm-every',
          '10',
          '--server',
          stack.httpUrl,
          '--login',
          'sykepleier',
          '--login-password',
          PASSWORD,
          '--json',
        ],
        io,
      );
      expect(code, io.stderr).toBe(0);
      const summary = JSON.parse(io.stdout) as Record<string, unknown> & {
        staffLatency: { count: number; p50Ms: number; p99Ms: number } | null;
        decisionLatency: { count: number } | null;
      };
      // 200 messages at the rate, and the 20 doors closing again a second after they opened.
      expect(summary).toMatchObject({ sensors: 6, sent: 220, accepted: 220, alarmsTriggered: 20 });
      expect(summary.alarmsDecided).toBe(20);
      expect(summary.alarmsDelivered).toBe(20);
      expect(summary.decisionLatency?.count).toBe(20);
      expect(summary.staffLatency?.count).toBe(20);
      expect(summary.staffLatency?.p99Ms).toBeGreaterThanOrEqual(summary.staffLatency?.p50Ms ?? Number.POSITIVE_INFINITY);
      expect(io.stderr).toMatch(/\[#{24}\] 100%/);
    });
  });
});

async function loginCookie(httpUrl: string): Promise<string> {
  return loginCookieAs(httpUrl, 'tekniker');
}

async function loginCookieAs(httpUrl: string, username: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  return (
    response.headers
      .getSetCookie()
      .find((c) => c.startsWith('nattevakt_session='))
      ?.split(';', 1)[0] ?? ''
  );
}
