import { describe, expect, it } from 'vitest';
import { mayPublish, topicMatches } from './auth.js';

/** The matcher as it was written first, level arrays and all: the reference the in-place walk must agree with. */
function byLevels(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('topicMatches', () => {
  it('agrees with matching level by level on empty levels, wildcards anywhere and prefixes (20,000 seeded pairs)', () => {
    const next = random(3);
    const pieces = ['a', 'b', 'ab', '', '+', '#', '/', 'a+', '#a'];
    const text = (n: number) => Array.from({ length: n }, () => pieces[Math.floor(next() * pieces.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const filter = text(Math.floor(next() * 6));
      const topic = next() < 0.3 ? filter.replaceAll('+', 'x').replaceAll('#', 'y/z') : text(Math.floor(next() * 6));
      expect(topicMatches(filter, topic), `${JSON.stringify(filter)} ~ ${JSON.stringify(topic)}`).toBe(byLevels(filter, topic));
    }
  });

  it('matches the gateway subscriptions as before', () => {
    const sensors = 'nattevakt/v1/demo/sensors/#';
    expect(topicMatches(sensors, 'nattevakt/v1/demo/sensors/bed-1/state')).toBe(true);
    expect(topicMatches(sensors, 'nattevakt/v1/demo/sensors')).toBe(true);
    expect(topicMatches(sensors, 'nattevakt/v1/demo/sensorsx/bed-1/state')).toBe(false);
    expect(topicMatches(sensors, 'nattevakt/v1/other/sensors/bed-1/state')).toBe(false);
    expect(topicMatches('nattevakt/v1/demo/clock', 'nattevakt/v1/demo/clock')).toBe(true);
    expect(topicMatches('nattevakt/v1/demo/clock', 'nattevakt/v1/demo/clock/')).toBe(false);
    expect(topicMatches('zigbee2mqtt/+/set', 'zigbee2mqtt/lamp/set')).toBe(true);
    expect(topicMatches('zigbee2mqtt/+/set', 'zigbee2mqtt//set')).toBe(true);
    expect(topicMatches('zigbee2mqtt/+/set', 'zigbee2mqtt/set')).toBe(false);
  });

  it('mayPublish keeps its answers for two sites in one process (its topics are kept per site)', () => {
    const anonymous = { role: 'anonymous' } as const;
    const site = (siteId: string) => ({ siteId, acceptClock: false, demoFilters: ['zigbee2mqtt/#'] });
    for (const id of ['a', 'b', 'a']) {
      expect(mayPublish(anonymous, `nattevakt/v1/${id}/sensors/bed-1/state`, site(id))).toBe(true);
      expect(mayPublish(anonymous, `nattevakt/v1/${id}/alarms`, site(id))).toBe(false);
      expect(mayPublish(anonymous, `nattevakt/v1/${id}/alarms/active`, site(id))).toBe(false);
      expect(mayPublish(anonymous, `nattevakt/v1/${id}/alarmsx`, site(id))).toBe(false);
      expect(mayPublish(anonymous, `nattevakt/v1/${id}/clock`, site(id))).toBe(false);
      expect(mayPublish(anonymous, `nattevakt/v1/${id === 'a' ? 'b' : 'a'}/sensors/bed-1/state`, site(id))).toBe(false);
      expect(mayPublish(anonymous, 'zigbee2mqtt/lamp', site(id))).toBe(true);
    }
  });
});
