// @vitest-environment happy-dom
import type { UnprotectedView } from '@nattevakt/protocol/supervision';
import { act, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOM_BATCH_MS } from '../api/ward-store.js';
import { renderOnWard, room, SITE, TestWard } from '../test-support/ward.js';
import { UnprotectedPanel } from './UnprotectedPanel.js';

/** The server's list: one resident whose vedtak is past its evaluation date (the board cannot see that itself). */
const fromServer: UnprotectedView = {
  siteId: SITE,
  generatedAt: '2026-11-25T02:20:00.000Z',
  today: '2026-11-25',
  residentCount: 2,
  armedCount: 2,
  residents: [
    {
      residentId: 'res-1',
      residentName: 'Astrid Berg',
      roomId: 'r0',
      roomName: 'Rom 0',
      armed: true,
      planState: 'active',
      protection: 'weakened',
      reasons: [{ code: 'evaluation-overdue', severity: 'weakened', date: '2026-11-20', days: -5 }],
    },
  ],
};

describe('the unprotected panel on a busy ward', () => {
  let asked: number;
  beforeEach(() => {
    asked = 0;
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: Date.parse('2026-11-25T02:20:00Z'),
    });
    vi.stubGlobal('fetch', async () => {
      asked++;
      return new Response(JSON.stringify(fromServer), { status: 200 });
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks the server for its list at most 10 s after a change, even while rooms change faster than the changes settle', async () => {
    const ward = new TestWard();
    const rooms = [room({ roomId: 'r0', roomName: 'Rom 0' }), room({ roomId: 'r1', roomName: 'Rom 1', resident: null })];
    ward.store.applyWard(
      { site: { id: SITE, name: 'Solsiden', timezone: 'Europe/Oslo' }, gatewayConnected: true, clock: null, rooms, seq: 0 },
      0,
    );
    ward.store.setLink('connected');
    renderOnWard(<UnprotectedPanel />, ward);
    expect(screen.getByTestId('unprotected-panel').dataset.source).toBe('board');

    // A door opening and closing every 300 ms: a room batch every 300 ms, never a settled second.
    for (let tick = 0; tick < 34; tick++) {
      act(() =>
        ward.store.applyRoom(room({ roomId: 'r1', roomName: 'Rom 1', resident: null, door: { open: tick % 2 === 0, since: null } })),
      );
      await act(() => vi.advanceTimersByTimeAsync(300 - ROOM_BATCH_MS));
      await act(() => vi.advanceTimersByTimeAsync(ROOM_BATCH_MS));
    }
    expect(asked).toBe(1);
    const panel = screen.getByTestId('unprotected-panel');
    expect(panel.dataset.source).toBe('server');
    expect(screen.getByTestId('unprotected-res-1').textContent).toContain('Rom 0 · Astrid Berg');
  });
});
