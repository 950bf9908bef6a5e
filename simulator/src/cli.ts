#!/usr/bin/env node
import { runCommandLine } from './command-line.js';

// The first SIGINT/SIGTERM stops playing and disconnects from the broker; a second one, for a
// shutdown that hangs, exits at once.
const shutdown = new AbortController();
const stop = (signal: NodeJS.Signals) => {
  if (shutdown.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
  shutdown.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// `plan … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const code = await runCommandLine(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  signal: shutdown.signal,
  now: () => Date.now(),
});
process.exitCode = code;
