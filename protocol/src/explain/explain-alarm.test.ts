import { describe, expect, it } from 'vitest';
import { ZONE } from '../../test/fixtures.js';
import type { AlarmDecision } from '../alarm.js';
import { explainAlarm } from './explain-alarm.js';

/** An alarm as the engine raises it: room 7, raised at `raisedAt` (UTC; Oslo is UTC+1 in November). */
const alarm = (
  rule: AlarmDecision['rule'],
  evidence: Partial<AlarmDecision['evidence']>,
  raisedAt = '2026-11-25T02:20:00.000Z',
): AlarmDecision => ({
  id: 'a1',
  siteId: 'demo',
  residentId: 'res-7',
  roomId: 'room-7',
  sensorId: rule.startsWith('door') || evidence.sensorKind === 'door' ? 'door-7' : 'bed-7',
  rule,
  priority: 'high',
  raisedAt,
  decidedAt: raisedAt,
  evidence: { eventIds: ['e1'], since: '2026-11-25T02:10:00.000Z', ...evidence },
});
const nb = { lang: 'nb', timeZone: ZONE, roomName: 'Rom 7', residentName: 'Anna' } as const;
const en = { ...nb, lang: 'en' } as const;
const night = { nightWindow: { start: '22:00', end: '07:00' } };
const both = (a: AlarmDecision) => [explainAlarm(a, nb), explainAlarm(a, en)];

