// @vitest-environment happy-dom
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { RoomState } from '@nattevakt/protocol/ward';
import { act, screen, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alarmSound } from '../alarm-sound/player.js';
import type { Me } from '../api/auth.js';
import { PROVISIONAL_UNCONFIRMED_MS, ROOM_BATCH_MS } from '../api/ward-store.js';
import { setLanguage } from '../i18n/index.js';
import { alarm, renderOnWard, room, SITE, TestWard } from '../test-support/ward.js';
import { WardBoard } from './WardBoard.js';

/** How often each room's tile ran its render function, by room id. */
const tileRenders = vi.hoisted(() => new Map<string, number>());

// The real memoised tile with its render function counted; memo's own comparison stays as it is
// (a tile that were not memoised has no `type` to count, and the test fails).
vi.mock('../components/RoomTile.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../components/RoomTile.js')>();
  const memoised = actual.RoomTile as unknown as { type: (props: { room: RoomState }) => ReactNode };
  const counted = (props: { room: RoomState }) => {
    tileRenders.set(props.room.roomId, (tileRenders.get(props.room.roomId) ?? 0) + 1);
    return memoised.type(props);
  };
  return { ...actual, RoomTile: { ...actual.RoomTile, type: counted } };
});

const ME: Me = { username: 'kari', displayName: 'Kari', role: 'nurse', sites: [SITE] };
const ROOMS = 500;
const doorText = (roomId: string) => screen.getByTestId(`door-${roomId}`).textContent;
const renderCount = () => [...tileRenders.values()].reduce((sum, count) => sum + count, 0);

/** A ward of 500 rooms (1,000 sensors), as /api/ward brings it, behind the board. */
function largeWard(): TestWard {
  const ward = new TestWard();
  const rooms = Array.from({ length: ROOMS }, (_, i) => room({ roomId: `r${i}`, roomName: `Rom ${i}` }));
  ward.store.applyWard(
    { site: { id: SITE, name: 'Solsiden', timezone: 'Europe/Oslo' }, gatewayConnected: true, clock: null, rooms, seq: 0 },
    performance.now(),
  );
  return ward;
}

describe('the board on a large ward', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: Date.parse('2026-11-25T02:20:00Z'),
    });
    // Tonight's history at the network edge: nothing closed yet.
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ alarms: [], next: null }), { status: 200 }));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    tileRenders.clear();
  });

  it('shows an alarm at once, ahead of the room updates, which it applies in one batch rendering only the changed tiles', async () => {
    const ward = largeWard();
    renderOnWard(<WardBoard me={ME} onEndShift={() => undefined} />, ward);
    await act(() => Promise.resolve());
    expect(screen.getAllByTestId(/^room-r\d+$/)).toHaveLength(ROOMS);
    expect(renderCount()).toBe(ROOMS);
    tileRenders.clear();
    let storeUpdates = 0;
    ward.store.subscribe(() => storeUpdates++);

    // A busy gateway: 200 room events, four each for rooms r0–r49, the last with the door open.
    act(() => {
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 50; i++) {
          ward.store.applyRoom(
            room({ roomId: `r${i}`, roomName: `Rom ${i}`, door: { open: round === 3, since: '2026-11-25T02:19:00.000Z' } }),
          );
        }
      }
    });
    expect(storeUpdates).toBe(0);

    // The alarm right behind them is on the board at once, while the rooms still wait for their batch.
    act(() => ward.put([alarm({ id: 'door-r7', roomId: 'r7', roomName: 'Rom 7', rule: 'door-open-at-night', priority: 'high' })]));
    expect(screen.getByTestId('alarm-door-r7').dataset.status).toBe('active');
    expect(screen.getByTestId('room-r7').dataset.alarm).toBe('high');
    expect(doorText('r7')).toBe('Dør lukket');
    expect(storeUpdates).toBe(1);
    // Only the tile whose alarm state changed rendered with the alarm.
    expect([...tileRenders]).toEqual([['r7', 1]]);
    tileRenders.clear();

    act(() => vi.advanceTimersByTime(ROOM_BATCH_MS));
    expect(storeUpdates).toBe(2);
    for (let i = 0; i < 50; i++) expect(doorText(`r${i}`)).toBe('Dør åpen');
    expect(doorText('r50')).toBe('Dør lukket');
    // Each changed room's tile once, at its latest state; the 450 unchanged tiles not at all.
    expect(tileRenders.size).toBe(50);
    expect([...tileRenders.values()].every((count) => count === 1)).toBe(true);
    expect(tileRenders.has('r50')).toBe(false);
    tileRenders.clear();

    // The clock's tick renders no tile whose room does not count minutes (nobody is out of bed).
    act(() => vi.advanceTimersByTime(2_000));
    expect(renderCount()).toBe(0);
    expect(screen.getByTestId('alarm-door-r7')).toBeTruthy();
  });

  it('keeps the newer of a pushed room state still waiting for its batch and the ward fetched after it', () => {
    const ward = largeWard();
    renderOnWard(<WardBoard me={ME} onEndShift={() => undefined} />, ward);
    const open = room({ roomId: 'r1', roomName: 'Rom 1', door: { open: true, since: '2026-11-25T02:19:00.000Z' } });
    const pushedAt = performance.now();
    act(() => ward.store.applyRoom(open));
    // A resync that left before the push: the push is newer and stays.
    act(() => ward.store.applyWard(wardWith([room({ roomId: 'r1', roomName: 'Rom 1' })]), pushedAt - 1));
    expect(doorText('r1')).toBe('Dør åpen');
    act(() => vi.advanceTimersByTime(ROOM_BATCH_MS));
    expect(doorText('r1')).toBe('Dør åpen');
    // One that left after it: the ward as fetched wins, and the push does not come back with a later batch.
    act(() => ward.store.applyRoom(open));
    act(() => ward.store.applyWard(wardWith([room({ roomId: 'r1', roomName: 'Rom 1' })]), performance.now() + 1));
    expect(doorText('r1')).toBe('Dør lukket');
    act(() => vi.advanceTimersByTime(ROOM_BATCH_MS));
    expect(doorText('r1')).toBe('Dør lukket');
  });
});

