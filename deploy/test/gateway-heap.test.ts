/**
 * The gateway's production starts cap the V8 heap (issue 3: < 200 MB RSS at 10,000 sensors; the
 * numbers are in bench/README.md, "Decision latency"). Checked by starting Node with the options
 * exactly as the systemd unit and the image give them: Node must accept them in NODE_OPTIONS, and the
 * heap they allow must stay well under the target.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir } from './support/paths.js';

const MB = 1024 * 1024;

/** The heap limit Node reports when started with these NODE_OPTIONS (throws if Node refuses them). */
function heapLimit(nodeOptions: string | undefined): number {
  const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'], {
    env: { PATH: process.env.PATH, ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) },
    encoding: 'utf8',
  });
  return Number(out);
}

const starts = [
  {
    name: 'the systemd unit',
    options: () =>
      /^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(readFileSync(join(deployDir, 'systemd/nattevakt-gateway.service'), 'utf8'))?.[1],
  },
  {
    name: 'the container image',
    options: () => /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(join(deployDir, 'docker/gateway.Dockerfile'), 'utf8'))?.[1],
  },
];

describe.each(starts)('$name', ({ options }) => {
  it('starts the gateway with an old space of 128 MB and semi-spaces of 2 MB, which Node accepts', () => {
    const given = options();
    expect(given).toBe('--max-old-space-size=128 --max-semi-space-size=2');
    const capped = heapLimit(given);
    // old space + young generation (3 × semi-space): well under the 200 MB the gateway may use in all.
    expect(capped).toBeGreaterThanOrEqual(128 * MB);
    expect(capped).toBeLessThan(150 * MB);
    expect(capped).toBeLessThan(heapLimit(undefined));
  });
});
