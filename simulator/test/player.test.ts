import { type SimulatedClockPayload, simulatedClockPayload } from '@nattevakt/protocol/sensor-payloads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNight } from '../src/behaviour/plan-night.js';
import { demoWard } from '../src/demo-ward.js';
import { type PlayProgress, playNight } from '../src/player.js';
import { startBroker, type TestBroker } from './broker.js';

const ward = demoWard();

describe('playNight against a real broker', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    await broker.close();
  });

  it('publishes every message in order, each batch after a clock at or past its time', async () => {
    const messages = planNight(ward, { seed: 7, night: '2026-11-24', from: '03:00', to: '04:30' });
    const { received } = await broker.listen('nattevakt/v1/demo/#');
    const progress: PlayProgress[] = [];
    const endAt = Date.parse('2026-11-25T03:30:00Z'); // 04:30 in Oslo
    const summary = await playNight(messages, {
      url: broker.url,
      speed: 3600,
      siteId: 'demo',
      endAt,
      onProgress: (p) => progress.push(p),
    });
    expect(summary).toMatchObject({ sent: messages.length, aborted: false });
    // 90 simulated minutes at 3600× take 1.5 s.
    expect(summary.durationMs).toBeGreaterThanOrEqual(1400);
    expect(summary.durationMs).toBeLessThan(10_000);
    await expect.poll(() => received.filter((m) => !m.topic.endsWith('/clock')).length).toBe(messages.length);

    const sensorMessages = received.filter((m) => !m.topic.endsWith('/clock'));
    expect(sensorMessages.map((m) => ({ topic: m.topic, payload: m.payload }))).toEqual(
      messages.map((m) => ({ topic: m.topic, payload: m.payload })),
    );

    let clock: number | null = null;
    let planned = 0;
    for (const message of received) {
      if (message.topic === 'nattevakt/v1/demo/clock') {
        expect(simulatedClockPayload.check(message.payload).ok).toBe(true);
        const payload = message.payload as SimulatedClockPayload;
        expect(payload.speed).toBe(3600);
        const time = Date.parse(payload.time);
        if (clock !== null) expect(time).toBeGreaterThanOrEqual(clock); // never backwards
        clock = time;
        continue;
      }
      expect(clock, `a clock before ${message.topic}`).not.toBeNull();
      const at = messages[planned++]?.at ?? 0;
      expect(clock).toBeGreaterThanOrEqual(at);
      // Not stale: within half a real second (30 simulated minutes at 3600×) even on a loaded CI machine;
      // how late exactly is a matter for a benchmark, not a test.
      expect((clock ?? 0) - at).toBeLessThan(30 * 60_000);
    }
    // The clock runs on to the end of the span after the last message.
    expect(clock).toBe(endAt);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)?.fraction).toBe(1);
    expect(progress.at(-1)?.sent).toBe(messages.length);
  });

  it('leaves the availability retained on the broker', async () => {
    const messages = planNight(demoWard({ residents: 3 }), { seed: 1, night: '2026-11-24', from: '03:00', to: '03:10' });
    await playNight(messages, { url: broker.url, speed: 10_000, siteId: 'demo' });
    const late = await broker.listen('nattevakt/v1/demo/sensors/+/availability');
    await expect.poll(() => late.received.length).toBe(6);
    expect(late.received.every((m) => m.retain && (m.payload as { state: string }).state === 'online')).toBe(true);
  });

  it('stops cleanly and disconnects when aborted', async () => {
    const messages = planNight(ward, { seed: 7, night: '2026-11-24', from: '22:00', to: '07:00' });
    const { received } = await broker.listen('nattevakt/v1/demo/sensors/#');
    const disconnected = new Promise<void>((resolve) => broker.broker.once('clientDisconnect', () => resolve()));
    const abort = new AbortController();
    const playing = playNight(messages, { url: broker.url, speed: 60, siteId: 'demo', signal: abort.signal });
    await expect.poll(() => received.length).toBeGreaterThan(0);
    const abortedAt = performance.now();
    abort.abort();
    const summary = await playing;
    expect(performance.now() - abortedAt).toBeLessThan(2000);
    expect(summary.aborted).toBe(true);
    expect(summary.sent).toBeLessThan(messages.length);
    await disconnected;
  });

  it('fails clearly when no broker listens, and refuses a speed the clock cannot carry', async () => {
    const messages = planNight(ward, { seed: 1, night: '2026-11-24', from: '03:00', to: '03:10' });
    await expect(playNight(messages, { url: 'mqtt://127.0.0.1:1', speed: 30, siteId: 'demo' })).rejects.toThrow(
      /cannot connect to the MQTT broker at mqtt:\/\/127\.0\.0\.1:1/,
    );
    await expect(playNight(messages, { url: broker.url, speed: 0, siteId: 'demo' })).rejects.toThrow(/speed/);
  });
});
