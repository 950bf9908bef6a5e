import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@nattevakt/protocol/topics';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedTransport } from '../src/broker/broker.js';
import { hashPassword } from '../src/broker/credentials.js';
import { ConfigError, MQTT_LIMIT_DEFAULTS } from '../src/config/gateway-config.js';

const dir = mkdtempSync(join(tmpdir(), 'gateway-broker-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');

/** A self-signed certificate for localhost, made by openssl for this run. */
function makeCertificate(): boolean {
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile],
      { stdio: 'ignore' },
    );
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`openssl is required for the TLS tests in CI: ${(error as Error).message}`);
    console.warn(`\n*** SKIPPING the MQTT over TLS tests: openssl could not make a certificate (${(error as Error).message}) ***\n`);
    return false;
  }
}
const haveCertificate = makeCertificate();

describe.skipIf(!haveCertificate)('embedded broker over TLS', () => {
  const received: { topic: string; payload: string }[] = [];
  let transport: EmbeddedTransport;

  beforeAll(async () => {
    const passwordHash = await hashPassword('correct horse battery staple');
    transport = new EmbeddedTransport({
      mqtt: {
        host: '127.0.0.1',
        port: null, // TLS only
        tls: { port: 0, certFile, keyFile },
        devices: [{ username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] }],
        users: [],
        limits: { ...MQTT_LIMIT_DEFAULTS, connectTimeoutMs: 2000 },
      },
      siteId: 'demo',
      acceptClock: false,
      logger: pino({ level: 'silent' }),
    });
    await transport.start([topics.sensorsOfSite('demo')], (topic, payload, done) => {
      received.push({ topic, payload: payload.toString() });
      done();
    });
  });

  afterAll(async () => {
    await transport.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an authenticated sensor over TLS, verified against the self-signed certificate', async () => {
    expect(transport.endpoint).toBe(`mqtts://127.0.0.1:${transport.tlsPort}`);
    expect(() => transport.port).toThrow(/mqtt\.port is null/);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${transport.tlsPort}`, {
      username: 'door-7',
      password: 'correct horse battery staple',
      reconnectPeriod: 0,
      ca: readFileSync(certFile),
      servername: 'localhost', // the certificate's name; the connection goes to 127.0.0.1
    });
    try {
      await client.publishAsync(topics.sensorState('demo', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
      expect(received).toEqual([{ topic: topics.sensorState('demo', 'door-7'), payload: '{"kind":"door","open":true}' }]);
    } finally {
      await client.endAsync();
    }
  });

  it('refuses a client that does not trust the certificate, and plain MQTT on the TLS port', async () => {
    /** How a connection attempt ends: connected, or the error (or bare close) that ended it. */
    const outcome = async (url: string) => {
      const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000 });
      try {
        return await new Promise<string>((resolve) => {
          client.once('connect', () => resolve('connected'));
          client.once('error', (error) => resolve(error.message));
          client.once('close', () => resolve('closed'));
        });
      } finally {
        client.end(true);
      }
    };
    expect(await outcome(`mqtts://127.0.0.1:${transport.tlsPort}`)).toMatch(/self-signed|self signed/);
    expect(await outcome(`mqtt://127.0.0.1:${transport.tlsPort}`)).not.toBe('connected');
  });

  it('names the setting when the key file cannot be read', async () => {
    const broken = new EmbeddedTransport({
      mqtt: {
        host: '127.0.0.1',
        port: null,
        tls: { port: 0, certFile, keyFile: join(dir, 'missing.pem') },
        devices: [],
        users: [],
        limits: MQTT_LIMIT_DEFAULTS,
      },
      siteId: 'demo',
      acceptClock: false,
      logger: pino({ level: 'silent' }),
    });
    const failure = broken.start([], (_topic, _payload, done) => done());
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/mqtt\.tls\.keyFile: cannot read/);
  });
});
