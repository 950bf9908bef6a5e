import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints: at 2,000 messages/s about 2 MB of WAL a second. */
const DEFAULT_INTERVAL_MS = 1_000;

/**
 * Moves an SQLite database's WAL checkpoints off the event loop. SQLite's automatic checkpoint runs
 * inside the COMMIT that crosses 1,000 WAL pages, on the caller's thread: several milliseconds of
 * writes and fsyncs (measured: commits of up to 29 ms under load) in the middle of the gateway's
 * alarm path. The caller sets `wal_autocheckpoint = 0` on its own connection; a worker thread with
 * its own connection checkpoints every `intervalMs`. If the worker dies, `failed` is called and the
 * caller should turn automatic checkpoints back on, so the WAL never grows without bound.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  #stopped = false;

  /** `failed`: the worker is gone (the caller turns SQLite's own checkpoints back on). */
  constructor(path: string, failed: (error: Error) => void, intervalMs = DEFAULT_INTERVAL_MS) {
    this.#worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path, intervalMs } });
    // It never holds the process open while it runs; `stop()` holds it until the worker is gone.
    this.#worker.unref();
    this.#worker.on('error', (error) => {
      if (!this.#stopped) failed(error);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#stopped) failed(new Error(`WAL checkpoint worker ended (exit code ${code})`));
    });
  }

  /** Asks the worker to close its connection and end; resolves when it has. */
  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    return new Promise((resolve) => {
      // Referenced again while the worker ends: otherwise, with the broker and the health server
      // already closed, nothing else is left on the event loop and the process exits in the middle
      // of its shutdown, before "gateway stopped" (seen in CI: the watchdog test missed that line).
      this.#worker.ref();
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage('stop');
    });
  }
}
