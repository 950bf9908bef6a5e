// @vitest-environment happy-dom
// Named .tsx: vitest.config.ts takes the web app's tests as web/src/**/*.test.tsx.
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alarm, room, SITE } from '../test-support/ward.js';
import {
  fromGatewayOnly,
  isProvisional,
  knownAlarms,
  MAX_PROVISIONAL,
  PROVISIONAL_TTL_MS,
  provisionalSince,
  WardStore,
} from './ward-store.js';

const NOW = Date.parse('2026-11-25T02:20:00Z');

function decision(overrides: Partial<AlarmDecision> = {}): AlarmDecision {
  return {
    id: 'gw-1',
    siteId: SITE,
    residentId: 'res-1',
    roomId: 'room-101',
    sensorId: 'bed-101',
    rule: 'bed-exit',
    priority: 'high',
    raisedAt: '2026-11-25T02:19:59.000Z',
    decidedAt: '2026-11-25T02:19:59.001Z',
    evidence: { eventIds: ['e9'], since: '2026-11-25T02:19:29.000Z', setting: { delaySeconds: 30 } },
    ...overrides,
  };
}

/** A store as after the first resync: the ward's rooms, the open alarms (none) loaded up to seq 4. */
function loadedStore(): { store: WardStore; updates: () => number } {
  const store = new WardStore();
  store.applyWard(
    {
      site: { id: SITE, name: 'Solsiden', timezone: 'Europe/Oslo' },
      gatewayConnected: true,
      clock: null,
      rooms: [room(), room({ roomId: 'room-102', roomName: 'Rom 102', resident: { id: 'res-2', name: 'Olav Lie', armed: true } })],
      seq: 4,
    },
    performance.now(),
  );
  store.applyAlarms([], 4, true);
  store.markAlarmsLoaded();
  let updates = 0;
  store.subscribe(() => updates++);
  return { store, updates: () => updates };
}

const shown = (store: WardStore) => knownAlarms(store.getSnapshot());

