import type { RelationalDb } from './database.js';

export type Transaction = Parameters<Parameters<ReturnType<RelationalDb['transaction']>['execute']>[0]>[0];

interface Job {
  work: (trx: Transaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface CommitGroupOptions {
  /** Runs first in every transaction the group opens (e.g. a lock every piece of work would take anyway, taken once and first). */
  begin?: (trx: Transaction) => Promise<void>;
  /** Told the number of pieces of work of each transaction that committed. */
  committed?: (size: number) => void;
}

/**
 * Group commit: every piece of work handed in during one turn of the event loop runs in one
 * transaction, one after the other in the order handed in, and each caller gets its own result
 * once that transaction has committed. One commit (on SQLite one fsync on the event loop) for
 * whatever arrived together instead of one each: under load many arrive together (a gateway's
 * batch, nurses resolving), alone one waits only until the turn ends (setImmediate).
 *
 * Isolation is kept: if the shared transaction fails (one piece threw, or the commit did), it is
 * rolled back whole and every piece runs again in a transaction of its own, so a failure is only
 * ever its own caller's. The work must therefore do nothing but through `trx` (it may run twice,
 * the first time rolled back).
 */
export class CommitGroup {
  #pending: Job[] = [];
  #scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly db: RelationalDb,
    private readonly options: CommitGroupOptions = {},
  ) {}

  run<R>(work: (trx: Transaction) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#scheduled ??= setImmediate(() => {
        this.#scheduled = null;
        const jobs = this.#pending;
        this.#pending = [];
        void this.#flush(jobs);
      });
    });
  }

  async #flush(jobs: Job[]): Promise<void> {
    if (jobs.length > 1) {
      let results: unknown[] | undefined;
      try {
        results = await this.#transaction(async (trx) => {
          const out: unknown[] = [];
          for (const job of jobs) out.push(await job.work(trx));
          return out;
        });
      } catch {
        // Rolled back whole: each alone below, so only the piece that fails fails.
      }
      if (results !== undefined) {
        this.options.committed?.(jobs.length);
        for (const [i, job] of jobs.entries()) job.resolve(results[i]);
        return;
      }
    }
    for (const job of jobs) {
      try {
        const result = await this.#transaction(job.work);
        this.options.committed?.(1);
        job.resolve(result);
      } catch (error) {
        job.reject(error);
      }
    }
  }

  #transaction<R>(work: (trx: Transaction) => Promise<R>): Promise<R> {
    const begin = this.options.begin;
    return this.db.transaction().execute(async (trx) => {
      if (begin) await begin(trx);
      return work(trx);
    });
  }
}
