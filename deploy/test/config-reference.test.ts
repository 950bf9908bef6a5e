/**
 * deploy/CONFIGURATION.md is generated from the configuration schemas and the programs' --help, and
 * must never drift: this fails when the committed file differs from what the script makes of the
 * current code. Fix: `npm run config-reference -w deploy`, then commit the file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { generate, referencePath } from '../scripts/config-reference.mjs';

describe('the configuration reference', () => {
  it('is exactly what the schemas generate today (run `npm run config-reference -w deploy` after changing one)', async () => {
    const generated: string = await generate();
    const committed = readFileSync(referencePath as string, 'utf8');
    if (committed !== generated) {
      const ours = committed.split('\n');
      const theirs = generated.split('\n');
      const line = ours.findIndex((l, i) => l !== theirs[i]);
      expect.fail(
        `deploy/CONFIGURATION.md is out of date (run npm run config-reference -w deploy and commit it); from line ${line + 1}:\n` +
          `  committed: ${ours[line]}\n  generated: ${theirs[line]}`,
      );
    }
  });

  it('covers every gateway setting, every site setting and both programs’ options', async () => {
    const generated: string = await generate();
    for (const row of [
      '`mqtt.limits.maxPacketBytes`',
      '`mqtt.devices[] (role "bridge").prefix`',
      '`zigbee2mqtt.devices[].bedField`',
      '`localFeed.allowedOrigins`',
      '`residents[].plan.rules.notInBedBy.time`',
      '`sensors[].residentId`',
    ]) {
      expect(generated).toContain(`| ${row}`);
    }
    expect(generated).toMatch(/\| `stateDir` +\| string +\| +\| `data\/gateway` /);
    expect(generated).toMatch(/--database-url URL/);
    expect(generated).toMatch(/INFLUX_BUCKET/);
    expect(generated).toMatch(/NATTEVAKT_GATEWAY_TOKEN/);
  });
});
