// @vitest-environment happy-dom
import '../i18n/index.js';
import type { WhatIfResult } from '@nattevakt/protocol/night-summary';
import type { SupervisionPlan } from '@nattevakt/protocol/site-config';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResidentView } from '../api/admin.js';
import { PlanEditor } from './PlanEditor.js';

const PLAN: SupervisionPlan = {
  armed: true,
  nightWindow: { start: '22:00', end: '07:00' },
  rules: {
    doorOpenAtNight: { enabled: true, priority: 'medium' },
    outOfBedTooLong: { enabled: true, minutes: 20, priority: 'high' },
    bedExit: { enabled: false, delaySeconds: 0, priority: 'high' },
  },
};
const RESIDENT: ResidentView = {
  id: 'res-1',
  name: 'Astrid Berg',
  roomId: 'room-101',
  plan: PLAN,
  status: { state: 'active', reason: null, until: null, changedBy: null, changedAt: null },
  legalBasis: { kind: 'vedtak', evaluation: 'ok', nextEvaluationOn: '2027-03-01' },
};

/**
 * The server's plan endpoints at the network edge: what-if answers from the proposed plan (the
 * shorter the out-of-bed limit, the more alarms), a save answers as the server does, or refuses.
 */
interface Request {
  method: string;
  url: string;
  body: { plan?: SupervisionPlan; nights?: number } & Partial<SupervisionPlan>;
}
let requests: Request[];
let refuseSave: string | null;
const alarmsFor = (plan: SupervisionPlan) =>
  plan.rules.outOfBedTooLong.enabled ? Math.round(120 / plan.rules.outOfBedTooLong.minutes) : 0;

beforeEach(() => {
  requests = [];
  refuseSave = null;
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const request: Request = { method: init.method ?? 'GET', url, body: JSON.parse(String(init.body ?? '{}')) };
    requests.push(request);
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/what-if')) {
      const plan = request.body.plan as SupervisionPlan;
      const count = (n: number) => ({ total: n, byRule: { 'out-of-bed-too-long': n } });
      const result: WhatIfResult = {
        siteId: 'avd-1',
        residentId: 'res-1',
        armed: true,
        rules: ['out-of-bed-too-long'],
        nights: Array.from({ length: 14 }, (_, i) => ({
          night: `2026-11-${String(10 + i).padStart(2, '0')}`,
          events: 100,
          current: count(0),
          proposed: count(0),
          recorded: count(0),
        })),
        totals: { current: count(alarmsFor(PLAN)), proposed: count(alarmsFor(plan)), recorded: count(5) },
      };
      return json(200, result);
    }
    if (url.endsWith('/plan') && init.method === 'PUT') {
      if (refuseSave) return json(400, { error: refuseSave });
      return json(200, { revision: 7 });
    }
    return json(404, { error: 'not found' });
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const words = (rule: string) => screen.getByTestId(`explain-${rule}`).textContent;
const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });
const whatIfRequests = () => requests.filter((r) => r.url.endsWith('/what-if'));

