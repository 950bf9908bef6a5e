import { type AlarmDecision, CareRuleId, type RuleId } from '@nattevakt/protocol/alarm';
import type { WhatIfResult } from '@nattevakt/protocol/night-summary';
import { RuleEngine, type RuleOutput } from '@nattevakt/protocol/rules/engine';
import { nightOf } from '@nattevakt/protocol/rules/nights';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig, SupervisionPlan } from '@nattevakt/protocol/site-config';
import { sensorsOf } from './night-summary-service.js';

const CARE: ReadonlySet<string> = new Set(CareRuleId.anyOf.map((l) => l.const));

/** Ticks per replay before it gives up (a rule that never consumes its deadline would loop forever). */
const MAX_TICKS = 1_000_000;

/**
 * The part of a site that decides a resident's alarms: the resident and the others of the same
 * room (so a shared sensor's technical alarms name the same resident as live), their sensors, and
 * the resident's plan replaced by `plan`.
 */
export function replayConfig(config: SiteConfig, residentId: string, plan: SupervisionPlan): SiteConfig {
  const resident = config.residents.find((r) => r.id === residentId);
  if (resident === undefined) throw new Error(`no resident "${residentId}"`);
  const residents = config.residents.filter((r) => r.roomId === resident.roomId).map((r) => (r.id === residentId ? { ...r, plan } : r));
  const sensorIds = new Set(residents.flatMap((r) => [...sensorsOf(config, r).bed, ...sensorsOf(config, r).door]));
  return {
    ...config,
    rooms: config.rooms.filter((room) => room.id === resident.roomId),
    residents,
    sensors: config.sensors.filter((s) => sensorIds.has(s.id)),
  };
}

/**
 * Replays recorded events through the protocol's RuleEngine, as the gateway runs it: every event
 * at its own site-clock time, and every deadline in between at the instant it falls due, from
 * `from` to `to`. Returns the alarms raised for `residentId` from `countFrom` on. Pure: ids are
 * counters, the wall clock is the replayed clock.
 */
export function replay(
  config: SiteConfig,
  residentId: string,
  events: readonly SensorEvent[],
  range: { from: number; countFrom: number; to: number },
  rules?: readonly RuleId[],
): AlarmDecision[] {
  let now = range.from;
  let n = 0;
  const engine = new RuleEngine(config, { newId: () => `what-if-${++n}`, wallClock: () => now, ...(rules ? { rules } : {}) });
  const raised: AlarmDecision[] = [];
  const collect = (output: RuleOutput) => {
    for (const a of output.raised) if (a.residentId === residentId && Date.parse(a.raisedAt) >= range.countFrom) raised.push(a);
  };
  let ticks = 0;
  const advance = (until: number) => {
    for (;;) {
      const due = engine.nextDeadline();
      if (due === null || due > until) return;
      if (++ticks > MAX_TICKS) throw new Error('replay did not settle: a rule keeps asking for a tick');
      now = Math.max(now, due);
      collect(engine.onTick(now));
    }
  };
  collect(engine.onTick(now));
  const known = new Set(config.sensors.map((s) => s.id));
  // Care rules act on changes of the bed or door state and on deadlines (which `advance` ticks), so
  // a care-only replay skips heartbeats and repeats: same alarms, a fraction of the work.
  const careOnly = rules?.every((r) => CARE.has(r)) ?? false;
  const last = new Map<string, boolean>();
  for (const event of events) {
    if (!known.has(event.sensorId)) continue;
    if (careOnly) {
      const value = event.sensorKind === 'bed' ? event.occupied : event.open;
      if (value === undefined || last.get(event.sensorId) === value) continue;
      last.set(event.sensorId, value);
    }
    const t = Date.parse(event.time);
    if (t < range.from || t >= range.to) continue;
    advance(t);
    now = Math.max(now, t);
    collect(engine.onEvent(event, now));
  }
  advance(range.to);
  return raised;
}

type Counts = WhatIfResult['totals']['current'];

export function countByNight(
  alarms: readonly { raisedAt: string; rule: string }[],
  nights: readonly string[],
  zone: string,
): Map<string, Counts> {
  const out = new Map<string, Counts>(nights.map((night) => [night, { total: 0, byRule: {} }]));
  for (const a of alarms) {
    const counts = out.get(nightOf(Date.parse(a.raisedAt), zone));
    if (counts === undefined) continue;
    counts.total++;
    counts.byRule[a.rule] = (counts.byRule[a.rule] ?? 0) + 1;
  }
  return out;
}

export function sumCounts(list: readonly Counts[]): Counts {
  const total: Counts = { total: 0, byRule: {} };
  for (const c of list) {
    total.total += c.total;
    for (const [rule, k] of Object.entries(c.byRule)) total.byRule[rule] = (total.byRule[rule] ?? 0) + k;
  }
  return total;
}