describe('explainAlarm', () => {
  it('door-open-at-night: the door of room 7 opened at 03:10 inside the night window 22:00–07:00', () => {
    expect(both(alarm('door-open-at-night', night))).toEqual([
      { title: 'Dør åpnet om natten', detail: 'Døren til Rom 7 ble åpnet kl. 03:10, innenfor nattevinduet 22:00–07:00.' },
      { title: 'Door opened at night', detail: 'The door of Rom 7 opened at 03:10, inside the night window 22:00–07:00.' },
    ]);
  });

  it('bed-exit: when the resident left, and how long they were away', () => {
    expect(both(alarm('bed-exit', { ...night, setting: { delaySeconds: 0, graceSeconds: 30 } }))).toEqual([
      {
        title: 'Forlot sengen',
        detail: 'Anna forlot sengen kl. 03:10, innenfor nattevinduet 22:00–07:00, og var ikke tilbake etter 30 sekunder.',
      },
      {
        title: 'Left the bed',
        detail: 'Anna left the bed at 03:10, inside the night window 22:00–07:00, and was not back after 30 seconds.',
      },
    ]);
    expect(both(alarm('bed-exit', { setting: { delaySeconds: 120, graceSeconds: 30 } })).map((e) => e.detail)).toEqual([
      'Anna forlot sengen kl. 03:10, og var ikke tilbake etter 2 minutter.',
      'Anna left the bed at 03:10, and was not back after 2 minutes.',
    ]);
    expect(both(alarm('bed-exit', { setting: { delaySeconds: 1 } })).map((e) => e.detail)).toEqual([
      'Anna forlot sengen kl. 03:10, og var ikke tilbake etter 1 sekund.',
      'Anna left the bed at 03:10, and was not back after 1 second.',
    ]);
    expect(
      both(alarm('bed-exit', { setting: { delaySeconds: 60 } })).map((e) => e.detail.split('etter ')[1] ?? e.detail.split('after ')[1]),
    ).toEqual(['1 minutt.', '1 minute.']);
    expect(explainAlarm(alarm('bed-exit', {}), en).detail).toBe('Anna left the bed at 03:10, and was not back after 0 seconds.');
  });

  it('out-of-bed-too-long: since when, and the threshold of the plan', () => {
    expect(both(alarm('out-of-bed-too-long', { ...night, thresholdMinutes: 20, setting: { minutes: 20 } }))).toEqual([
      {
        title: 'Lenge ute av sengen',
        detail: 'Anna har vært ute av sengen siden kl. 03:10, over 20 minutter, innenfor nattevinduet 22:00–07:00.',
      },
      {
        title: 'Out of bed too long',
        detail: 'Anna has been out of bed since 03:10, more than 20 minutes, inside the night window 22:00–07:00.',
      },
    ]);
    // An alarm from an older gateway has only thresholdMinutes; one without either still says since when.
    expect(explainAlarm(alarm('out-of-bed-too-long', { thresholdMinutes: 1 }), en).detail).toBe(
      'Anna has been out of bed since 03:10, more than 1 minute.',
    );
    expect(explainAlarm(alarm('out-of-bed-too-long', {}), nb).detail).toBe('Anna har vært ute av sengen siden kl. 03:10.');
  });

  it('door-left-open: since when the door has been open, and the minutes of the plan', () => {
    expect(both(alarm('door-left-open', { ...night, setting: { minutes: 10 } }))).toEqual([
      {
        title: 'Døren står åpen',
        detail: 'Døren til Rom 7 har stått åpen siden kl. 03:10, over 10 minutter, innenfor nattevinduet 22:00–07:00.',
      },
      {
        title: 'Door left open',
        detail: 'The door of Rom 7 has been open since 03:10, more than 10 minutes, inside the night window 22:00–07:00.',
      },
    ]);
    expect(explainAlarm(alarm('door-left-open', {}), en).detail).toBe('The door of Rom 7 has been open since 03:10.');
  });

  it('not-in-bed-by: the time of the plan, and since when the bed has been empty (with the date when it was long ago)', () => {
    expect(both(alarm('not-in-bed-by', { setting: { time: '23:00' } }))).toEqual([
      { title: 'Ikke i seng kl. 23:00', detail: 'Anna var ikke i seng kl. 23:00, som planen sier. Sengen har vært tom siden kl. 03:10.' },
      {
        title: 'Not in bed by 23:00',
        detail: 'Anna was not in bed at 23:00, the time set in the plan. The bed has been empty since 03:10.',
      },
    ]);
    const long = alarm('not-in-bed-by', { since: '2026-11-24T09:00:00.000Z' }, '2026-11-25T22:00:00.000Z');
    expect(both(long)).toEqual([
      { title: 'Ikke i seng', detail: 'Anna var ikke i seng. Sengen har vært tom siden 24.11. kl. 10:00.' },
      { title: 'Not in bed', detail: 'Anna was not in bed. The bed has been empty since 10:00 on 24/11.' },
    ]);
  });

  it('sensor-silent: the sensor, since when, and the limit', () => {
    const heard = alarm('sensor-silent', { sensorKind: 'door', setting: { minutes: 15 } });
    expect(both(heard)).toEqual([
      {
        title: 'Sensoren har ikke meldt seg',
        detail: 'Ingen melding fra dørsensoren door-7 i Rom 7 siden kl. 03:10. Grensen er 15 minutter.',
      },
      { title: 'Sensor silent', detail: 'No message from the door sensor door-7 in Rom 7 since 03:10. The limit is 15 minutes.' },
    ]);
    const never = alarm('sensor-silent', { eventIds: [], sensorKind: 'bed' });
    expect(both(never).map((e) => e.detail)).toEqual([
      'Ingen melding fra sengematten bed-7 i Rom 7 siden overvåkingen startet kl. 03:10.',
      'No message from the bed mat bed-7 in Rom 7 since watching started at 03:10.',
    ]);
  });

  it('sensor-offline', () => {
    expect(both(alarm('sensor-offline', { sensorKind: 'bed' }))).toEqual([
      {
        title: 'Sensor frakoblet',
        detail: 'Sengematten bed-7 i Rom 7 meldte seg frakoblet kl. 03:10. Den varsler ikke før den er tilkoblet igjen.',
      },
      {
        title: 'Sensor offline',
        detail: 'The bed mat bed-7 in Rom 7 reported itself offline at 03:10. It raises no alarms until it is back online.',
      },
    ]);
  });

  it('low-battery: the level and the limit, or the sensor’s own flag', () => {
    expect(both(alarm('low-battery', { sensorKind: 'door', value: 14, setting: { percent: 15 } }))).toEqual([
      {
        title: 'Lavt batteri',
        detail: 'Batteriet i dørsensoren door-7 i Rom 7 er på 14 % (grensen er 15 %), meldt kl. 03:10. Bytt batteri snart.',
      },
      {
        title: 'Low battery',
        detail:
          'The battery of the door sensor door-7 in Rom 7 is at 14 % (the limit is 15 %), reported at 03:10. Replace the battery soon.',
      },
    ]);
    expect(both(alarm('low-battery', { sensorKind: 'door' })).map((e) => e.detail)).toEqual([
      'Dørsensoren door-7 i Rom 7 melder lavt batteri, meldt kl. 03:10. Bytt batteri snart.',
      'The door sensor door-7 in Rom 7 reports a low battery, reported at 03:10. Replace the battery soon.',
    ]);
    expect(explainAlarm(alarm('low-battery', { value: 9 }), nb).detail).toBe(
      'Batteriet i sensoren bed-7 i Rom 7 er på 9 %, meldt kl. 03:10. Bytt batteri snart.',
    );
  });

  it('tamper', () => {
    expect(both(alarm('tamper', { sensorKind: 'door' }))).toEqual([
      {
        title: 'Sensoren er åpnet eller flyttet',
        detail: 'Dørsensoren door-7 i Rom 7 meldte kl. 03:10 at dekselet er åpnet eller at den er tatt ned.',
      },
      {
        title: 'Sensor opened or moved',
        detail: 'The door sensor door-7 in Rom 7 reported at 03:10 that its cover was opened or that it was taken down.',
      },
    ]);
  });

  it('flapping: how many changes in a minute, from when, and the limit', () => {
    expect(both(alarm('flapping', { sensorKind: 'door', value: 12, setting: { changesPerMinute: 10 } }))).toEqual([
      {
        title: 'Ustabil sensor',
        detail:
          'Dørsensoren door-7 i Rom 7 skiftet tilstand 12 ganger på ett minutt fra kl. 03:10 (grensen er 10). Sjekk at den sitter som den skal.',
      },
      {
        title: 'Unstable sensor',
        detail:
          'The door sensor door-7 in Rom 7 changed state 12 times within a minute from 03:10 (the limit is 10). Check that it is mounted properly.',
      },
    ]);
    expect(both(alarm('flapping', { eventIds: ['e1', 'e2', 'e3'] })).map((e) => e.detail)).toEqual([
      'Sensoren bed-7 i Rom 7 skiftet tilstand 3 ganger på ett minutt fra kl. 03:10. Sjekk at den sitter som den skal.',
      'The sensor bed-7 in Rom 7 changed state 3 times within a minute from 03:10. Check that it is mounted properly.',
    ]);
  });

  it('without names it says "the resident" and the room id; times follow the site zone, summer time too', () => {
    const bare = { lang: 'en', timeZone: ZONE } as const;
    expect(explainAlarm(alarm('bed-exit', {}), bare).detail).toMatch(/^The resident left the bed at 03:10/);
    expect(explainAlarm(alarm('door-open-at-night', {}), { ...bare, lang: 'nb' })).toEqual({
      title: 'Dør åpnet om natten',
      detail: 'Døren til room-7 ble åpnet kl. 03:10.',
    });
    expect(explainAlarm(alarm('door-open-at-night', { since: '2026-07-01T01:05:00.000Z' }, '2026-07-01T01:05:00.000Z'), nb).detail).toBe(
      'Døren til Rom 7 ble åpnet kl. 03:05.',
    );
    expect(explainAlarm(alarm('door-open-at-night', {}), { ...nb, timeZone: 'UTC' }).detail).toBe('Døren til Rom 7 ble åpnet kl. 02:10.');
  });

  it('self-test-missed: when the self-test was due and the grace; self-test-failed names the self-test sensor', () => {
    const missed = alarm('self-test-missed', { eventIds: [], sensorKind: 'door', setting: { time: '03:10', minutes: 15 } });
    expect(both(missed).map((e) => e.title)).toEqual(['Selvtesten kom ikke', 'Self-test missing']);
    expect(explainAlarm(missed, nb).detail).toMatch(/^Den daglige selvtesten av alarmkjeden skulle komme kl\. 03:10 \(frist 15 minutter\)/);
    expect(explainAlarm(missed, en).detail).toMatch(/^The daily self-test of the alarm chain was due at 03:10 \(grace 15 minutes\)/);
    const failed = alarm('self-test-failed', { eventIds: [], sensorKind: 'door' });
    expect(explainAlarm(failed, { ...en, roomName: 'Selvtest' }).detail).toMatch(
      /^The self-test at 03:10 with the door sensor door-7 in Selvtest did not reach the server/,
    );
  });

  it('an alarm of a rule this build does not know still says when', () => {
    const future = { ...alarm('tamper', {}), rule: 'fell-out-of-bed' } as unknown as AlarmDecision;
    expect(explainAlarm(future, en)).toEqual({ title: 'fell-out-of-bed', detail: 'Alarm at 03:10.' });
  });
});
