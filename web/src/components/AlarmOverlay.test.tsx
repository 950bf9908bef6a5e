// @vitest-environment happy-dom
/// <reference types="node" />
import { readFileSync } from 'node:fs';
import type { Alarm } from '@nattevakt/protocol/alarm';
import { act, fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { alarmsOfSite, openAlarmsInOrder } from '../alarms/order.js';
import { useWard } from '../api/ward-context.js';
import { knownAlarms } from '../api/ward-store.js';
import { setLanguage } from '../i18n/index.js';
import { alarm, renderOnWard, SITE, TestWard } from '../test-support/ward.js';
import { AlarmOverlay } from './AlarmOverlay.js';

/** The overlay as the board feeds it: the open alarms of the site, most urgent first, from the store. */
function Overlay({ nurse = 'Kari' }: { nurse?: string }) {
  const ward = useWard();
  return <AlarmOverlay alarms={openAlarmsInOrder(alarmsOfSite(knownAlarms(ward), SITE))} nurse={nurse} />;
}

// Vitest hands CSS imports over empty, so the night theme is read as the browser gets it.
const themeCss = readFileSync(`${import.meta.dirname}/../styles/theme.css`, 'utf8');
const card = (id: string) => screen.getByTestId(`alarm-${id}`);
const settle = () => act(() => Promise.resolve());

describe('the alarm overlay', () => {
  it('shows every open alarm most urgent first, each in its priority colour, and nothing once none is open', () => {
    const style = document.createElement('style');
    style.textContent = themeCss;
    document.head.append(style);
    const ward = new TestWard([
      alarm({ id: 'low', priority: 'low', rule: 'not-in-bed-by', evidence: { eventIds: [], since: '2026-11-25T01:00:00Z' } }),
      alarm({ id: 'tech', priority: 'technical', rule: 'sensor-offline', evidence: { eventIds: [], since: '2026-11-25T01:00:00Z' } }),
      alarm({ id: 'high', priority: 'high' }),
      alarm({ id: 'medium', priority: 'medium', rule: 'door-left-open' }),
    ]);
    renderOnWard(<Overlay />, ward);
    const order = within(screen.getByTestId('alarm-overlay'))
      .getAllByRole('article')
      .map((element) => element.dataset.priority);
    expect(order).toEqual(['high', 'medium', 'low', 'technical']);
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('4 åpne alarmer · 4 uten svar');

    const background = (id: string) => getComputedStyle(card(id)).backgroundColor.replace(/\s/g, '');
    // Saturated IEC 60601-1-8 colours: red, yellow, cyan; technical alarms apart (dark, purple border).
    expect(background('high')).toMatch(/^(#e00000|rgb\(224,0,0\))$/i);
    expect(background('medium')).toMatch(/^(#ffd400|rgb\(255,212,0\))$/i);
    expect(background('low')).toMatch(/^(#00e5ff|rgb\(0,229,255\))$/i);
    expect(background('tech')).not.toMatch(/^(#e00000|#ffd400|#00e5ff|rgb\(224,0,0\)|rgb\(255,212,0\)|rgb\(0,229,255\))$/i);
    expect(within(card('high')).getByText(/Høy prioritet/)).toBeTruthy();
    expect(within(card('tech')).getByText(/Teknisk/)).toBeTruthy();
    style.remove();

    act(() => {
      for (const id of ['low', 'tech', 'high', 'medium'])
        ward.put([{ ...(ward.get(id) as Alarm), status: 'resolved', outcome: 'false-alarm' }]);
    });
    expect(screen.queryByTestId('alarm-overlay')).toBeNull();
  });

  it("explains the alarm in words: from its evidence on the site's clock, or the server's words in the chosen language", () => {
    const ward = new TestWard([
      alarm({ id: 'a' }),
      alarm({
        id: 'b',
        roomId: 'room-102',
        roomName: 'Rom 102',
        residentName: 'Olav Lie',
        rule: 'door-open-at-night',
        priority: 'medium',
        explanation: {
          nb: { title: 'Dør åpnet om natten', detail: 'Døren til Rom 102 ble åpnet kl. 03:05, i nattevinduet 22:00–07:00.' },
          en: { title: 'Door opened at night', detail: 'The door of Rom 102 opened at 03:05, inside the night window 22:00–07:00.' },
        },
      }),
    ]);
    renderOnWard(<Overlay />, ward);
    // 01:57Z is 02:57 in Oslo in November, whatever zone the test machine runs in.
    expect(screen.getByTestId('explanation-a').textContent).toBe('Astrid Berg har vært ute av sengen siden kl. 02:57, over 15 minutter.');
    expect(within(card('a')).getByText('Kl. 03:12 · 8 min siden')).toBeTruthy();
    expect(screen.getByTestId('explanation-b').textContent).toBe('Døren til Rom 102 ble åpnet kl. 03:05, i nattevinduet 22:00–07:00.');
    act(() => setLanguage('en'));
    expect(screen.getByTestId('explanation-b').textContent).toBe(
      'The door of Rom 102 opened at 03:05, inside the night window 22:00–07:00.',
    );
    expect(within(card('b')).getByRole('heading', { level: 3 }).textContent).toBe('Rom 102 · Olav Lie');
  });

  it('"Jeg går" tells the server who goes, and every tablet then shows who is going', async () => {
    const ward = new TestWard([alarm({ id: 'a' }), alarm({ id: 'b', roomId: 'room-102', acknowledgedBy: null })]);
    renderOnWard(<Overlay nurse="Kari" />, ward);
    fireEvent.click(screen.getByTestId('ack-a'));
    await settle();
    expect(ward.commands).toEqual([{ alarmId: 'a', by: 'Kari' }]);
    expect(screen.getByTestId('going-a').textContent).toBe('Kari går · kl. 03:20');
    expect(screen.queryByTestId('ack-a')).toBeNull();
    expect(card('a').dataset.status).toBe('acknowledged');
    // A colleague's "Jeg går" arrives from the server.
    act(() =>
      ward.put([{ ...(ward.get('b') as Alarm), status: 'acknowledged', acknowledgedBy: 'Per', acknowledgedAt: '2026-11-25T02:18:00Z' }]),
    );
    expect(screen.getByTestId('going-b').textContent).toBe('Per går · kl. 03:18');
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('2 åpne alarmer');
  });

  it('a command without a link is refused on the card, and the alarm stays as it was', async () => {
    const ward = new TestWard([alarm({ id: 'a' })]);
    ward.online = false;
    renderOnWard(<Overlay />, ward);
    fireEvent.click(screen.getByTestId('ack-a'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('Ikke sendt: ingen kontakt med serveren. Prøv igjen.');
    expect(card('a').dataset.status).toBe('active');
    expect(screen.getByTestId('ack-a')).toBeTruthy();
  });

  it('resolves with an outcome; "Annet" takes a note; the resolved alarm leaves the overlay', async () => {
    const ward = new TestWard([alarm({ id: 'a' }), alarm({ id: 'b', roomId: 'room-102', priority: 'medium' })]);
    renderOnWard(<Overlay />, ward);
    fireEvent.click(screen.getByTestId('resolve-a'));
    const choices = screen.getByRole('group', { name: 'Hvordan endte det?' });
    expect(
      within(choices)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['Hjalp beboeren', 'Gikk tilbake selv', 'Falsk alarm', 'Annet', 'Tilbake']);
    // Only one outcome panel at a time, so its buttons are never ambiguous.
    fireEvent.click(screen.getByTestId('resolve-b'));
    expect(screen.getAllByRole('group')).toHaveLength(1);
    expect(within(card('b')).getByRole('group')).toBeTruthy();
    fireEvent.click(screen.getByTestId('outcome-assisted'));
    await settle();
    expect(ward.commands).toEqual([{ alarmId: 'b', by: 'Kari', outcome: 'assisted' }]);
    expect(screen.queryByTestId('alarm-b')).toBeNull();

    fireEvent.click(screen.getByTestId('resolve-a'));
    fireEvent.click(screen.getByTestId('outcome-other'));
    fireEvent.change(screen.getByLabelText('Notat'), { target: { value: '  Sto ved vinduet, fulgte henne tilbake  ' } });
    fireEvent.click(screen.getByTestId('outcome-other-confirm'));
    await settle();
    expect(ward.commands.at(-1)).toEqual({ alarmId: 'a', by: 'Kari', outcome: 'other', note: 'Sto ved vinduet, fulgte henne tilbake' });
    expect(ward.get('a')?.status).toBe('resolved');
    expect(screen.queryByTestId('alarm-overlay')).toBeNull();
  });

  it('"Tilbake" closes the outcome choices without resolving', () => {
    const ward = new TestWard([alarm({ id: 'a' })]);
    renderOnWard(<Overlay />, ward);
    fireEvent.click(screen.getByTestId('resolve-a'));
    fireEvent.click(screen.getByTestId('resolve-cancel'));
    expect(screen.queryByRole('group')).toBeNull();
    expect(ward.commands).toEqual([]);
  });

  it('shows when an unanswered alarm escalates next, and that it was escalated to everyone, then to the nurse in charge', () => {
    const ward = new TestWard([alarm({ id: 'a', nextEscalationAt: '2026-11-25T02:22:00Z' })]);
    renderOnWard(<Overlay />, ward);
    expect(within(card('a')).getByText('Ingen har svart ennå · eskaleres kl. 03:22')).toBeTruthy();
    expect(screen.queryByTestId('escalated-a')).toBeNull();
    act(() =>
      ward.put([
        { ...(ward.get('a') as Alarm), escalationLevel: 1, escalatedAt: '2026-11-25T02:22:00Z', nextEscalationAt: '2026-11-25T02:25:00Z' },
      ]),
    );
    expect(screen.getByTestId('escalated-a').textContent).toBe('ESKALERT: alle på vakt er varslet på nytt · kl. 03:22');
    expect(card('a').dataset.escalation).toBe('1');
    act(() => ward.put([{ ...(ward.get('a') as Alarm), escalationLevel: 2, escalatedAt: '2026-11-25T02:25:00Z', nextEscalationAt: null }]));
    expect(screen.getByTestId('escalated-a').textContent).toBe('ESKALERT: sykepleieleder er varslet · kl. 03:25');
  });

  it('confirms each alarm it shows to the server (read receipt)', () => {
    const ward = new TestWard([alarm({ id: 'a' }), alarm({ id: 'b', roomId: 'room-102' })]);
    renderOnWard(<Overlay />, ward);
    expect([...new Set(ward.displayedIds)].sort()).toEqual(['a', 'b']);
  });
});
