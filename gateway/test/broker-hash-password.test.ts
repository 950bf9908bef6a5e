import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verify } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config/gateway-config.js';

/** The built command line, as an installer runs it (`npx tsc -b gateway` builds it). */
const main = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));

const run = (args: string[], input: string) => spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8', timeout: 20_000 });

describe('node gateway/dist/src/main.js hash-password', () => {
  it('is built', () => {
    expect(existsSync(main), `${main} is missing: run npx tsc -b gateway first`).toBe(true);
  });

  it('prints an argon2id hash of the password on stdin that the configuration accepts', async () => {
    const result = run(['hash-password'], 'correct horse battery staple\n');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const hash = result.stdout.trim();
    expect(hash).toMatch(/^\$argon2id\$/);
    // The line break the shell adds is not part of the password.
    expect(await verify(hash, 'correct horse battery staple')).toBe(true);
    const config = parseGatewayConfig({
      version: 1,
      siteId: 'demo',
      mqtt: { devices: [{ username: 'door-7', passwordHash: hash, role: 'sensor', sensorIds: ['door-7'] }] },
    });
    expect(config.mqtt.devices[0]?.passwordHash).toBe(hash);
  });

  it('refuses a short password and says why', () => {
    const result = run(['hash-password'], 'short\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/at least 12 characters/);
    expect(result.stdout).toBe('');
  });

  it('documents the command in --help', () => {
    expect(run(['--help'], '').stdout).toMatch(/hash-password/);
  });
});
