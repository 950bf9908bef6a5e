import type { Static } from '@sinclair/typebox';
import type {
  AlarmDecision,
  CareRuleId as CareRuleIdSchema,
  ConditionCleared,
  TechnicalRuleId as TechnicalRuleIdSchema,
} from '../alarm.js';
import type { SensorEvent } from '../sensor-event.js';
import type { Priority, Resident, SensorConfig, SiteConfig } from '../site-config.js';

export type CareRuleId = Static<typeof CareRuleIdSchema>;
export type TechnicalRuleId = Static<typeof TechnicalRuleIdSchema>;

/** What the rule engine knows about one resident between events. */
export interface ResidentState {
  bed: { occupied: boolean | null; since: number | null; eventId: string | null; sensorId: string | null };
  door: { open: boolean | null; since: number | null; eventId: string | null; sensorId: string | null };
  /** Conditions that have raised an alarm and not yet cleared, by rule. */
  open: Map<CareRuleId, { alarmId: string; sensorId: string }>;
  /** not-in-bed-by: the daily check times at or after this instant are still to be made; null while the rule is off. */
  notInBedByFrom: number | null;
}

/** What the rule engine knows about one sensor between events. */
export interface SensorState {
  /** The first `now` the engine saw after the sensor appeared in the configuration: silence counts from here until it is heard. */
  watchedSince: number | null;
  /** The last message that shows the sensor is alive (anything but an `offline` availability). */
  heard: { at: number; eventId: string } | null;
  /** The last reported availability: null until reported. */
  online: boolean | null;
  /** The last reported bed or door value, to count changes. */
  value: boolean | null;
  /** The most recent changes of that value, oldest first (at most the flapping limit + 1). */
  changes: { at: number; eventId: string }[];
  /** Technical conditions that have raised an alarm and not yet cleared, by rule. */
  open: Map<TechnicalRuleId, { alarmId: string }>;
}

/** What a care rule raises: the engine adds ids, site, resident, room, rule and times. */
export interface CareRaise {
  sensorId: string;
  priority: Priority;
  since: number;
  eventIds: string[];
  evidence?: Omit<AlarmDecision['evidence'], 'eventIds' | 'since'>;
}

/** What a care rule gets to decide with, for one resident. `raise` and `clear` record decisions; rules never do I/O. */
export interface CareContext {
  readonly config: SiteConfig;
  readonly resident: Resident;
  readonly state: ResidentState;
  readonly now: number;
  raise(rule: CareRuleId, alarm: CareRaise): void;
  clear(rule: CareRuleId, eventId: string): void;
}

/**
 * What a rule's deadline may look at: no `now`, only the last time the engine saw (null before its first call).
 * A helper that `onTick` shares with `deadline` takes only the fields it reads, so `onTick` passes its own
 * context: a copy `{ ...ctx, lastNow }` per call got a V8 hidden class of its own every time (GC pressure).
 */
export interface CareDeadlineContext {
  readonly config: SiteConfig;
  readonly resident: Resident;
  readonly state: ResidentState;
  readonly lastNow: number | null;
}

/**
 * One care rule, judged per resident by their supervision plan. `onEvent` sees every event for the
 * resident with the state before it; `onTick` lets time pass; `deadline` says when `onTick` must
 * run next, and a tick at that instant always acts on it (raises, clears or moves on). Before its
 * deadline a tick must decide nothing: the engine's deadline index ticks a resident only when due
 * or touched by an event (engine-index.test.ts checks this against a full pass).
 */
export interface CareRule {
  readonly id: CareRuleId;
  onEvent(ctx: CareContext, event: SensorEvent): void;
  onTick(ctx: CareContext): void;
  deadline(ctx: CareDeadlineContext): number | null;
}

/** The technical thresholds that apply to one sensor, defaults filled in (see technical/settings.ts). */
export interface ResolvedTechnicalSettings {
  silentMinutes: number;
  lowBatteryPercent: number;
  batteryClearPercent: number;
  flappingChangesPerMinute: number;
}

export interface TechnicalRaise {
  since: number;
  eventIds: string[];
  evidence?: Omit<AlarmDecision['evidence'], 'eventIds' | 'since' | 'sensorKind'>;
}

/** What a technical rule gets to decide with, for one sensor. */
export interface TechnicalContext {
  readonly config: SiteConfig;
  readonly sensor: SensorConfig;
  readonly settings: ResolvedTechnicalSettings;
  readonly state: SensorState;
  readonly now: number;
  raise(rule: TechnicalRuleId, alarm: TechnicalRaise): void;
  clear(rule: TechnicalRuleId, eventId: string): void;
}

export interface TechnicalDeadlineContext {
  readonly sensor: SensorConfig;
  readonly settings: ResolvedTechnicalSettings;
  readonly state: SensorState;
  readonly lastNow: number | null;
}

/** One technical rule, judged per sensor whatever the plans say: a sensor that does not work protects nobody. */
export interface TechnicalRule {
  readonly id: TechnicalRuleId;
  onEvent(ctx: TechnicalContext, event: SensorEvent): void;
  onTick(ctx: TechnicalContext): void;
  deadline(ctx: TechnicalDeadlineContext): number | null;
}

export interface RuleOutput {
  raised: AlarmDecision[];
  cleared: ConditionCleared[];
}

/** A pending deadline, for diagnostics and tests: which rule, for whom, when. */
export interface Deadline {
  at: number;
  rule: CareRuleId | TechnicalRuleId;
  residentId?: string;
  sensorId?: string;
}
