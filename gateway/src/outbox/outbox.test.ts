import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxItem } from '@nattevakt/protocol/socket-events';
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

  it('keeps items in order across a restart until they are removed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    dirs.push(dir);
    const path = join(dir, 'outbox.db');
    const first = new Outbox(path);
    for (const id of ['a', 'b', 'c']) first.enqueue(item(id));
    first.close();

    const reopened = new Outbox(path);
    const entries = reopened.peek(2);
    expect(entries.map((e) => (e.item.type === 'cleared' ? e.item.cleared.alarmId : ''))).toEqual(['a', 'b']);
    reopened.remove(entries[0]?.seq ?? 0, entries[1]?.seq ?? 0);
    expect(reopened.depth()).toBe(1);
    expect(reopened.peek(10)[0]?.item).toEqual(item('c'));
    reopened.close();
  });
});
