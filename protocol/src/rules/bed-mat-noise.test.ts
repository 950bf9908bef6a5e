/**
 * A bed mat is noisy: turning over or sitting up unloads it for a few seconds. None of that may
 * raise "out of bed": each false alarm wakes a resident and pulls a nurse away. These tests feed
 * realistic bursts of unload/load and check that only a real exit raises.
 */
import { describe, expect, it } from 'vitest';
import { at, events, ids, plan, site } from '../../test/fixtures.js';
import type { RuleId } from '../alarm.js';
import type { SupervisionPlan } from '../site-config.js';
import { RuleEngine, type RuleOutput } from './engine.js';

/** A resident at fall risk with every bed rule on, out-of-bed after just 1 minute so that a miscounted burst would show. */
const restless = (extra: Partial<SupervisionPlan> = {}) =>
  plan({
    rules: {
      bedExit: { enabled: true, priority: 'high' },
      outOfBedTooLong: { enabled: true, minutes: 1, priority: 'high' },
      notInBedBy: { enabled: true, time: '02:00', priority: 'medium' },
    },
    ...extra,
  });
const BED_RULES: RuleId[] = ['bed-exit', 'out-of-bed-too-long', 'not-in-bed-by', 'flapping'];

function setup(p = restless()) {
  const engine = new RuleEngine(site({ anna: p }), { newId: ids(), rules: BED_RULES });
  const ev = events();
  const outputs: RuleOutput[] = [];
  let now = at('2026-11-25T01:50');
  outputs.push(engine.onEvent(ev.bed('bed-1', true, now), now)); // in bed
  return {
    engine,
    outputs,
    /** The mat unloaded for `seconds`, then loaded again and left loaded for `rest` seconds; ticks at every deadline on the way. */
    burst(seconds: number, rest: number) {
      now += 1000;
      outputs.push(engine.onEvent(ev.bed('bed-1', false, now), now));
      this.until(now + seconds * 1000);
      outputs.push(engine.onEvent(ev.bed('bed-1', true, now), now));
      this.until(now + rest * 1000);
    },
    /** Lets time pass to `end`, ticking at every deadline like the gateway's timer. */
    until(end: number) {
      for (let d = engine.nextDeadline(); d !== null && d <= end; d = engine.nextDeadline()) outputs.push(engine.onTick(d));
      now = end;
      outputs.push(engine.onTick(now));
    },
    leave() {
      now += 1000;
      const event = ev.bed('bed-1', false, now);
      outputs.push(engine.onEvent(event, now));
      return { event, at: now };
    },
    raised: () => outputs.flatMap((o) => o.raised),
  };
}

describe('bed mat noise (grace 30 s)', () => {
  it('turning over: unloads of 3 s, a few times in the night, raise nothing', () => {
    const night = setup();
    for (let i = 0; i < 6; i++) night.burst(3, 240);
    expect(night.raised()).toEqual([]);
    expect(night.engine.stateOf('anna')?.open.size).toBe(0);
  });

  it('a restless spell: unload 8 s / load 4 s, again and again for ten minutes (across the 02:00 check), raises nothing', () => {
    const night = setup();
    for (let i = 0; i < 50; i++) night.burst(8, 4); // 10 changes a minute: restless, not a faulty mat
    expect(night.raised()).toEqual([]);
  });

  it('sitting on the edge of the bed for 20 s, then lying down again, raises nothing', () => {
    const night = setup();
    night.burst(20, 600);
    expect(night.raised()).toEqual([]);
  });

  it('an unload of 29.999 s is noise; the deadline it had is gone once the mat is loaded', () => {
    const night = setup(restless({ rules: { ...restless().rules, notInBedBy: undefined } }));
    night.burst(29.999, 0);
    expect(night.engine.nextDeadline()).toBeNull();
    night.until(at('2026-11-25T03:00'));
    expect(night.raised()).toEqual([]);
  });

  it('sitting on the edge for 20 s and then standing up is a real exit, counted from when the mat was first unloaded', () => {
    const night = setup();
    night.burst(3, 60);
    const { event, at: left } = night.leave();
    night.until(left + 29_000);
    expect(night.raised()).toEqual([]);
    night.until(left + 30_000);
    expect(night.raised().map((a) => [a.rule, a.evidence.since])).toEqual([['bed-exit', new Date(left).toISOString()]]);
    expect(night.raised()[0]?.evidence.eventIds).toEqual([event.id]);
    // Out of bed for 1 minute, counted from the same start.
    night.until(left + 60_000);
    expect(night.raised().map((a) => [a.rule, a.raisedAt])).toEqual([
      ['bed-exit', new Date(left + 30_000).toISOString()],
      ['out-of-bed-too-long', new Date(left + 60_000).toISOString()],
    ]);
  });

  it('a longer grace (bedGraceSeconds 300) holds back out-of-bed-too-long too, even with a 1-minute threshold', () => {
    const night = setup(restless({ bedGraceSeconds: 300 }));
    night.burst(240, 60);
    expect(night.raised()).toEqual([]);
    const { at: left } = night.leave();
    expect(night.engine.deadlines().find((d) => d.rule === 'out-of-bed-too-long')?.at).toBe(left + 300_000);
    night.until(left + 300_000);
    // Out since about 01:55 and still out at the 02:00 check: not-in-bed-by too, once the grace is over.
    expect(night.raised().map((a) => a.rule)).toEqual(['out-of-bed-too-long', 'bed-exit', 'not-in-bed-by']);
  });

  it('out at the 02:00 check after a burst: not-in-bed-by waits for the grace and then raises', () => {
    const night = setup();
    night.until(at('2026-11-25T01:59:50') - 1000);
    const { at: left } = night.leave(); // 01:59:50
    night.until(at('2026-11-25T02:00:19'));
    expect(night.raised().map((a) => a.rule)).toEqual([]);
    night.until(at('2026-11-25T02:00:20'));
    expect(night.raised().map((a) => a.rule)).toEqual(['bed-exit', 'not-in-bed-by']);
    expect(night.raised()[1]?.evidence.since).toBe(new Date(left).toISOString());
  });
});
