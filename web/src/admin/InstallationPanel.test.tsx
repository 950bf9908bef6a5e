// @vitest-environment happy-dom
import '../i18n/index.js';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResidentView, Room, Sensor } from '../api/admin.js';
import { InstallationPanel } from './InstallationPanel.js';

const ROOMS: Room[] = [
  { id: 'room-101', name: 'Rom 101' },
  { id: 'room-102', name: 'Rom 102' },
];
const RESIDENTS = [{ id: 'res-2', name: 'Bjørg Dahl', roomId: 'room-102' }] as ResidentView[];

/** The server's sensor endpoint at the network edge: it takes a sensor, or refuses with its own words. */
let posted: { url: string; body: Sensor }[];
let refusal: string | null;
beforeEach(() => {
  posted = [];
  refusal = null;
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    posted.push({ url, body: JSON.parse(String(init.body ?? '{}')) });
    if (refusal) return new Response(JSON.stringify({ error: refusal }), { status: 409, headers: { 'content-type': 'application/json' } });
    return new Response('{}', { status: 201, headers: { 'content-type': 'application/json' } });
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('InstallationPanel', () => {
  it('adds a sensor to the chosen room and resident, says it is saved and reloads the site', async () => {
    const reload = vi.fn();
    render(<InstallationPanel siteId="avd-1" rooms={ROOMS} sensors={[]} residents={RESIDENTS} canEdit reload={reload} />);
    fireEvent.change(screen.getByLabelText('Sensor-ID'), { target: { value: 'bed-102' } });
    const room = screen.getByLabelText('Rom') as HTMLSelectElement;
    expect([...room.options].map((o) => o.textContent)).toEqual(['', 'Rom 101', 'Rom 102']);
    fireEvent.change(room, { target: { value: 'room-102' } });
    fireEvent.change(screen.getByLabelText('Beboer (valgfritt)'), { target: { value: 'res-2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Legg til sensor' }));

    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Lagret.'));
    expect(posted).toEqual([
      { url: '/api/sites/avd-1/sensors', body: { id: 'bed-102', kind: 'bed', roomId: 'room-102', residentId: 'res-2' } },
    ]);
    expect(reload).toHaveBeenCalledTimes(1);
    expect((screen.getByLabelText('Sensor-ID') as HTMLInputElement).value).toBe('');
  });

  it("shows the server's refusal and keeps what was typed", async () => {
    refusal = 'sensor bed-101 exists';
    const reload = vi.fn();
    render(<InstallationPanel siteId="avd-1" rooms={ROOMS} sensors={[]} residents={RESIDENTS} canEdit reload={reload} />);
    fireEvent.change(screen.getByLabelText('Sensor-ID'), { target: { value: 'bed-101' } });
    fireEvent.change(screen.getByLabelText('Rom'), { target: { value: 'room-101' } });
    fireEvent.click(screen.getByRole('button', { name: 'Legg til sensor' }));

    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('sensor bed-101 exists'));
    expect(posted[0]?.body).toEqual({ id: 'bed-101', kind: 'bed', roomId: 'room-101' });
    expect(reload).not.toHaveBeenCalled();
    expect((screen.getByLabelText('Sensor-ID') as HTMLInputElement).value).toBe('bed-101');
  });
});