describe('the plan editor', () => {
  it('explains each rule in words, and the words follow what is typed', () => {
    render(<PlanEditor siteId="avd-1" resident={RESIDENT} canEdit onSaved={() => {}} />);
    expect(words('doorOpenAtNight')).toBe('Varsler med middels prioritet når døren åpnes mellom 22:00 og 07:00.');
    expect(words('outOfBedTooLong')).toBe(
      'Varsler med høy prioritet når Astrid Berg har vært ute av sengen i mer enn 20 minutter mellom 22:00 og 07:00.',
    );
    expect(words('bedExit')).toBe('Av: det varsles ikke når Astrid Berg forlater sengen.');

    type('plan-outOfBedTooLong-minutes', '10');
    type('plan-nightStart', '21:30');
    fireEvent.change(screen.getByTestId('plan-outOfBedTooLong-priority'), { target: { value: 'medium' } });
    expect(words('outOfBedTooLong')).toBe(
      'Varsler med middels prioritet når Astrid Berg har vært ute av sengen i mer enn 10 minutter mellom 21:30 og 07:00.',
    );
    fireEvent.click(screen.getByTestId('plan-bedExit-enabled'));
    type('plan-bedExit-delaySeconds', '20');
    expect(words('bedExit')).toBe(
      'Varsler med høy prioritet når Astrid Berg forlater sengen mellom 21:30 og 07:00, 20 sekunder etter at sengen ble tom. Kortere opphold enn 30 sekunder teller ikke.',
    );
    fireEvent.click(screen.getByTestId('plan-doorOpenAtNight-enabled'));
    expect(words('doorOpenAtNight')).toBe('Av: det varsles ikke når døren åpnes om natten.');
  });

  it('checks every field as it is typed, names what is wrong, and neither asks what-if nor saves while anything is', async () => {
    render(<PlanEditor siteId="avd-1" resident={RESIDENT} canEdit onSaved={() => {}} />);
    type('plan-outOfBedTooLong-minutes', '1o');
    expect(screen.getByTestId('error-plan-outOfBedTooLong-minutes').textContent).toBe('Skriv et helt tall.');
    const field = screen.getByTestId('plan-outOfBedTooLong-minutes');
    // Two rules have a "Minutter" field: each sits in a group named by its rule.
    expect(screen.getByRole('group', { name: 'Lenge ute av sengen' }).contains(field)).toBe(true);
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(field.getAttribute('aria-describedby')).toBe('plan-outOfBedTooLong-minutes-error');

    type('plan-outOfBedTooLong-minutes', '0');
    expect(screen.getByTestId('error-plan-outOfBedTooLong-minutes').textContent).toBe('Må være mellom 1 og 720.');
    type('plan-bedGraceSeconds', '301');
    expect(screen.getByTestId('error-plan-bedGraceSeconds').textContent).toBe('Må være mellom 0 og 300.');
    type('plan-nightEnd', '22:00');
    expect(screen.getByTestId('error-plan-nightEnd').textContent).toBe('Start og slutt kan ikke være samme klokkeslett.');
    expect(screen.getByTestId('plan-has-errors').textContent).toBe('3 felt må rettes');
    expect((screen.getByTestId('plan-save') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('whatif').textContent).toBe('Rett feilene over, så regner vi ut hva planen ville gitt.');

    // A rule switched off is not checked: its setting does not block the plan.
    fireEvent.click(screen.getByTestId('plan-outOfBedTooLong-enabled'));
    expect(screen.queryByTestId('error-plan-outOfBedTooLong-minutes')).toBeNull();
    type('plan-bedGraceSeconds', '');
    type('plan-nightEnd', '07:00');
    expect(screen.queryByTestId('plan-has-errors')).toBeNull();
    expect((screen.getByTestId('plan-save') as HTMLButtonElement).disabled).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toEqual([]);
  });

  it('shows the what-if count of the last 14 nights for the plan as typed, then saves it', async () => {
    const onSaved = vi.fn();
    render(<PlanEditor siteId="avd-1" resident={RESIDENT} canEdit onSaved={onSaved} />);
    expect(screen.getByTestId('whatif').textContent).toBe('Endre planen for å se hvor mange alarmer den ville gitt de siste nettene.');
    expect((screen.getByTestId('plan-save') as HTMLButtonElement).disabled).toBe(true);

    // Typed quickly: one question, for what was typed last.
    type('plan-outOfBedTooLong-minutes', '1');
    type('plan-outOfBedTooLong-minutes', '10');
    expect(screen.getByTestId('whatif').textContent).toBe('Regner ut hva planen ville gitt de siste nettene …');
    const result = await screen.findByTestId('whatif-result', {}, { timeout: 3000 });
    expect(result.textContent).toBe(
      'Med denne planen: 12 alarmer de siste 14 nettene. Med planen som gjelder nå: 6. Faktisk registrert: 5.',
    );
    expect(whatIfRequests()).toHaveLength(1);
    expect(whatIfRequests()[0]?.url).toBe('/api/sites/avd-1/residents/res-1/what-if');
    expect(whatIfRequests()[0]?.body.nights).toBe(14);
    expect(whatIfRequests()[0]?.body.plan?.rules.outOfBedTooLong.minutes).toBe(10);
    expect(requests.filter((r) => r.method === 'PUT')).toEqual([]);

    fireEvent.click(screen.getByTestId('plan-save'));
    expect((await screen.findByTestId('plan-saved')).textContent).toBe('Lagret og sendt til gatewayen.');
    const saved = requests.find((r) => r.method === 'PUT');
    expect(saved?.url).toBe('/api/sites/avd-1/residents/res-1/plan');
    expect(saved?.body.rules?.outOfBedTooLong).toEqual({ enabled: true, minutes: 10, priority: 'high' });
    // Arming is the server's to decide (legal basis, plan status): the editor never sends it.
    expect(saved?.body).not.toHaveProperty('armed');
    expect(onSaved).toHaveBeenCalledOnce();
  });

  it("shows the server's reason when a save is refused", async () => {
    refuseSave = 'body/rules/outOfBedTooLong/minutes: must be <= 720';
    render(<PlanEditor siteId="avd-1" resident={RESIDENT} canEdit onSaved={() => {}} />);
    type('plan-outOfBedTooLong-minutes', '30');
    await waitFor(() => expect((screen.getByTestId('plan-save') as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId('plan-save'));
    expect((await screen.findByRole('alert')).textContent).toBe('body/rules/outOfBedTooLong/minutes: must be <= 720');
  });

  it('is read-only for someone who may not change plans', () => {
    render(<PlanEditor siteId="avd-1" resident={RESIDENT} canEdit={false} onSaved={() => {}} />);
    expect((screen.getByTestId('plan-outOfBedTooLong-minutes') as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByTestId('plan-doorOpenAtNight-enabled') as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByTestId('plan-save')).toBeNull();
  });
});
