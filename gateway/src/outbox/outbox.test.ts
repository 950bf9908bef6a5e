import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';

const item = (id: string): OutboxItem => ({
  type: 'cleared',
  cleared: { alarmId: id, siteId: 'demo', clearedAt: '2026-11-25T02:00:00.000Z', eventId: `e-${id}` },
});

describe('outbox', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps items in order across a restart until they are removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    dirs.push(dir);
    const path = join(dir, 'outbox.db');
    const first = new Outbox(path);
    for (const id of ['a', 'b', 'c']) first.enqueue(item(id));
    await first.close();

    const reopened = new Outbox(path);
    const entries = reopened.peek(2);
    expect(entries.map((e) => (e.item.type === 'cleared' ? e.item.cleared.alarmId : ''))).toEqual(['a', 'b']);
    reopened.remove(entries[0]?.seq ?? 0, entries[1]?.seq ?? 0);
    expect(reopened.depth()).toBe(1);
    expect(reopened.peek(10)[0]?.item).toEqual(item('c'));
    await reopened.close();
  });

  it('group commit: appends in one turn of the event loop are one commit; who waits hears after it, not before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    dirs.push(dir);
    const path = join(dir, 'outbox.db');
    const outbox = new Outbox(path);
    const other = new Database(path, { readonly: true }); // another connection sees only what is committed
    const committed = () => (other.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const told: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      outbox.append(item(id));
      outbox.afterCommit((error) => told.push(error ? `error ${id}` : id));
    }
    expect([committed(), told, outbox.depth()]).toEqual([0, [], 3]);
    await new Promise((resolve) => setImmediate(resolve));
    expect([committed(), told]).toEqual([3, ['a', 'b', 'c']]);
    // Nothing open: at once.
    outbox.afterCommit(() => told.push('now'));
    expect(told.at(-1)).toBe('now');
    // peek sends only what is on disk: it commits the open batch first, and tells the waiting ones right after.
    outbox.append(item('d'));
    outbox.afterCommit(() => told.push('d'));
    expect(outbox.peek(10).map((e) => (e.item.type === 'cleared' ? e.item.cleared.alarmId : ''))).toEqual(['a', 'b', 'c', 'd']);
    expect(committed()).toBe(4);
    await Promise.resolve();
    expect(told.at(-1)).toBe('d');
    outbox.remove(1, 2);
    expect([outbox.depth(), committed()]).toEqual([2, 2]);
    // close() commits what is still open.
    outbox.append(item('e'));
    await outbox.close();
    expect(committed()).toBe(3);
    const reopened = new Outbox(path);
    expect(reopened.depth()).toBe(3);
    await reopened.close();
    await other.close();
  });
});
