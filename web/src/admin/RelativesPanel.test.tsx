// @vitest-environment happy-dom
import '../i18n/index.js';
import type { ConsentInput, Relatives } from '@nattevakt/protocol/relatives';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResidentView } from '../api/admin.js';
import { RelativesPanel } from './RelativesPanel.js';

const RESIDENTS = [
  { id: 'res-7', name: 'Astrid Berg', roomId: 'room-7' },
  { id: 'res-8', name: 'Bjørg Dahl', roomId: 'room-8' },
] as ResidentView[];

/** The server's relatives endpoints at the network edge, for one resident: a consent is recorded as sent. */
let relatives: Relatives;
let recorded: { url: string; body: ConsentInput }[];
beforeEach(() => {
  relatives = { links: [], consent: null, consents: [] };
  recorded = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    if (url.includes('/relative-access-log')) return json({ entries: [] });
    if (url.endsWith('/sharing-consent') && init.method === 'POST') {
      const body = JSON.parse(String(init.body)) as ConsentInput;
      recorded.push({ url, body });
      const consent = {
        id: 'c-1',
        givenBy: body.givenBy,
        guardianName: body.guardianName ?? null,
        givenOn: body.givenOn,
        note: body.note ?? null,
        recordedBy: 'Nina Leder',
        recordedAt: '2026-11-24T10:00:00.000Z',
        withdrawnAt: null,
        withdrawnBy: null,
      };
      relatives = { ...relatives, consent, consents: [consent] };
    }
    return json(relatives);
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('RelativesPanel', () => {
  it("shows the chosen resident's consent, records a guardian's and hides it again when no resident is chosen", async () => {
    render(<RelativesPanel siteId="test" residents={RESIDENTS} timeZone="Europe/Oslo" />);
    const choice = screen.getByTestId('relatives-resident') as HTMLSelectElement;
    expect([...choice.options].map((o) => [o.value, o.textContent])).toEqual([
      ['', 'Velg'],
      ['res-7', 'Astrid Berg'],
      ['res-8', 'Bjørg Dahl'],
    ]);
    fireEvent.change(choice, { target: { value: 'res-7' } });
    await screen.findByTestId('consent-none');

    fireEvent.click(screen.getByTestId('consent-givenBy-guardian'));
    expect((screen.getByTestId('consent-record') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId('consent-guardianName'), { target: { value: ' Ola Verge ' } });
    fireEvent.change(screen.getByTestId('consent-givenOn'), { target: { value: '2026-11-20' } });
    fireEvent.click(screen.getByTestId('consent-record'));

    await waitFor(() => expect(screen.getByTestId('consent-current').textContent).toContain('Ola Verge'));
    expect(recorded).toEqual([
      {
        url: '/api/sites/test/residents/res-7/sharing-consent',
        body: { givenBy: 'guardian', givenOn: '2026-11-20', guardianName: 'Ola Verge' },
      },
    ]);

    fireEvent.change(choice, { target: { value: '' } });
    expect(screen.queryByTestId('resident-relatives')).toBeNull();
  });
});