describe('provisional alarms in the ward store', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows a decision at once as an active alarm named from the ward, told apart from the feed, without touching seq', () => {
    const { store, updates } = loadedStore();
    store.applyProvisional(decision());
    expect(updates()).toBe(1);
    const snapshot = store.getSnapshot();
    expect(snapshot.seq).toBe(4);
    expect(snapshot.alarms.size).toBe(0);
    expect([...snapshot.provisional.keys()]).toEqual(['gw-1']);

    expect(shown(store)).toHaveLength(1);
    const only = shown(store)[0] as Alarm;
    expect(only).toMatchObject({
      id: 'gw-1',
      seq: 0,
      status: 'active',
      priority: 'high',
      explanation: null,
      roomName: 'Rom 101',
      residentName: 'Astrid Berg',
      acknowledgedBy: null,
    });
    expect(isProvisional(only)).toBe(true);
    expect(fromGatewayOnly(only)).toBe(false);
    expect(provisionalSince(only)).toBe(NOW);
    // The same object while nothing it is made of changed: a memoised card does not render again.
    expect(shown(store)[0]).toBe(only);

    // A feed alarm of the same shape (seq 0) is the gateway-only kind, not a provisional one.
    store.applyFallbackAlarms([{ ...decision({ id: 'feed-1' }), status: 'active', acknowledgedBy: null, conditionClearedAt: null }]);
    const feed = shown(store).find((a) => a.id === 'feed-1') as Alarm;
    expect(fromGatewayOnly(feed)).toBe(true);
    expect(isProvisional(feed)).toBe(false);
    expect(provisionalSince(feed)).toBeNull();
  });

  it('replaces it by the stored alarm of the same id in one update, from the socket or from a resync', () => {
    const { store, updates } = loadedStore();
    store.applyProvisional(decision({ id: 'a' }));
    store.applyProvisional(decision({ id: 'b', roomId: 'room-102', residentId: 'res-2' }));
    expect(updates()).toBe(2);

    // The socket's `alarm`, following on: seq moves with it, the provisional card goes in the same update.
    store.applyAlarms([alarm({ id: 'a', seq: 5 })], 5);
    expect(updates()).toBe(3);
    expect(store.getSnapshot().seq).toBe(5);
    expect([...store.getSnapshot().provisional.keys()]).toEqual(['b']);
    const byId = new Map(shown(store).map((a) => [a.id, a]));
    expect(shown(store)).toHaveLength(2);
    expect(byId.get('a')?.seq).toBe(5);
    expect(isProvisional(byId.get('a') as Alarm)).toBe(false);
    expect(isProvisional(byId.get('b') as Alarm)).toBe(true);
    expect(byId.get('b')?.roomName).toBe('Rom 102');

    // A REST resync of the open alarms brings b.
    store.applyAlarms([alarm({ id: 'a', seq: 5 }), alarm({ id: 'b', seq: 6, roomId: 'room-102' })], 6, true);
    expect(updates()).toBe(4);
    expect(store.getSnapshot().provisional.size).toBe(0);
    expect(shown(store).map((a) => [a.id, a.seq])).toEqual([
      ['a', 5],
      ['b', 6],
    ]);
  });

  it('leaves an open-alarm resync that does not list it alone: the alarm may not be stored yet', () => {
    const { store } = loadedStore();
    store.applyProvisional(decision());
    store.applyAlarms([], 4, true);
    expect([...store.getSnapshot().provisional.keys()]).toEqual(['gw-1']);
  });

  it('ignores a decision whose stored alarm came first, and one it already shows', () => {
    const { store, updates } = loadedStore();
    store.applyAlarms([alarm({ id: 'gw-1', seq: 5, status: 'acknowledged', acknowledgedBy: 'Kari' })], 5);
    expect(updates()).toBe(1);
    store.applyProvisional(decision());
    expect(updates()).toBe(1);
    expect(store.getSnapshot().provisional.size).toBe(0);
    expect(shown(store)).toHaveLength(1);
    expect(shown(store)[0]).toMatchObject({ status: 'acknowledged', seq: 5 });

    store.applyProvisional(decision({ id: 'gw-2' }));
    const first = store.getSnapshot().provisional.get('gw-2');
    vi.advanceTimersByTime(1000);
    store.applyProvisional(decision({ id: 'gw-2' }));
    expect(updates()).toBe(2);
    expect(store.getSnapshot().provisional.get('gw-2')).toBe(first);
  });

  it("ignores another site's decision once the site is known", () => {
    const { store, updates } = loadedStore();
    store.applyProvisional(decision({ siteId: 'avd-2' }));
    expect(updates()).toBe(0);
    expect(shown(store)).toEqual([]);
  });

  it('drops one never confirmed after ten minutes, by itself', () => {
    const { store } = loadedStore();
    store.applyProvisional(decision({ id: 'lost' }));
    vi.advanceTimersByTime(4 * 60 * 1000);
    store.applyProvisional(decision({ id: 'later' }));
    vi.advanceTimersByTime(PROVISIONAL_TTL_MS - 4 * 60 * 1000 - 1);
    expect([...store.getSnapshot().provisional.keys()]).toEqual(['lost', 'later']);
    vi.advanceTimersByTime(1);
    expect([...store.getSnapshot().provisional.keys()]).toEqual(['later']);
    expect(shown(store).map((a) => a.id)).toEqual(['later']);
    vi.advanceTimersByTime(4 * 60 * 1000);
    expect(store.getSnapshot().provisional.size).toBe(0);
    expect(shown(store)).toEqual([]);
    expect(store.getSnapshot().seq).toBe(4);
  });

  it(`keeps at most ${MAX_PROVISIONAL}, dropping the oldest`, () => {
    const { store } = loadedStore();
    for (let i = 0; i < MAX_PROVISIONAL + 20; i++) {
      store.applyProvisional(decision({ id: `flood-${i}` }));
      vi.advanceTimersByTime(1);
    }
    const kept = [...store.getSnapshot().provisional.keys()];
    expect(kept).toHaveLength(MAX_PROVISIONAL);
    expect(kept[0]).toBe('flood-20');
    expect(kept.at(-1)).toBe(`flood-${MAX_PROVISIONAL + 19}`);
    expect(store.getSnapshot().seq).toBe(4);
  });
});
