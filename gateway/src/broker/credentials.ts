import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { MqttConfig, MqttDevice, MqttRateLimit } from '../config/gateway-config.js';

/** Who a connection is once authenticated; it decides what the connection may publish and read. */
export type MqttIdentity =
  | { role: 'anonymous' }
  | { role: 'legacy'; username: string }
  | { role: 'sensor'; username: string; sensorIds: ReadonlySet<string>; rateLimit?: MqttRateLimit }
  | { role: 'bridge'; username: string; prefix: string; rateLimit?: MqttRateLimit }
  | { role: 'consumer'; username: string; rateLimit?: MqttRateLimit }
  | { role: 'simulator'; username: string; rateLimit?: MqttRateLimit };

/** Too many password checks already waiting: the connection is refused as "server unavailable". */
export class CredentialCheckOverload extends Error {}

/**
 * Hashes a password for `mqtt.devices[].passwordHash`: argon2id (the library's default
 * algorithm) with its default cost, 19 MiB and 2 passes, OWASP's first recommendation.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

const digest = (value: Buffer | string): Buffer => createHash('sha256').update(value).digest();

/**
 * The broker's credential check. Passwords are stored and compared only as argon2id hashes;
 * nothing is cached, so a stolen heap dump holds no password. Argon2 is slow and takes 19 MiB
 * per check by design, so at most `concurrency` checks run at once and at most `queue` wait:
 * a burst of connection attempts cannot exhaust the gateway's memory.
 */
export class Credentials {
  readonly #devices = new Map<string, MqttDevice>();
  /** Deprecated plain passwords (`mqtt.users`), kept only as sha256 digests for a constant-time compare. */
  readonly #legacy = new Map<string, Buffer>();
  #dummyHash: Promise<string> | null = null;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    config: Pick<MqttConfig, 'devices' | 'users'>,
    private readonly limits = { concurrency: 2, queue: 64 },
  ) {
    for (const device of config.devices) this.#devices.set(device.username, device);
    for (const user of config.users) this.#legacy.set(user.username, digest(user.password));
  }

  /** No credentials configured: the broker runs in demo mode and accepts anyone. */
  get anonymous(): boolean {
    return this.#devices.size === 0 && this.#legacy.size === 0;
  }

  /** The identity for these credentials, or null when they are wrong. */
  async check(username: string, password: Buffer): Promise<MqttIdentity | null> {
    const device = this.#devices.get(username);
    const legacy = this.#legacy.get(username);
    if (device === undefined && legacy !== undefined) {
      const given = digest(password);
      return timingSafeEqual(given, legacy) ? { role: 'legacy', username } : null;
    }
    await this.#acquire();
    try {
      if (device === undefined) {
        // Spend the same time on an unknown user name, so response times do not reveal which names exist.
        this.#dummyHash ??= hash(randomBytes(32));
        await verify(await this.#dummyHash, password);
        return null;
      }
      if (!(await verify(device.passwordHash, password))) return null;
    } finally {
      this.#release();
    }
    switch (device.role) {
      case 'sensor':
        return { role: 'sensor', username, sensorIds: new Set(device.sensorIds), rateLimit: device.rateLimit };
      case 'bridge':
        return { role: 'bridge', username, prefix: device.prefix, rateLimit: device.rateLimit };
      case 'consumer':
        return { role: 'consumer', username, rateLimit: device.rateLimit };
      case 'simulator':
        return { role: 'simulator', username, rateLimit: device.rateLimit };
      default: {
        const exhaustive: never = device;
        throw new Error(`unknown MQTT device role in ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  async #acquire(): Promise<void> {
    if (this.#active < this.limits.concurrency) {
      this.#active++;
      return;
    }
    if (this.#waiting.length >= this.limits.queue) throw new CredentialCheckOverload('too many password checks waiting');
    // The releasing check hands its slot over directly, so #active stays the same.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active--;
  }
}
