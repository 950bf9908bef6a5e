import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A child process whose output lines are kept, so a test can wait for one. */
export interface Running {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line (stdout or stderr) that matches, or rejects after the timeout with what was seen. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The exit code (128 + signal number after a signal), once it exits and its output has been read to the end. */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Running {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onData = (buffered: { rest: string }) => (chunk: Buffer) => {
    const parts = (buffered.rest + chunk.toString('utf8')).split('\n');
    buffered.rest = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  };
  const stdoutRest = { rest: '' };
  const stderrRest = { rest: '' };
  child.stdout?.on('data', onData(stdoutRest));
  child.stderr?.on('data', onData(stderrRest));
  // 'close', not 'exit': 'exit' can come before the last lines are read from the pipes, and a test
  // that looks for a goodbye line right after the exit would then miss it (seen in CI).
  // A grandchild that outlives its parent (a supervisor killed with SIGKILL) holds the pipes open and
  // keeps 'close' away: two seconds after 'exit' the exit counts without it.
  const exited = new Promise<number>((resolve) => {
    let settled = false;
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      for (const rest of [stdoutRest, stderrRest]) if (rest.rest !== '') lines.push(rest.rest);
      for (const wake of waiters) wake();
      resolve(code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0));
    };
    let grace: NodeJS.Timeout | undefined;
    child.once('exit', (code, signal) => {
      grace = setTimeout(() => done(code, signal), 2000);
    });
    child.once('close', done);
  });
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = lines.find((l) => pattern.test(l));
        if (line === undefined) return false;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(line);
        return true;
      };
      const wake = () => void check();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`${command}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.slice(-40).join('\n')}`));
      }, timeoutMs);
      if (!check()) waiters.add(wake);
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { child, lines, waitFor, exited, stop };
}

const osSignals: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2, SIGABRT: 6 };

/** A TCP port nothing listens on right now (for programs that must be told their port up front). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

/** Whether a program is on PATH. */
export const have = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

/**
 * Tests that need a program this machine may lack: skipped with a loud warning, but a failure in CI
 * (where .ci/run installs it), so a missing install step cannot hide behind a green run.
 */
export function requireProgram(program: string, why: string): boolean {
  if (have(program)) return true;
  const message = `${program} is not installed (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}: .ci/run must install it`);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return false;
}
