import type { Logger } from 'pino';
import type { AuthService } from './auth-service.js';

/** How often sessions past their time are ended (and their live sockets disconnected). */
export const DEFAULT_SESSION_SWEEP_MS = 30_000;

/**
 * Ends sessions whose time is up, every `pollMs`: `AuthService.expireSessions` deletes them and
 * the logout listeners disconnect their live /staff sockets, so a tablet left open does not keep
 * receiving resident data after its session expired. A request with an expired session is
 * refused anyway; this is for connections that were opened before.
 */
export class SessionExpiry {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly auth: AuthService,
    private readonly logger: Logger,
    private readonly pollMs = DEFAULT_SESSION_SWEEP_MS,
  ) {
    if (!(Number.isInteger(pollMs) && pollMs > 0))
      throw new Error(`auth.sessionSweepMs must be a positive whole number of ms, got ${pollMs}`);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.runDue(), this.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One sweep; resolves with how many sessions it ended (0 when it failed, which is logged). */
  runDue(): Promise<number> {
    const run = this.#running.then(() =>
      this.auth.expireSessions().then(
        (ended) => {
          if (ended > 0) this.logger.info({ ended }, 'expired sessions ended');
          return ended;
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'ending expired sessions failed; retrying at the next sweep');
          return 0;
        },
      ),
    );
    this.#running = run;
    return run;
  }
}
