import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../event-bus.js';
import { LocalAlarmBoard, type LocalAlarmChange, type OpenAlarmsSnapshot, SNAPSHOT_INTERVAL_MS } from './local-alarm-board.js';

const logger = pino({ level: 'silent' });

const decision = (id: string, minute: number): AlarmDecision => ({
  id,
  siteId: 'demo',
  residentId: 'anna',
  roomId: 'r101',
  sensorId: 'door-1',
  rule: 'door-open-at-night',
  priority: 'high',
  raisedAt: new Date(Date.UTC(2026, 10, 25, 2, minute)).toISOString(),
  decidedAt: new Date(Date.UTC(2026, 10, 25, 2, minute)).toISOString(),
  evidence: { eventIds: [`e-${id}`], since: new Date(Date.UTC(2026, 10, 25, 2, minute)).toISOString() },
});

/** The server's view of an alarm, as the uplink passes it on (`alarmUpdated`). */
const update = (alarm: AlarmDecision, change: Pick<Alarm, 'status'> & Partial<Pick<Alarm, 'acknowledgedBy'>>): Alarm => ({
  ...alarm,
  seq: 1,
  residentName: 'Anna',
  roomName: 'Rom 101',
  receivedAt: alarm.raisedAt,
  conditionClearedAt: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  outcome: null,
  note: null,
  escalationLevel: 0,
  escalatedAt: null,
  nextEscalationAt: null,
  explanation: null,
  ...change,
});

