// @vitest-environment happy-dom
import { act, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.js';
import { alarm, renderOnWard, room } from '../test-support/ward.js';
import { RoomGrid } from './RoomGrid.js';

const tile = (roomId: string) => screen.getByTestId(`room-${roomId}`);
const lines = (roomId: string) =>
  within(tile(roomId))
    .getAllByRole('listitem')
    .map((item) => item.textContent);

describe('the ward board', () => {
  it('shows every room with its resident and a live state: in bed, out of bed for N minutes, door open, sensor trouble', () => {
    const rooms = [
      room({ roomId: 'r1', roomName: 'Rom 101' }),
      room({
        roomId: 'r2',
        roomName: 'Rom 102',
        resident: { id: 'res-2', name: 'Olav Lie', armed: true },
        // Left the bed at 03:08 Oslo; the site clock says 03:20.
        bed: { occupied: false, since: '2026-11-25T02:08:00.000Z' },
        door: { open: true, since: '2026-11-25T02:15:00.000Z' },
      }),
      room({
        roomId: 'r3',
        roomName: 'Rom 103',
        resident: { id: 'res-3', name: 'Signe Dahl', armed: true },
        bed: { occupied: null, since: null },
        sensors: [
          { id: 'bed-103', kind: 'bed', online: false, lastSeen: '2026-11-25T00:00:00Z', battery: 50 },
          { id: 'door-103', kind: 'door', online: true, lastSeen: '2026-11-25T02:19:00Z', battery: 9 },
        ],
      }),
      room({
        roomId: 'r4',
        roomName: 'Rom 104',
        resident: null,
        bed: { occupied: null, since: null },
        door: { open: null, since: null },
        sensors: [],
      }),
    ];
    renderOnWard(<RoomGrid rooms={rooms} openAlarms={[]} />);

    expect(within(tile('r1')).getByRole('heading').textContent).toBe('Rom 101');
    expect(within(tile('r1')).getByText('Astrid Berg')).toBeTruthy();
    expect(lines('r1')).toEqual(['I seng', 'Dør lukket']);

    expect(lines('r2')).toEqual(['Ute av seng i 12 min', 'Dør åpen']);
    expect(screen.getByTestId('bed-r2').className).toContain('state-attention');
    expect(screen.getByTestId('door-r2').className).toContain('state-attention');

    expect(lines('r3')).toEqual(['Seng: Ukjent', 'Dør lukket', 'Sensor frakoblet (seng)', 'Lavt batteri (dør): 9 %']);

    expect(within(tile('r4')).getByText('Ingen beboer')).toBeTruthy();
    expect(lines('r4')).toEqual(['Ingen sensorer']);

    act(() => setLanguage('en'));
    expect(lines('r2')).toEqual(['Out of bed for 12 min', 'Door open']);
  });

  it('counts the minutes out of bed on the site clock as it runs', () => {
    const rooms = [room({ roomId: 'r2', bed: { occupied: false, since: '2026-11-25T02:08:00.000Z' } })];
    const first = renderOnWard(<RoomGrid rooms={rooms} openAlarms={[]} />, undefined, { at: '2026-11-25T02:08:30.000Z' });
    expect(screen.getByTestId('bed-r2').textContent).toBe('Ute av seng i 0 min');
    first.unmount();
    const later = renderOnWard(<RoomGrid rooms={rooms} openAlarms={[]} />, undefined, { at: '2026-11-25T02:45:10.000Z' });
    expect(within(later.container).getByTestId('bed-r2').textContent).toBe('Ute av seng i 37 min');
  });

  it("marks a room with an open alarm in the alarm's priority, flashing while unanswered, and a resident without protection", () => {
    const rooms = [
      room({ roomId: 'r1' }),
      room({ roomId: 'r2', resident: { id: 'res-2', name: 'Olav Lie', armed: true } }),
      room({ roomId: 'r3', resident: { id: 'res-3', name: 'Signe Dahl', armed: false } }),
    ];
    const open = [
      alarm({ id: 'a', roomId: 'r1', priority: 'medium' }),
      alarm({ id: 'b', roomId: 'r1', priority: 'high' }),
      alarm({ id: 'c', roomId: 'r2', priority: 'low', status: 'acknowledged', acknowledgedBy: 'Kari' }),
    ];
    renderOnWard(<RoomGrid rooms={rooms} openAlarms={open} />);
    expect(tile('r1').dataset.alarm).toBe('high');
    expect(tile('r1').className).toContain('alarm-unanswered');
    expect(tile('r2').dataset.alarm).toBe('low');
    expect(tile('r2').className).toContain('alarm-answered');
    expect(tile('r3').dataset.alarm).toBe('none');
    expect(within(tile('r3')).getByText('Ikke beskyttet')).toBeTruthy();
    expect(within(tile('r1')).queryByText('Ikke beskyttet')).toBeNull();
  });

  it('says so when the ward has no rooms', () => {
    renderOnWard(<RoomGrid rooms={[]} openAlarms={[]} />);
    expect(screen.getByText('Ingen rom er satt opp for avdelingen.')).toBeTruthy();
  });
});
