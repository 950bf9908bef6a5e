import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox as SourceOutbox } from './outbox.js';

// The worker runs built JavaScript (`checkpoint-worker.js`): this suite drives the built outbox,
// which `tsc -b` (part of `npm test`) produces before the tests run.
const built = (await import(new URL('../../dist/src/outbox/outbox.js', import.meta.url).href)) as { Outbox: typeof SourceOutbox };

const item = (i: number): OutboxItem => ({
  type: 'event',
  event: {
    id: `e-${i}`,
    siteId: 'demo',
    sensorId: `door-${i % 50}`,
    sensorKind: 'door',
    roomId: 'room-1',
    time: new Date(Date.UTC(2026, 10, 25, 1) + i).toISOString(),
    open: i % 2 === 0,
    online: true,
    format: 'native',
    raw: JSON.stringify({ open: i % 2 === 0, padding: 'x'.repeat(300) }),
  },
});

describe('outbox WAL checkpoints on a worker thread', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed pages into the database off the event loop, and keeps every item', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'outbox.db');
    const outbox = new built.Outbox(path);
    expect(outbox.checkpointsInWorker).toBe(true);
    for (let i = 0; i < 12_000; i++) outbox.append(item(i));
    await new Promise<void>((resolve) => outbox.afterCommit(() => resolve()));
    // The commits themselves checkpoint nothing (wal_autocheckpoint = 0): the pages are in the WAL only.
    const before = statSync(path).size;
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(4_000_000);
    // The worker copies them into the database within a few of its rounds.
    let after = before;
    for (let waited = 0; after < before + 4_000_000 && waited < 10_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      after = statSync(path).size;
    }
    expect(after).toBeGreaterThan(before + 4_000_000);
    expect(outbox.depth()).toBe(12_000);
    await outbox.close();
    const reopened = new built.Outbox(path);
    const entries = reopened.peek(20_000);
    expect(entries).toHaveLength(12_000);
    expect(entries.at(-1)?.item).toEqual(item(11_999));
    await reopened.close();
  });

  it('keeps the process alive until the worker has ended, so a shutdown runs to its end', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-ckpt-'));
    dirs.push(dir);
    // Nothing but the outbox on the event loop, as at the end of the gateway's stop(): the code after
    // `await close()` must still run (an unreferenced worker let the process exit before it).
    const script = [
      `const { Outbox } = await import(${JSON.stringify(new URL('../../dist/src/outbox/outbox.js', import.meta.url).href)});`,
      `const outbox = new Outbox(${JSON.stringify(join(dir, 'outbox.db'))});`,
      'if (!outbox.checkpointsInWorker) throw new Error("no worker");',
      'await outbox.close();',
      'console.log("after close");',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('after close\n');
    expect(child.status).toBe(0);
  });

  it('without the built worker next to it (TypeScript sources), SQLite checkpoints as usual', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-ckpt-'));
    dirs.push(dir);
    const outbox = new SourceOutbox(join(dir, 'outbox.db'));
    expect(outbox.checkpointsInWorker).toBe(false);
    outbox.enqueue(item(1));
    expect(outbox.peek(10)).toHaveLength(1);
    await outbox.close();
  });
});