describe('LocalAlarmBoard', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function board(dir?: string, snapshotIntervalMs = 50) {
    const where = dir ?? mkdtempSync(join(tmpdir(), 'local-alarms-'));
    if (dir === undefined) cleanups.push(() => rmSync(where, { recursive: true, force: true }));
    const bus = new EventBus();
    const path = join(where, 'state', 'open-alarms.json');
    const b = new LocalAlarmBoard(path, bus, logger, snapshotIntervalMs);
    const changes: LocalAlarmChange[] = [];
    const snapshots: OpenAlarmsSnapshot[] = [];
    b.onChange((c) => changes.push(c));
    b.onSnapshot((s) => snapshots.push(s));
    b.start();
    cleanups.push(() => b.stop());
    return { board: b, bus, dir: where, path, changes, snapshots };
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 120));

  it('follows raise, acknowledge, condition cleared and resolve; one change each, in order', async () => {
    const { board: b, bus, changes, snapshots } = board();
    const a = decision('a1', 10);
    bus.emit('alarmRaised', a);
    bus.emit('alarmUpdated', update(a, { status: 'acknowledged', acknowledgedBy: 'Kari' }));
    bus.emit('conditionCleared', { alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T02:20:00.000Z', eventId: 'e9' });
    expect(b.open()).toEqual([{ ...a, status: 'acknowledged', acknowledgedBy: 'Kari', conditionClearedAt: '2026-11-25T02:20:00.000Z' }]);
    bus.emit('alarmUpdated', update(a, { status: 'resolved' }));
    bus.emit('alarmUpdated', update(decision('unknown', 1), { status: 'acknowledged' })); // not ours: ignored
    expect(changes.map((c) => [c.id, c.status])).toEqual([
      ['a1', 'active'],
      ['a1', 'acknowledged'],
      ['a1', 'acknowledged'],
      ['a1', 'resolved'],
    ]);
    expect(b.open()).toEqual([]);
    await settle();
    expect(snapshots.at(-1)).toEqual({ open: [], json: '[]' });
  });

  it("takes the server's echo of what it already shows as no change: no journal line, nobody told", () => {
    const { bus, changes, path } = board();
    const a = decision('a1', 10);
    bus.emit('alarmRaised', a);
    bus.emit('conditionCleared', { alarmId: 'a1', siteId: 'demo', clearedAt: '2026-11-25T02:20:00.000Z', eventId: 'e9' });
    const journal = () => readFileSync(`${path}.journal`, 'utf8').split('\n').filter(Boolean).length;
    const lines = journal();
    // The stored alarm, then its clearing, as the server tells them back.
    bus.emit('alarmUpdated', update(a, { status: 'active' }));
    bus.emit('alarmUpdated', { ...update(a, { status: 'active' }), conditionClearedAt: '2026-11-25T02:20:00.000Z' });
    expect(changes.map((c) => [c.id, c.status])).toEqual([
      ['a1', 'active'],
      ['a1', 'active'],
    ]);
    expect(journal()).toBe(lines);
    // A real change still goes.
    bus.emit('alarmUpdated', {
      ...update(a, { status: 'acknowledged', acknowledgedBy: 'Kari' }),
      conditionClearedAt: '2026-11-25T02:20:00.000Z',
    });
    expect(changes.map((c) => c.status)).toEqual(['active', 'active', 'acknowledged']);
    expect(journal()).toBe(lines + 1);
  });

  it('a burst of changes is one snapshot of the whole list, oldest first, whatever order they came in', async () => {
    const { board: b, bus, snapshots } = board();
    const minutes = Array.from({ length: 300 }, (_, i) => (i * 37) % 300); // raisedAt out of order, with repeats of none
    for (const [i, minute] of minutes.entries()) bus.emit('alarmRaised', decision(`a${i}`, minute));
    bus.emit('alarmRaised', { ...decision('tie', 5) }); // same instant as a0..: after them
    for (let i = 0; i < 300; i += 3) bus.emit('alarmUpdated', update(decision(`a${i}`, 0), { status: 'resolved' }));
    await settle();
    expect(snapshots.length).toBeLessThanOrEqual(2);
    const last = snapshots.at(-1);
    const open = b.open();
    expect(open).toHaveLength(201);
    expect(last?.open).toEqual(open);
    expect(JSON.parse(last?.json ?? '')).toEqual(open);
    const raisedAt = open.map((a) => a.raisedAt);
    expect(raisedAt).toEqual([...raisedAt].sort());
    const atFive = open.filter((a) => a.raisedAt === decision('x', 5).raisedAt).map((a) => a.id);
    expect(atFive.at(-1)).toBe('tie');
  });

  it('survives a restart, also one without stop() (a killed gateway), from the snapshot file and its journal', () => {
    const first = board();
    const a = decision('a1', 10);
    const b2 = decision('a2', 11);
    first.bus.emit('alarmRaised', a);
    first.bus.emit('alarmRaised', b2);
    first.bus.emit('alarmUpdated', update(a, { status: 'acknowledged', acknowledgedBy: 'Kari' }));
    first.bus.emit('alarmUpdated', update(b2, { status: 'resolved' }));
    first.bus.emit('alarmRaised', decision('a3', 9));
    const expected = first.board.open();
    // No stop(): the journal holds every change already.
    const second = board(first.dir);
    expect(second.board.open()).toEqual(expected);
    expect(second.board.open().map((x) => x.id)).toEqual(['a3', 'a1']);
    // Starting folds the journal into the snapshot file.
    expect(JSON.parse(readFileSync(second.path, 'utf8'))).toEqual(expected);
    expect(readFileSync(`${second.path}.journal`, 'utf8')).toBe('');
  });

  it('reads the single-file list older gateways wrote, and skips a torn journal line (power cut)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-alarms-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = board(dir);
    first.board.stop();
    const old = { ...decision('old', 3), status: 'active', acknowledgedBy: null, conditionClearedAt: null };
    writeFileSync(first.path, JSON.stringify([old]));
    rmSync(`${first.path}.journal`);
    expect(board(dir).board.open()).toEqual([old]);
    const torn = { ...decision('torn', 4), status: 'active', acknowledgedBy: null, conditionClearedAt: null };
    appendFileSync(`${first.path}.journal`, `${JSON.stringify({ set: torn }).slice(0, 40)}`);
    expect(board(dir).board.open()).toEqual([old]);
  });

  it('folds the journal into the snapshot file as it grows, so the files stay the size of the list', () => {
    const { board: b, bus, path } = board();
    for (let i = 0; i < 2500; i++) {
      const alarm = decision(`a${i}`, i % 60);
      bus.emit('alarmRaised', alarm);
      bus.emit('alarmUpdated', update(alarm, { status: 'resolved' }));
    }
    bus.emit('alarmRaised', decision('last', 1));
    expect(b.open().map((a) => a.id)).toEqual(['last']);
    expect(statSync(`${path}.journal`).size).toBeLessThan(1000 * 1000);
    expect(existsSync(path)).toBe(true);
    const again = board(join(path, '..', '..'));
    expect(again.board.open().map((a) => a.id)).toEqual(['last']);
  });

  it('stop() sends a pending snapshot at once, so the retained list is current when the broker closes', () => {
    const { board: b, bus, snapshots } = board();
    bus.emit('alarmRaised', decision('a1', 1));
    expect(snapshots).toEqual([]);
    b.stop();
    expect(snapshots.map((s) => s.open.map((a) => a.id))).toEqual([['a1']]);
  });

  it('sends the whole list at most once a second by default: the first change at once, the rest caught up a second later', async () => {
    const { bus, changes, snapshots } = board(undefined, SNAPSHOT_INTERVAL_MS);
    expect(SNAPSHOT_INTERVAL_MS).toBe(1000);
    const started = Date.now();
    bus.emit('alarmRaised', decision('a1', 1));
    await settle();
    expect(snapshots.map((s) => s.open.length)).toEqual([1]);
    for (let i = 2; i <= 20; i++) bus.emit('alarmRaised', decision(`a${i}`, i));
    // Every change went out at once on its own; the list waits.
    expect(changes).toHaveLength(20);
    await settle();
    expect(snapshots).toHaveLength(1);
    for (let waited = 0; snapshots.length < 2 && waited < 3_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(snapshots.map((s) => s.open.length)).toEqual([1, 20]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});
