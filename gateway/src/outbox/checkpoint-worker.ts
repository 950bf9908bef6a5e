/**
 * The outbox's WAL checkpoints, on a thread of their own (see `WalCheckpointer`): its own connection
 * to the same file copies committed pages from the WAL into the database (PASSIVE: it never waits
 * for, and never blocks, the gateway's writer), so the event loop never stops for a checkpoint's
 * writes and fsyncs. Told `stop`, it closes its connection and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 100');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A busy database now is not a failure: the next round tries again.
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
