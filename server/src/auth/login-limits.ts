import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { RelationalDb } from '../stores/relational/database.js';

/** How long a username's failures are remembered after its last one (the table does not grow without end). */
const FORGET_AFTER_MS = 24 * 60 * 60_000;
/** Stale rows are swept at most this often per instance. */
const SWEEP_EVERY_MS = 60_000;

export interface LockoutOptions {
  /** Attempts that may fail in a row; the attempt that reaches this count locks the username. */
  maxFailures: number;
  lockMs: number;
}

/**
 * The login lock-out counter and the login rate limit, kept in the relational store so every
 * server instance counts the same tries: behind N instances an attacker gets no more than behind
 * one. Each count is one atomic upsert, so concurrent requests on different instances cannot
 * both see the old value.
 */
export class LoginLimits {
  #windowsSweptAt = 0;
  #failuresSweptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: RelationalDb,
    /** The clock of the lock-out (the server's, injectable in tests). */
    private readonly now: () => number,
    private readonly lockout: LockoutOptions,
  ) {}

  /**
   * Counts a login attempt for `username` before its password is checked, and answers whether it
   * may go on. The attempt that reaches `maxFailures` in a row locks the username for `lockMs`
   * (undone by `succeeded` when its password was right); while locked, nothing is counted and the
   * answer is false. Counting first means parallel attempts get no more tries than sequential ones.
   */
  async attempt(username: string): Promise<boolean> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const lockUntil = new Date(now + this.lockout.lockMs).toISOString();
    const max = this.lockout.maxFailures;
    const lockWhenLast = sql<
      string | null
    >`case when login_failures.failures + 1 >= ${max} then ${lockUntil} else login_failures.locked_until end`;
    const counted = await this.db
      .insertInto('login_failures')
      .values({ username, failures: 1, locked_until: max <= 1 ? lockUntil : null, last_failed_at: at })
      .onConflict((oc) =>
        oc
          .column('username')
          .doUpdateSet({
            failures: sql<number>`login_failures.failures + 1`,
            locked_until: lockWhenLast,
            last_failed_at: at,
          })
          .where((eb) => eb.or([eb('login_failures.locked_until', 'is', null), eb('login_failures.locked_until', '<=', at)])),
      )
      .returning('failures')
      .executeTakeFirst();
    await this.#sweepFailures(now);
    return counted !== undefined;
  }

  /** The password was right: the username's count starts again (and a lock its own attempt set is lifted). */
  async succeeded(username: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('username', '=', username).execute();
  }

  /** Whether `username` is locked now (for tests and the admin's view). */
  async locked(username: string): Promise<boolean> {
    const row = await this.db.selectFrom('login_failures').select('locked_until').where('username', '=', username).executeTakeFirst();
    return row?.locked_until != null && row.locked_until > new Date(this.now()).toISOString();
  }

  /**
   * One more hit in `key`'s fixed window of `windowMs` (a new window when the last one ended):
   * the hits counted in the window so far, this one included, and when the window ends. Wall-clock
   * time, as the rate limit protects against real traffic whatever clock the server is given.
   */
  async hit(key: string, windowMs: number): Promise<{ hits: number; resetAt: number }> {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const row = await this.db
      .insertInto('rate_limits')
      .values({ key, hits: 1, reset_at: new Date(now + windowMs).toISOString() })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          hits: sql<number>`case when rate_limits.reset_at <= ${at} then 1 else rate_limits.hits + 1 end`,
          reset_at: sql<string>`case when rate_limits.reset_at <= ${at} then excluded.reset_at else rate_limits.reset_at end`,
        }),
      )
      .returning(['hits', 'reset_at'])
      .executeTakeFirstOrThrow();
    await this.#sweepWindows(now);
    return { hits: Number(row.hits), resetAt: Date.parse(row.reset_at) };
  }

  /**
   * A store for @fastify/rate-limit on this table: fixed windows, shared by every instance. Its
   * keys are the route's method and URL and the plugin's key (the client address). Neither
   * `continueExceeding` nor `exponentialBackoff` is supported (the login route uses neither).
   */
  rateLimitStore(): FastifyRateLimitStoreCtor {
    const limits = this;
    return class DatabaseRateLimitStore implements FastifyRateLimitStore {
      constructor(
        _globalParams?: unknown,
        private readonly scope = '',
      ) {}

      incr(key: string, done: (error: Error | null, answer?: { current: number; ttl: number }) => void, timeWindow: number): void {
        limits.hit(`${this.scope}${key}`, timeWindow).then(
          ({ hits, resetAt }) => done(null, { current: hits, ttl: Math.max(0, resetAt - Date.now()) }),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      }

      child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
        // At run time the plugin passes its merged options, with the route under `routeInfo`.
        const route = (routeOptions as unknown as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
        return new DatabaseRateLimitStore(undefined, `${[route?.method ?? ''].flat().join(',')} ${route?.url ?? ''} `);
      }
    };
  }

  /** Drops the rate-limit windows that ended, at most once a minute (wall clock). */
  async #sweepWindows(now: number): Promise<void> {
    if (now - this.#windowsSweptAt < SWEEP_EVERY_MS) return;
    this.#windowsSweptAt = now;
    await this.db.deleteFrom('rate_limits').where('reset_at', '<=', new Date(now).toISOString()).execute();
  }

  /** Forgets the failures of usernames nobody tried for a day and that are not locked, at most once a minute. */
  async #sweepFailures(now: number): Promise<void> {
    if (Math.abs(now - this.#failuresSweptAt) < SWEEP_EVERY_MS) return;
    this.#failuresSweptAt = now;
    const at = new Date(now).toISOString();
    await this.db
      .deleteFrom('login_failures')
      .where('last_failed_at', '<=', new Date(now - FORGET_AFTER_MS).toISOString())
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', at)]))
      .execute();
  }
}