function wardWith(rooms: RoomState[]) {
  return { site: { id: SITE, name: 'Solsiden', timezone: 'Europe/Oslo' }, gatewayConnected: true, clock: null, rooms, seq: 0 };
}

/** happy-dom has no WebAudio: a context that runs once resumed, and counts the pitch of each pulse started. */
const played: number[] = [];
class CountingAudioContext extends EventTarget {
  state: AudioContextState = 'suspended';
  currentTime = 0;
  destination = {};
  async resume() {
    this.state = 'running';
    this.dispatchEvent(new Event('statechange'));
  }
  createGain() {
    return { gain: { setValueAtTime() {}, linearRampToValueAtTime() {} }, connect: (next: unknown) => next };
  }
  createOscillator() {
    const oscillator = {
      type: 'sine',
      frequency: { value: 0 },
      connect: (next: unknown) => next,
      start: () => played.push(oscillator.frequency.value),
      stop() {},
    };
    return oscillator;
  }
}
const HIGH_HZ = 880;

/** What the gateway's rules decided in room r7, as the server passes it on before storing it. */
function decision(overrides: Partial<AlarmDecision> = {}): AlarmDecision {
  return {
    id: 'gw-r7',
    siteId: SITE,
    residentId: 'res-1',
    roomId: 'r7',
    sensorId: 'bed-r7',
    rule: 'bed-exit',
    priority: 'high',
    raisedAt: '2026-11-25T02:19:59.000Z',
    decidedAt: '2026-11-25T02:19:59.001Z',
    evidence: { eventIds: ['e9'], since: '2026-11-25T02:19:29.000Z', setting: { delaySeconds: 30 } },
    ...overrides,
  };
}

