/**
 * Component-test support (vitest + Testing Library in happy-dom). The board's components read
 * the ward through `WardContext`; here a real `WardStore` sits behind it, and the nurse's
 * commands are answered the way the server's alarm lifecycle answers them (seq + 1, who and
 * when, refusals), so a card shows what a tablet would after the server's reply. The real
 * socket and server are exercised by the browser tests in e2e/.
 */
import '../i18n/index.js';
import type { AcknowledgeCommand, Alarm, ResolveCommand } from '@nattevakt/protocol/alarm';
import type { RoomState } from '@nattevakt/protocol/ward';
import { cleanup, render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach } from 'vitest';
import type { CommandOutcome } from '../api/ward-connection.js';
import { WardContext, type WardPort } from '../api/ward-context.js';
import { WardStore } from '../api/ward-store.js';
import { setLanguage } from '../i18n/index.js';
import { SiteTimeProvider } from '../time/site-time.js';

afterEach(() => {
  cleanup();
  setLanguage('nb');
});

export const SITE = 'avd-1';
/** The site clock of every test: 03:20 in Oslo (02:20Z in November). */
export const NIGHT = '2026-11-25T02:20:00.000Z';

export function alarm(overrides: Partial<Alarm> = {}): Alarm {
  return {
    id: 'alarm-1',
    siteId: SITE,
    residentId: 'res-1',
    roomId: 'room-101',
    sensorId: 'bed-101',
    rule: 'out-of-bed-too-long',
    priority: 'high',
    raisedAt: '2026-11-25T02:12:00.000Z',
    decidedAt: '2026-11-25T02:12:00.100Z',
    evidence: { eventIds: ['e1'], since: '2026-11-25T01:57:00.000Z', setting: { minutes: 15 } },
    seq: 1,
    status: 'active',
    residentName: 'Astrid Berg',
    roomName: 'Rom 101',
    receivedAt: '2026-11-25T02:12:00.200Z',
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
    ...overrides,
  };
}

export function room(overrides: Partial<RoomState> = {}): RoomState {
  return {
    siteId: SITE,
    roomId: 'room-101',
    roomName: 'Rom 101',
    resident: { id: 'res-1', name: 'Astrid Berg', armed: true },
    bed: { occupied: true, since: '2026-11-24T21:40:00.000Z' },
    door: { open: false, since: '2026-11-24T21:00:00.000Z' },
    sensors: [
      { id: 'bed-101', kind: 'bed', online: true, lastSeen: NIGHT, battery: 90 },
      { id: 'door-101', kind: 'door', online: true, lastSeen: NIGHT, battery: 80 },
    ],
    ...overrides,
  };
}

/**
 * A ward behind the context: a real store, and commands answered as the server's lifecycle
 * does. `online = false` refuses them as the tablet does without a link.
 */
export class TestWard implements WardPort {
  readonly store = new WardStore();
  readonly commands: (AcknowledgeCommand | ResolveCommand)[] = [];
  readonly displayedIds: string[] = [];
  online = true;
  private seq = 0;

  constructor(alarms: readonly Alarm[] = []) {
    this.store.applyWard(
      { site: { id: SITE, name: 'Solsiden', timezone: 'Europe/Oslo' }, gatewayConnected: true, clock: null, rooms: [], seq: 0 },
      performance.now(),
    );
    this.put(alarms);
    this.store.markAlarmsLoaded();
  }

  /** Alarms as the server would push them (each a newer version). */
  put(alarms: readonly Alarm[]): void {
    const versions = alarms.map((a) => ({ ...a, seq: ++this.seq }));
    this.store.applyAlarms(versions, this.seq);
  }

  get(id: string): Alarm | undefined {
    return this.store.getSnapshot().alarms.get(id);
  }

  acknowledge(command: AcknowledgeCommand): Promise<CommandOutcome> {
    this.commands.push(command);
    return this.answer(command.alarmId, (found) => {
      if (found.status === 'resolved') return 'already-resolved';
      if (found.status === 'acknowledged') return `already-acknowledged:${found.acknowledgedBy}`;
      return { ...found, status: 'acknowledged', acknowledgedBy: command.by, acknowledgedAt: NIGHT, nextEscalationAt: null };
    });
  }

  resolve(command: ResolveCommand): Promise<CommandOutcome> {
    this.commands.push(command);
    return this.answer(command.alarmId, (found) => {
      if (found.status === 'resolved') return 'already-resolved';
      if (command.outcome === 'other' && !command.note) return 'note-required';
      return {
        ...found,
        status: 'resolved',
        resolvedBy: command.by,
        resolvedAt: NIGHT,
        outcome: command.outcome,
        note: command.note ?? null,
        nextEscalationAt: null,
      };
    });
  }

  /** Passed around unbound, as the real connection's is. */
  readonly displayed = (alarmId: string): void => {
    this.displayedIds.push(alarmId);
  };

  private async answer(id: string, transition: (found: Alarm) => Alarm | string): Promise<CommandOutcome> {
    await Promise.resolve();
    if (!this.online) return { ok: false, failure: 'offline', error: 'not connected' };
    const found = this.get(id);
    if (!found) return { ok: false, failure: 'rejected', error: 'not-found' };
    const next = transition(found);
    if (typeof next === 'string') return { ok: false, failure: 'rejected', error: next };
    this.put([next]);
    return { ok: true, alarm: this.get(id) as Alarm };
  }
}

/** Renders `ui` on the ward `ward`, with the site clock at `NIGHT` in Europe/Oslo. */
export function renderOnWard(ui: ReactNode, ward: WardPort = new TestWard(), time: { at?: string; timeZone?: string } = {}) {
  const clock = {
    clock: { siteId: SITE, time: time.at ?? NIGHT, simulated: false, speed: 0 },
    receivedAt: performance.now(),
  };
  return render(
    <WardContext value={ward}>
      <SiteTimeProvider clock={clock} timeZone={time.timeZone ?? 'Europe/Oslo'}>
        {ui}
      </SiteTimeProvider>
    </WardContext>,
  );
}
