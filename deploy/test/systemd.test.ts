/**
 * The gateway's systemd unit: `systemd-analyze verify` finds nothing to say about it, its sandbox
 * scores as "OK" in `systemd-analyze security`, and the watchdog that feeds WatchdogSec works with
 * the real gateway: READY=1 once /health answers, WATCHDOG=1 while it keeps answering, silence
 * while the gateway hangs (SIGSTOP), and a clean stop passed on to the gateway. The sd_notify
 * socket is a real unix datagram socket, as systemd's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployDir, repoRoot } from './support/paths.js';
import { freePort, requireProgram, run } from './support/processes.js';

const unit = join(deployDir, 'systemd/nattevakt-gateway.service');
const watchdog = join(deployDir, 'systemd/nattevakt-watchdog');
const hasSystemd = requireProgram('systemd-analyze', 'apt-get install systemd');
const hasPython = requireProgram('python3', 'apt-get install python3');
const dir = mkdtempSync(join(tmpdir(), 'nattevakt-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasSystemd)('the systemd unit', () => {
  it('passes systemd-analyze verify without a single remark', async () => {
    const verify = run('systemd-analyze', ['verify', '--man=no', unit]);
    expect(await verify.exited).toBe(0);
    expect(verify.lines.filter((l) => l.trim() !== '')).toEqual([]);
  });

  it('notices a misspelt setting (so the check above can fail)', async () => {
    const bad = join(dir, 'bad.service');
    writeFileSync(bad, readFileSync(unit, 'utf8').replace('WatchdogSec=30', 'WatchdogSecs=30'));
    const verify = run('systemd-analyze', ['verify', '--man=no', bad]);
    await verify.exited;
    expect(verify.lines.join('\n')).toMatch(/Unknown key 'WatchdogSecs'/);
  });

  it('has the restart policy, watchdog and sandbox of the issue, and scores OK in systemd-analyze security', async () => {
    const text = readFileSync(unit, 'utf8');
    for (const line of [
      'Restart=on-failure',
      'WatchdogSec=30',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/nattevakt-gateway',
      'StateDirectory=nattevakt-gateway',
    ]) {
      expect(text).toContain(`\n${line}\n`);
    }
    // The gateway configuration's stateDir must be the writable state directory.
    expect(text).toMatch(/--config \/etc\/nattevakt\/gateway\.json/);
    const security = run('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit]);
    await security.exited;
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.lines.join('\n'))?.[1]);
    expect(score).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!hasPython)('the watchdog with the real gateway', () => {
  it('says READY once /health answers, pings while it answers, falls silent while the gateway hangs, and stops it cleanly', async () => {
    const socketPath = join(dir, 'notify.sock');
    // systemd's side: a unix datagram socket that prints each message on one line.
    const systemd = run('python3', [
      '-u',
      '-c',
      [
        'import socket, sys',
        's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
        's.bind(sys.argv[1])',
        'print("bound", flush=True)',
        'while True: print("msg " + s.recv(4096).decode().replace("\\n", "|"), flush=True)',
      ].join('\n'),
      socketPath,
    ]);
    await systemd.waitFor(/^bound$/);
    const healthPort = await freePort();
    const config = join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        siteId: 'watchdog-site',
        mqtt: { host: '127.0.0.1', port: 0 },
        stateDir: join(dir, 'state'),
        http: { host: '127.0.0.1', port: healthPort },
      }),
    );
    const supervisor = run(
      'python3',
      [
        watchdog,
        '--health',
        `http://127.0.0.1:${healthPort}/health`,
        '--',
        process.execPath,
        join(repoRoot, 'gateway/dist/src/main.js'),
        '--config',
        config,
      ],
      { env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '600000' } },
    );
    try {
      await systemd.waitFor(/^msg READY=1\|MAINPID=\d+/, 20_000);
      const pings = () => systemd.lines.filter((l) => l === 'msg WATCHDOG=1').length;
      const before = pings();
      await new Promise((r) => setTimeout(r, 1500));
      expect(pings() - before).toBeGreaterThanOrEqual(3); // every 0.2 s

      const gatewayPid = Number(readFileSync(`/proc/${supervisor.child.pid}/task/${supervisor.child.pid}/children`, 'utf8').trim());
      expect(gatewayPid).toBeGreaterThan(0);
      process.kill(gatewayPid, 'SIGSTOP');
      await systemd.waitFor(/^msg STATUS=health not answering/, 5000);
      const hung = pings();
      await new Promise((r) => setTimeout(r, 1500));
      expect(pings() - hung).toBe(0);
      process.kill(gatewayPid, 'SIGCONT');
      await systemd.waitFor(/^msg STATUS=healthy$/, 5000);

      expect(await supervisor.stop('SIGTERM')).toBe(0);
      expect(systemd.lines).toContain('msg STOPPING=1');
      expect(supervisor.lines.join('\n')).toMatch(/gateway stopped/);
      expect(() => process.kill(gatewayPid, 0)).toThrow();
    } finally {
      await supervisor.stop('SIGKILL');
      await systemd.stop('SIGKILL');
    }
  }, 40_000);

  it('exits with the status of a gateway that fails to start', async () => {
    const supervisor = run('python3', [
      watchdog,
      '--health',
      'http://127.0.0.1:9/health',
      '--',
      process.execPath,
      join(repoRoot, 'gateway/dist/src/main.js'),
      '--config',
      join(dir, 'missing.json'),
    ]);
    expect(await supervisor.exited).toBe(2);
    expect(supervisor.lines.join('\n')).toMatch(/cannot read gateway configuration/);
  });
});
