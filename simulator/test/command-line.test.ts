import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandLineIo, EXIT_OK, EXIT_USAGE, runCommandLine } from '../src/command-line.js';
import type { ScheduledMessage } from '../src/scheduled-message.js';
import { startBroker, type TestBroker } from './broker.js';

interface Captured extends CommandLineIo {
  stdout: string;
  stderr: string;
  abort: AbortController;
}

function capture(now = Date.parse('2026-11-24T15:00:00Z')): Captured {
  const abort = new AbortController();
  const io: Captured = {
    stdout: '',
    stderr: '',
    abort,
    signal: abort.signal,
    now: () => now,
    progressEveryMs: 0,
    out: (text) => {
      io.stdout += text;
    },
    err: (text) => {
      io.stderr += text;
    },
  };
  return io;
}

describe('command line', () => {
  let dir: string;
  let wardFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nattevakt-sim-'));
    wardFile = join(dir, 'ward.json');
    const io = capture();
    expect(await runCommandLine(['ward', '--residents', '12', '--site', 'test'], io)).toBe(EXIT_OK);
    await writeFile(wardFile, io.stdout);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ward prints a valid site configuration', async () => {
    const io = capture();
    expect(await runCommandLine(['ward', '--residents', '24'], io)).toBe(EXIT_OK);
    const checked = checkSiteConfig(JSON.parse(io.stdout));
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.value.rooms).toHaveLength(24);
  });

  it('plan prints the night as JSON lines, the same for the same seed', async () => {
    const args = ['plan', '--config', wardFile, '--seed', '7', '--night', '2026-11-24', '--from', '22:00', '--to', '07:00'];
    const first = capture();
    expect(await runCommandLine(args, first)).toBe(EXIT_OK);
    const lines = first.stdout.trim().split('\n');
    const messages = lines.map((line) => JSON.parse(line) as ScheduledMessage);
    expect(messages.length).toBeGreaterThan(24);
    expect(messages[0]).toMatchObject({ topic: 'nattevakt/v1/test/sensors/bed-1/availability', retain: true });
    expect(messages.some((m) => m.note?.startsWith('Rom 7: døren åpnes'))).toBe(true);
    const second = capture();
    await runCommandLine(args, second);
    expect(second.stdout).toBe(first.stdout);
  });

  it('plan --night today means the night we are in: before noon, the one that began yesterday', async () => {
    const morning = capture(Date.parse('2026-11-25T02:00:00Z'));
    await runCommandLine(['plan', '--config', wardFile, '--night', 'today', '--from', '03:00', '--to', '03:05'], morning);
    const afternoon = capture(Date.parse('2026-11-24T15:00:00Z'));
    await runCommandLine(['plan', '--config', wardFile, '--night', '2026-11-24', '--from', '03:00', '--to', '03:05'], afternoon);
    expect(morning.stdout).toBe(afternoon.stdout);
  });

  it.each([
    [['plan', '--config', 'WARD', '--sed', '7'], /Unknown option '--sed'/],
    [['plan', '--config', 'WARD', '--seed', 'seven'], /--seed "seven": expected a whole number/],
    [['plan', '--config', 'WARD', '--from', '2:50'], /--from "2:50": expected a local time HH:MM/],
    [['plan', '--config', 'WARD', '--from', '07:00', '--to', '22:00'], /--from\/--to: to \(22:00\) must come after from \(07:00\)/],
    [['plan', '--config', 'WARD', '--night', 'tomorrow'], /--night "tomorrow": expected the evening date as YYYY-MM-DD/],
    [['plan'], /--config is required/],
    [['plan', '--config', '/no/such/ward.json'], /--config \/no\/such\/ward.json: cannot read it/],
    [['play', '--config', 'WARD'], /--url is required/],
    [['play', '--config', 'WARD', '--url', 'mqtt://x', '--speed', 'fast'], /--speed "fast": expected a number above 0/],
    [['ward', '--residents', '0'], /--residents "0": expected a whole number from 1 to 500/],
    [['ward', '--site', 'Demo Site'], /--site "Demo Site"/],
    [['wards'], /unknown command "wards": expected ward, plan, play, check, verify, replay, load or selftest/],
  ])('%j exits 2 saying what is wrong', async (args, message) => {
    const io = capture();
    expect(
      await runCommandLine(
        args.map((arg) => (arg === 'WARD' ? wardFile : arg)),
        io,
      ),
    ).toBe(EXIT_USAGE);
    expect(io.stderr).toMatch(message);
    expect(io.stderr).toMatch(/--help/);
    expect(io.stdout).toBe('');
  });

  it('rejects a configuration that is not a valid site', async () => {
    await writeFile(wardFile, JSON.stringify({ version: 1, site: { id: 'x' } }));
    const io = capture();
    expect(await runCommandLine(['plan', '--config', wardFile], io)).toBe(EXIT_USAGE);
    expect(io.stderr).toMatch(/not a valid site configuration/);
  });

  it('--help explains every command with examples', async () => {
    const io = capture();
    expect(await runCommandLine(['--help'], io)).toBe(EXIT_OK);
    for (const command of ['ward --residents 24', 'plan --config ward.json', 'play --config ward.json --url', '--loop']) {
      expect(io.stdout).toContain(command);
    }
    const sub = capture();
    expect(await runCommandLine(['play', '--help'], sub)).toBe(EXIT_OK);
    expect(sub.stdout).toContain('Examples:');
  });

  describe('play', () => {
    let broker: TestBroker;
    beforeEach(async () => {
      broker = await startBroker();
    });
    afterEach(async () => {
      await broker.close();
    });

    it('plays the span to the broker and logs progress and the scripted events', async () => {
      const { received } = await broker.listen('nattevakt/v1/test/#');
      const io = capture();
      const args = ['play', '--config', wardFile, '--url', broker.url, '--seed', '7', '--night', '2026-11-24'];
      const code = await runCommandLine([...args, '--from', '03:05', '--to', '03:45', '--speed', '3600'], io);
      expect(code).toBe(EXIT_OK);
      expect(io.stderr).toMatch(/\[sim\] spiller natt 2026-11-24 03:05–03:45 \(seed 7, 3600×\)/);
      expect(io.stderr).toMatch(/\[sim\] 03:08 Rom 7: .* går ut av sengen/);
      expect(io.stderr).toMatch(/\[sim\] 03:10 Rom 7: døren åpnes/);
      expect(io.stderr).toMatch(/\[sim\] 03:30 Rom 12: .* faller/);
      expect(io.stderr).toMatch(/\[sim\] \d\d:\d\d natt 2026-11-24 +\d+% sendt \d+ meldinger/);
      expect(io.stderr).toMatch(/ferdig med natt 2026-11-24: sendt \d+ meldinger/);
      await expect.poll(() => received.some((m) => m.topic === 'nattevakt/v1/test/sensors/door-7/state')).toBe(true);
      expect(received.some((m) => m.topic === 'nattevakt/v1/test/clock')).toBe(true);
    });

    it('--loop goes on to the next night until stopped', async () => {
      const { received } = await broker.listen('nattevakt/v1/test/clock');
      const io = capture();
      const args = ['play', '--config', wardFile, '--url', broker.url, '--night', '2026-11-24', '--from', '06:55', '--to', '07:00'];
      const playing = runCommandLine([...args, '--speed', '100000', '--loop'], io);
      // The next night starts at 22:00 on 2026-11-25 (21:00 UTC).
      await expect
        .poll(() => received.some((m) => (m.payload as { time: string }).time >= '2026-11-25T21:00:00.000Z'), { timeout: 10_000 })
        .toBe(true);
      expect(io.stderr).toMatch(/spiller natt 2026-11-25 22:00–07:00/);
      io.abort.abort();
      expect(await playing).toBe(EXIT_OK);
      expect(io.stderr).toMatch(/\[sim\] stoppet: sendt \d+ meldinger/);
    });
  });
});