describe('a provisional alarm on the board', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: Date.parse('2026-11-25T02:20:00Z'),
    });
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ alarms: [], next: null }), { status: 200 }));
    (window as unknown as { AudioContext: unknown }).AudioContext = CountingAudioContext;
    played.length = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    tileRenders.clear();
  });

  it('shows and sounds at once like any alarm of its priority, without buttons, and becomes the stored alarm in place', async () => {
    const ward = largeWard();
    renderOnWard(<WardBoard me={ME} onEndShift={() => undefined} />, ward);
    await act(async () => {
      await alarmSound.unlock();
    });
    expect(screen.getByTestId('ward-board').dataset.sound).toBe('none');
    tileRenders.clear();

    act(() => ward.store.applyProvisional(decision()));
    const card = screen.getByTestId('alarm-gw-r7');
    expect(card.dataset.source).toBe('provisional');
    expect(card.dataset.priority).toBe('high');
    expect(card.dataset.status).toBe('active');
    expect(card.className).toContain('priority-high');
    expect(within(card).getByRole('heading', { level: 3 }).textContent).toBe('Rom 7 · Astrid Berg');
    expect(screen.getByTestId('provisional-gw-r7').textContent).toBe('Varslet direkte fra gatewayen – lagres nå');
    expect(screen.getByTestId('no-commands-gw-r7').textContent).toBe('Knappene kommer når alarmen er lagret. Gå til beboeren.');
    expect(within(card).queryAllByRole('button')).toEqual([]);
    expect(screen.getByTestId('room-r7').dataset.alarm).toBe('high');
    expect(screen.getByTestId('ward-board').dataset.sound).toBe('high');
    expect(played.length).toBeGreaterThan(0);
    expect(played.every((hz) => hz === HIGH_HZ)).toBe(true);
    // No read receipt: the server has no alarm to keep it for yet.
    expect(ward.displayedIds).toEqual([]);
    expect([...tileRenders]).toEqual([['r7', 1]]);
    tileRenders.clear();

    // The stored alarm, milliseconds later: the same card, now with its buttons and its receipt.
    const before = ward.store.getSnapshot().seq;
    act(() => ward.put([alarm({ id: 'gw-r7', roomId: 'r7', roomName: 'Rom 7', rule: 'bed-exit', priority: 'high' })]));
    expect(ward.store.getSnapshot().seq).toBe(before + 1);
    expect(screen.getAllByTestId('alarm-gw-r7')).toHaveLength(1);
    expect(screen.getByTestId('alarm-gw-r7')).toBe(card);
    expect(card.dataset.source).toBe('server');
    expect(screen.queryByTestId('provisional-gw-r7')).toBeNull();
    expect(screen.getByTestId('ack-gw-r7')).toBeTruthy();
    expect(screen.getByTestId('resolve-gw-r7')).toBeTruthy();
    expect(ward.displayedIds).toEqual(['gw-r7']);
    expect(screen.getByTestId('ward-board').dataset.sound).toBe('high');
    expect(screen.getByTestId('alarm-overlay').querySelectorAll('article')).toHaveLength(1);
    // The tile's alarm state did not change, so it did not render again.
    expect(tileRenders.size).toBe(0);
  });

  it('ignores the provisional alarm when the stored one came first', () => {
    const ward = largeWard();
    renderOnWard(<WardBoard me={ME} onEndShift={() => undefined} />, ward);
    act(() =>
      ward.put([alarm({ id: 'gw-r7', roomId: 'r7', roomName: 'Rom 7', rule: 'bed-exit', status: 'acknowledged', acknowledgedBy: 'Per' })]),
    );
    act(() => ward.store.applyProvisional(decision()));
    expect(screen.getAllByTestId('alarm-gw-r7')).toHaveLength(1);
    expect(screen.getByTestId('alarm-gw-r7').dataset.source).toBe('server');
    expect(screen.getByTestId('alarm-gw-r7').dataset.status).toBe('acknowledged');
  });

  it('says the server has not confirmed it after 30 seconds, and keeps room updates to their own tiles meanwhile', () => {
    const ward = largeWard();
    renderOnWard(<WardBoard me={ME} onEndShift={() => undefined} />, ward);
    act(() => ward.store.applyProvisional(decision()));
    tileRenders.clear();

    // A room elsewhere changes while the provisional alarm is shown: its tile alone renders.
    act(() => ward.store.applyRoom(room({ roomId: 'r3', roomName: 'Rom 3', door: { open: true, since: '2026-11-25T02:20:00.000Z' } })));
    act(() => vi.advanceTimersByTime(ROOM_BATCH_MS));
    expect(doorText('r3')).toBe('Dør åpen');
    expect([...tileRenders]).toEqual([['r3', 1]]);

    act(() => vi.advanceTimersByTime(PROVISIONAL_UNCONFIRMED_MS - ROOM_BATCH_MS - 1));
    expect(screen.getByTestId('provisional-gw-r7').textContent).toBe('Varslet direkte fra gatewayen – lagres nå');
    act(() => vi.advanceTimersByTime(1));
    expect(screen.getByTestId('provisional-gw-r7').textContent).toBe(
      'Ikke bekreftet av serveren – varslet direkte fra gatewayen. Gå til beboeren.',
    );
    expect(screen.getByTestId('alarm-gw-r7').dataset.source).toBe('provisional');
    act(() => setLanguage('en'));
    expect(screen.getByTestId('provisional-gw-r7').textContent).toBe(
      'Not confirmed by the server – sent straight from the gateway. Go to the resident.',
    );
    expect(screen.getByTestId('no-commands-gw-r7').textContent).toBe('Buttons appear once the alarm is stored. Go to the resident.');
  });
});
