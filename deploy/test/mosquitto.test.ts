/**
 * Mosquitto in front of the gateway, with the shipped deploy/mosquitto/mosquitto.conf and acl (only
 * ports and paths changed) and the shipped deploy/gateway/gateway.mosquitto.json: the gateway's
 * subscriptions pass the ACL (it refuses to start otherwise), a sensor's reading reaches the rules,
 * a sensor cannot write another sensor's topic, a wrong password is refused, and the compose
 * health check command works.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployDir, repoRoot } from './support/paths.js';
import { freePort, type Running, requireProgram, run } from './support/processes.js';
import { reachable, waitForHttp } from './support/services.js';

const ready = requireProgram('mosquitto', 'apt-get install mosquitto') && requireProgram('mosquitto_passwd', 'apt-get install mosquitto');

describe.skipIf(!ready)('Mosquitto in front of the gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-mosquitto-'));
  const processes: Running[] = [];
  const ports = { mqtt: 0, health: 0, gateway: 0 };
  const passwords = { gateway: 'gateway-password-0123', door: 'door-password-0123456' };

  beforeAll(async () => {
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    mkdirSync(join(dir, 'data'));
    const conf = readFileSync(join(deployDir, 'mosquitto/mosquitto.conf'), 'utf8')
      .replace(/^listener 1883$/m, `listener ${ports.mqtt} 127.0.0.1`)
      .replace(/^listener 1884 127\.0\.0\.1$/m, `listener ${ports.health} 127.0.0.1`)
      .replaceAll('/mosquitto/data/', `${join(dir, 'data')}/`)
      .replaceAll('/mosquitto/config/', `${dir}/`);
    writeFileSync(join(dir, 'mosquitto.conf'), conf);
    writeFileSync(join(dir, 'acl'), readFileSync(join(deployDir, 'mosquitto/acl')));
    // As deploy/README.md documents it.
    execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'nattevakt-gateway', passwords.gateway]);
    execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'door-101', passwords.door]);
    // Started as root, Mosquitto drops to its own user, which must read the configuration and write its data.
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'data'), 0o777);
    for (const file of ['mosquitto.conf', 'acl', 'passwd']) chmodSync(join(dir, file), 0o644);
    const broker = run('mosquitto', ['-c', join(dir, 'mosquitto.conf')]);
    processes.push(broker);
    for (let i = 0; i < 50 && !(await reachable('127.0.0.1', ports.mqtt)); i++) await new Promise((r) => setTimeout(r, 100));

    const config = JSON.parse(readFileSync(join(deployDir, 'gateway/gateway.mosquitto.json'), 'utf8'));
    config.mqtt.external.url = `mqtt://127.0.0.1:${ports.mqtt}`;
    config.mqtt.external.password = passwords.gateway;
    config.stateDir = join(dir, 'gateway-state');
    config.http = { host: '127.0.0.1', port: ports.gateway };
    config.siteConfigFile = join(deployDir, 'sites/example-site.json');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config));
    const gateway = run(process.execPath, [join(repoRoot, 'gateway/dist/src/main.js'), '--config', join(dir, 'gateway.json')]);
    processes.push(gateway);
    await waitForHttp(`http://127.0.0.1:${ports.gateway}/health`).catch((error: Error) => {
      throw new Error(`${error.message}\ngateway:\n${gateway.lines.join('\n')}\nmosquitto:\n${broker.lines.join('\n')}`);
    });
  }, 60_000);

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const doorMessages = async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).text();
    return Number(/^nattevakt_gateway_messages_total\{kind="door"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('passes the compose health check command on the local listener', async () => {
    const check = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(ports.health), '-t', '$SYS/broker/uptime', '-C', '1', '-W', '5']);
    expect(await check.exited, check.lines.join('\n')).toBe(0);
    expect(check.lines[0]).toMatch(/seconds/);
  });

  it('carries a sensor’s reading to the gateway, and drops a write to another sensor’s topic', async () => {
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
      username: 'door-101',
      password: passwords.door,
      clientId: 'door-101',
      reconnectPeriod: 0,
    });
    try {
      const before = await doorMessages();
      const reading = JSON.stringify({ kind: 'door', open: true, time: new Date().toISOString() });
      await sensor.publishAsync('nattevakt/v1/example-site/sensors/door-101/state', reading, { qos: 1 });
      // The ACL lets door-101 write its own topics only; Mosquitto acknowledges and drops the rest (MQTT 3.1.1).
      await sensor.publishAsync('nattevakt/v1/example-site/sensors/bed-101/state', JSON.stringify({ kind: 'bed', occupied: false }), {
        qos: 1,
      });
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (await doorMessages()) === before) await new Promise((r) => setTimeout(r, 100));
      expect(await doorMessages()).toBe(before + 1);
      const bed = /^nattevakt_gateway_messages_total\{kind="bed"\} (\d+)/m.exec(
        await (await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).text(),
      );
      expect(Number(bed?.[1] ?? 0)).toBe(0);
    } finally {
      await sensor.endAsync();
    }
  });

  it('refuses a wrong password', async () => {
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { username: 'door-101', password: 'wrong-password', reconnectPeriod: 0 }),
    ).rejects.toThrow(/Not authorized|Bad username or password/i);
  });
});
