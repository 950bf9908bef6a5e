/**
 * The machine's Redis for the suites that run more than one server instance
 * (`NATTEVAKT_TEST_REDIS_URL`, default redis://127.0.0.1:6379). Each test gets its own key
 * prefix, and its keys are deleted again by `cleanup()`. Without Redis those suites fail when
 * `CI=true`, and otherwise are skipped with a loud warning.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const redisUrl = process.env.NATTEVAKT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<Error | null> {
  const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return error as Error;
  } finally {
    client.disconnect();
  }
}

const unreachable = await redisReachable();
if (unreachable !== null) {
  const message = `Redis is not reachable at ${redisUrl} (${unreachable.message})`;
  if (process.env.CI === 'true') throw new Error(`${message}: the two-instance suites must run in CI`);
  console.warn(`\n*** ${message}: SKIPPING the two-instance suites. ***\n`);
}

/** Whether the suites that need Redis can run. */
export const redisAvailable = unreachable === null;

/** A key prefix no other test (or installation) uses. */
export const freshPrefix = () => `nattevakt-test:${process.pid}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key under `prefix`. */
export async function cleanup(prefix: string): Promise<void> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}
