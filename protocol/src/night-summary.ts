/**
 * Night summaries, the nurse in charge's reports, the what-if replay and the relatives' view:
 * the shapes the server's REST API sends and the web app reads. Nights are named by the local
 * date of their evening (see rules/nights.ts).
 */
import { type Static, Type } from '@sinclair/typebox';
import { CareRuleId, Outcome, RuleId } from './alarm.js';
import { Id, Instant } from './ids.js';
import { ClockTime, Priority } from './site-config.js';

/** A night, named by the local date of its evening: `YYYY-MM-DD`. */
export const NightDate = Type.String({
  pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'the night, named by the local date of its evening (YYYY-MM-DD, site time zone)',
});

export const Verdict = Type.Union([Type.Literal('calm'), Type.Literal('restless'), Type.Literal('unknown')]);
export type Verdict = Static<typeof Verdict>;

const Words = Type.Object({ nb: Type.String(), en: Type.String() });

/** One alarm of the night with its response times (server clock), without who responded. */
export const NightAlarm = Type.Object({
  id: Type.String(),
  rule: RuleId,
  priority: Priority,
  raisedAt: Instant,
  /** Received by the server → first tablet confirmed delivery, ms; null when no tablet confirmed. */
  deliveredAfterMs: Type.Union([Type.Integer(), Type.Null()]),
  /** Received by the server → a nurse acknowledged ("Jeg går"), or resolved it without acknowledging; ms. */
  responseMs: Type.Union([Type.Integer(), Type.Null()]),
  outcome: Type.Union([Outcome, Type.Null()]),
  status: Type.String(),
});
export type NightAlarm = Static<typeof NightAlarm>;

/** Out of bed once (longer than the plan's bed grace), inside the night window. */
export const OutOfBed = Type.Object({
  from: Instant,
  /** When the resident was back in bed; the window's end (or the time of computing) if not. */
  to: Instant,
  minutes: Type.Integer({ minimum: 0 }),
  /** False when the resident was still out of bed when the window closed (or at the time of computing). */
  backInBed: Type.Boolean(),
});

/** One resident's night: what the bed mat, the door and the alarms tell. Kept when the raw events are deleted. */
export const NightSummary = Type.Object({
  siteId: Id,
  residentId: Id,
  night: NightDate,
  /** The plan's night window this night, as instants and on the local clock. */
  window: Type.Object({ start: Instant, end: Instant, localStart: ClockTime, localEnd: ClockTime }),
  timeZone: Type.String(),
  computedAt: Instant,
  /** False when computed before the window closed (a night still under way). */
  complete: Type.Boolean(),
  /** Minutes in bed inside the window; null when the bed mat told nothing this night. */
  timeInBedMinutes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  /** Minutes of the window the bed mat's state was known. */
  observedMinutes: Type.Integer({ minimum: 0 }),
  windowMinutes: Type.Integer({ minimum: 0 }),
  /** First time in bed inside the window (the window's start when already in bed). */
  inBedFrom: Type.Union([Instant, Type.Null()]),
  bedExits: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  longestOutOfBedMinutes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  outOfBed: Type.Array(OutOfBed),
  /** Times the door was opened inside the window; null when the resident has no door sensor. */
  doorOpenings: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  alarms: Type.Array(NightAlarm),
  verdict: Verdict,
  /** Why the verdict is what it is, in Norwegian Bokmål and English. */
  reason: Words,
});
export type NightSummary = Static<typeof NightSummary>;

export const NightSummaryList = Type.Object({ summaries: Type.Array(NightSummary) });

const Percentiles = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  p50: Type.Union([Type.Integer(), Type.Null()]),
  p90: Type.Union([Type.Integer(), Type.Null()]),
});

/** The nurse in charge's report over a range of nights for a site (or one resident). */
export const AlarmReport = Type.Object({
  siteId: Id,
  residentId: Type.Union([Id, Type.Null()]),
  from: NightDate,
  to: NightDate,
  timeZone: Type.String(),
  alarms: Type.Integer({ minimum: 0 }),
  /** Received → acknowledged (or resolved without acknowledging), ms, nearest-rank percentiles. */
  responseMs: Percentiles,
  nights: Type.Array(
    Type.Object({
      night: NightDate,
      /** Whether the site was watched that night (night summaries exist, or alarms were raised). */
      watched: Type.Boolean(),
      alarms: Type.Integer({ minimum: 0 }),
      byRule: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
      /** Care alarms after which a nurse assisted (or did something else worth a note), or that were never closed. */
      physicalChecks: Type.Integer({ minimum: 0 }),
      noPhysicalCheckNeeded: Type.Boolean(),
    }),
  ),
  rules: Type.Array(
    Type.Object({
      rule: RuleId,
      alarms: Type.Integer({ minimum: 0 }),
      /** Alarms resolved with an outcome. */
      withOutcome: Type.Integer({ minimum: 0 }),
      falseAlarms: Type.Integer({ minimum: 0 }),
      /** falseAlarms / withOutcome; null when none has an outcome yet. */
      falseAlarmShare: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
      responseMs: Percentiles,
    }),
  ),
  /** Watched nights in which no alarm needed a physical check. */
  nightsWithoutPhysicalCheck: Type.Integer({ minimum: 0 }),
});
export type AlarmReport = Static<typeof AlarmReport>;

const Counts = Type.Object({ total: Type.Integer({ minimum: 0 }), byRule: Type.Record(Type.String(), Type.Integer({ minimum: 0 })) });

/** What-if: the alarms the recorded nights would have raised under the current and the proposed plan. */
export const WhatIfResult = Type.Object({
  siteId: Id,
  residentId: Id,
  /**
   * Whether the resident is armed now. Both plans are replayed as armed: arming follows the legal
   * basis and the plan's status, which a plan change does not touch.
   */
  armed: Type.Boolean(),
  /** Only these rules were compared; the care rules when the request named none. */
  rules: Type.Array(RuleId),
  nights: Type.Array(
    Type.Object({
      night: NightDate,
      /** Sensor events replayed for this resident this night. */
      events: Type.Integer({ minimum: 0 }),
      current: Counts,
      proposed: Counts,
      /** The alarms that were actually raised and stored for comparison. */
      recorded: Counts,
    }),
  ),
  totals: Type.Object({ current: Counts, proposed: Counts, recorded: Counts }),
});
export type WhatIfResult = Static<typeof WhatIfResult>;

export const CareRules = Type.Array(CareRuleId);

/** What a relative may see of one resident: never raw events, alarms' details or staff names. */
export const RelativeResident = Type.Object({
  siteId: Id,
  residentId: Id,
  name: Type.String(),
});
export const RelativeResidentList = Type.Object({ residents: Type.Array(RelativeResident) });

export const RelativeLastNight = Type.Object({
  siteId: Id,
  residentId: Id,
  name: Type.String(),
  /** Null when no summary of last night exists yet. */
  night: Type.Union([NightDate, Type.Null()]),
  verdict: Type.Union([Verdict, Type.Null()]),
  /** Last night in plain words, e.g. "Sov rolig, var oppe én gang kl. 03:12 i seks minutter." */
  text: Words,
});

export const RelativeTrend = Type.Object({
  siteId: Id,
  residentId: Id,
  name: Type.String(),
  nights: Type.Array(
    Type.Object({
      night: NightDate,
      verdict: Type.Union([Verdict, Type.Null()]),
      timeInBedMinutes: Type.Union([Type.Integer(), Type.Null()]),
      bedExits: Type.Union([Type.Integer(), Type.Null()]),
      alarms: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});
