import { type Static, Type } from '@sinclair/typebox';
import { Id, Instant } from './ids.js';
import { Priority } from './site-config.js';
import { validator } from './validation.js';

/** Care rules, decided from a resident's supervision plan. */
export const CareRuleId = Type.Union([
  Type.Literal('bed-exit'),
  Type.Literal('out-of-bed-too-long'),
  Type.Literal('door-open-at-night'),
  Type.Literal('door-left-open'),
  Type.Literal('not-in-bed-by'),
]);
/** Technical alarms, on every sensor: protection is weakened, someone must look at the sensor. */
export const TechnicalRuleId = Type.Union([
  Type.Literal('sensor-silent'),
  Type.Literal('sensor-offline'),
  Type.Literal('low-battery'),
  Type.Literal('tamper'),
  Type.Literal('flapping'),
]);
export const RuleId = Type.Union([...CareRuleId.anyOf, ...TechnicalRuleId.anyOf]);
export type RuleId = Static<typeof RuleId>;

/**
 * An alarm as decided by a gateway's rule engine. The evidence is structured, so that every
 * client can explain it in its own language.
 */
export const AlarmDecision = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    siteId: Id,
    /** Absent only for a technical alarm of a sensor in a room without a resident. */
    residentId: Type.Optional(Id),
    roomId: Id,
    sensorId: Id,
    rule: RuleId,
    priority: Priority,
    /** On the site clock: when the condition became an alarm. */
    raisedAt: Instant,
    /** On the gateway's wall clock: when the decision was made (latency measurement). */
    decidedAt: Instant,
    evidence: Type.Object(
      {
        eventIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
        /** When the condition started (door opened, left the bed). */
        since: Instant,
        thresholdMinutes: Type.Optional(Type.Integer({ minimum: 0 })),
        nightWindow: Type.Optional(Type.Object({ start: Type.String(), end: Type.String() })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type AlarmDecision = Static<typeof AlarmDecision>;
export const alarmDecision = validator(AlarmDecision);

/** The gateway saw the condition end (back in bed, door closed). It never closes the alarm. */
export const ConditionCleared = Type.Object(
  { alarmId: Type.String({ minLength: 1, maxLength: 64 }), siteId: Id, clearedAt: Instant, eventId: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
export type ConditionCleared = Static<typeof ConditionCleared>;

export const AlarmStatus = Type.Union([Type.Literal('active'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
export type AlarmStatus = Static<typeof AlarmStatus>;

export const Outcome = Type.Union([
  Type.Literal('assisted'),
  Type.Literal('back-by-themselves'),
  Type.Literal('false-alarm'),
  Type.Literal('other'),
]);
export type Outcome = Static<typeof Outcome>;

/** An alarm as the server keeps it: the decision plus its lifecycle. `seq` grows with every change. */
export const Alarm = Type.Object({
  ...AlarmDecision.properties,
  seq: Type.Integer({ minimum: 1 }),
  status: AlarmStatus,
  residentName: Type.String(),
  roomName: Type.String(),
  receivedAt: Instant,
  conditionClearedAt: Type.Union([Instant, Type.Null()]),
  acknowledgedAt: Type.Union([Instant, Type.Null()]),
  acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
  resolvedAt: Type.Union([Instant, Type.Null()]),
  resolvedBy: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Outcome, Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
});
export type Alarm = Static<typeof Alarm>;

export const StaffName = Type.String({ minLength: 1, maxLength: 60 });

export const AcknowledgeCommand = Type.Object(
  { alarmId: Type.String({ minLength: 1, maxLength: 64 }), by: StaffName },
  { additionalProperties: false },
);
export type AcknowledgeCommand = Static<typeof AcknowledgeCommand>;

export const ResolveCommand = Type.Object(
  {
    alarmId: Type.String({ minLength: 1, maxLength: 64 }),
    by: StaffName,
    outcome: Outcome,
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type ResolveCommand = Static<typeof ResolveCommand>;
export const acknowledgeCommand = validator(AcknowledgeCommand);
export const resolveCommand = validator(ResolveCommand);
