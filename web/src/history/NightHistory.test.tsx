// @vitest-environment happy-dom
import type { Alarm } from '@nattevakt/protocol/alarm';
import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NightHistory } from '../components/NightHistory.js';
import { alarm, renderOnWard, SITE } from '../test-support/ward.js';
import { nightStartOf } from '../time/night.js';
import { mergeHistory, useNightHistory } from './night-history.js';

const closed = (id: string, resolvedAt: string, overrides: Partial<Alarm> = {}) =>
  alarm({
    id,
    status: 'resolved',
    resolvedAt,
    resolvedBy: 'Kari',
    outcome: 'assisted',
    acknowledgedAt: '2026-11-25T01:03:00.200Z',
    receivedAt: '2026-11-25T01:00:00.200Z',
    raisedAt: '2026-11-25T01:00:00.000Z',
    ...overrides,
  });

describe("tonight's start (noon to noon in the site's zone)", () => {
  it('is the last local noon, also across a change of daylight saving time and far from Oslo', () => {
    // 03:20 in Oslo on 25 November (UTC+1): the night began at 12:00 local on the 24th.
    expect(new Date(nightStartOf(Date.parse('2026-11-25T02:20:00Z'), 'Europe/Oslo')).toISOString()).toBe('2026-11-24T11:00:00.000Z');
    // 13:00 local: the night of the same day has begun.
    expect(new Date(nightStartOf(Date.parse('2026-11-25T12:00:00Z'), 'Europe/Oslo')).toISOString()).toBe('2026-11-25T11:00:00.000Z');
    // The night the clocks go back (24–25 October 2026, at 03:00 local): it began at noon summer time.
    expect(new Date(nightStartOf(Date.parse('2026-10-25T03:00:00Z'), 'Europe/Oslo')).toISOString()).toBe('2026-10-24T10:00:00.000Z');
    expect(new Date(nightStartOf(Date.parse('2026-10-25T12:00:00Z'), 'Europe/Oslo')).toISOString()).toBe('2026-10-25T11:00:00.000Z');
    expect(new Date(nightStartOf(Date.parse('2026-11-25T02:20:00Z'), 'America/New_York')).toISOString()).toBe('2026-11-24T17:00:00.000Z');
  });
});

function Board({ seenHere }: { seenHere: Alarm[] }) {
  const history = useNightHistory(SITE, 'Europe/Oslo', 0);
  const alarms = mergeHistory(history.alarms, seenHere, history.since);
  return <NightHistory alarms={alarms} loading={history.alarms === null} failed={history.failed} complete={history.complete} />;
}

describe("the board's night history", () => {
  let requests: URL[];
  beforeEach(() => {
    requests = [];
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-25T02:20:00Z') });
    // The server's alarm history at the network edge: two pages, the second after `next`.
    vi.stubGlobal('fetch', async (path: string) => {
      const url = new URL(path, 'http://board.test');
      requests.push(url);
      const page = url.searchParams.get('cursor')
        ? {
            alarms: [
              closed('early', '2026-11-24T22:10:00Z', {
                raisedAt: '2026-11-24T21:58:00Z',
                receivedAt: '2026-11-24T21:58:00.100Z',
                acknowledgedAt: '2026-11-24T22:01:00.100Z',
              }),
            ],
            next: null,
          }
        : { alarms: [closed('late', '2026-11-25T01:30:00Z'), closed('mid', '2026-11-25T00:30:00Z', { seq: 3 })], next: 'page-2' };
      return new Response(JSON.stringify(page), { status: 200, headers: { 'content-type': 'application/json' } });
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("lists every alarm closed tonight from the server's history, with what this tablet saw close since, newest first", async () => {
    const seenHere = [
      // A newer version of one the server listed, and one that closed after the history was fetched.
      closed('mid', '2026-11-25T00:30:00Z', { seq: 9, note: 'Fulgt til toalettet' }),
      closed('now', '2026-11-25T02:15:00Z', { roomName: 'Rom 104', residentName: 'Signe Dahl', outcome: 'false-alarm' }),
      // Closed last night: not tonight's.
      closed('yesterday', '2026-11-24T02:00:00Z', { receivedAt: '2026-11-24T01:00:00Z' }),
    ];
    renderOnWard(<Board seenHere={seenHere} />);
    await waitFor(() => expect(screen.getByTestId('night-history').dataset.state).toBe('ready'));
    expect(within(screen.getByTestId('night-history')).getByText('Nattens alarmer (4)')).toBeTruthy();
    const items = within(screen.getByTestId('night-history')).getAllByRole('listitem');
    expect(items.map((item) => item.dataset.testid)).toEqual(['history-now', 'history-late', 'history-mid', 'history-early']);
    expect(items[0]?.textContent).toContain('Rom 104 · Signe Dahl');
    expect(items[0]?.textContent).toContain('Falsk alarm · Kari · kl. 03:15');
    expect(items[2]?.textContent).toContain('Fulgt til toalettet');
    expect(items[3]?.textContent).toBe(
      '22:58 Rom 101 · Astrid Berg — Lenge ute av sengen Hjalp beboeren · Kari · kl. 23:10 · svar etter 3 min',
    );

    const [first, second] = requests;
    expect(first?.pathname).toBe('/api/alarms');
    expect(first?.searchParams.get('site')).toBe(SITE);
    expect(first?.searchParams.get('status')).toBe('resolved');
    // Since noon on the 24th in Oslo, whatever zone this machine is in.
    expect(first?.searchParams.get('from')).toBe('2026-11-24T11:00:00.000Z');
    expect(second?.searchParams.get('cursor')).toBe('page-2');
    expect(requests).toHaveLength(2);
  });
});
