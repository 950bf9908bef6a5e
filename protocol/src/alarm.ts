import { type Static, Type } from '@sinclair/typebox';
import { Id, Instant } from './ids.js';
import { ClockTime, Priority, SensorKind } from './site-config.js';
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
/**
 * Technical alarms the server decides, with no sensor event behind them: the daily chain
 * self-test did not come in time (`self-test-missed`), or came and failed before the server saw
 * its test alarm (`self-test-failed`). Their `sensorId` and `roomId` are the self-test sensor's.
 */
export const ServerRuleId = Type.Union([Type.Literal('self-test-missed'), Type.Literal('self-test-failed')]);
/** What the gateway's rule engine decides: care and sensor-health rules. */
export const GatewayRuleId = Type.Union([...CareRuleId.anyOf, ...TechnicalRuleId.anyOf]);
export const RuleId = Type.Union([...CareRuleId.anyOf, ...TechnicalRuleId.anyOf, ...ServerRuleId.anyOf]);
export type RuleId = Static<typeof RuleId>;

/**
 * The plan setting behind an alarm: `minutes` (out-of-bed-too-long, door-left-open,
 * sensor-silent), `delaySeconds` and `graceSeconds` (bed-exit), `time` (not-in-bed-by),
 * `percent` (low-battery), `changesPerMinute` (flapping).
 */
export const AlarmSetting = Type.Object(
  {
    minutes: Type.Optional(Type.Integer({ minimum: 1 })),
    delaySeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    graceSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    time: Type.Optional(ClockTime),
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    changesPerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type AlarmSetting = Static<typeof AlarmSetting>;

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
        /** The plan setting that fired, as it was when the alarm was raised. */
        setting: Type.Optional(AlarmSetting),
        /** What the sensor measured: the battery percentage (low-battery), state changes in the last minute (flapping). */
        value: Type.Optional(Type.Integer({ minimum: 0 })),
        /** The kind of the sensor, on technical alarms, so a client can say "the door sensor" without the site configuration. */
        sensorKind: Type.Optional(SensorKind),
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

const AlarmExplanation = Type.Object({ title: Type.String(), detail: Type.String() });

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
  /**
   * Escalation when nobody acknowledges in time (per priority, set on the server): 0 = not
   * escalated; 1 = every nurse on the site alerted again, more urgently; 2 = the nurse in charge
   * alerted ("Varslet sykepleieleder"). Acknowledging or resolving stops it; the level stays.
   */
  escalationLevel: Type.Integer({ minimum: 0, maximum: 2 }),
  /** When the alarm reached its current escalation level; null while never escalated. */
  escalatedAt: Type.Union([Instant, Type.Null()]),
  /** When it escalates next unless someone acknowledges first (server clock); null when it will not. */
  nextEscalationAt: Type.Union([Instant, Type.Null()]),
  /** The alarm in words, in Norwegian Bokmål and English, as explained when it was raised. */
  explanation: Type.Union([Type.Object({ nb: AlarmExplanation, en: AlarmExplanation }), Type.Null()]),
});
export type Alarm = Static<typeof Alarm>;

/** The highest escalation level: the nurse in charge. */
export const MAX_ESCALATION_LEVEL = 2;

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

/**
 * A tablet's own id, chosen by the client (a UUID kept in localStorage) until devices are
 * registered with logins; it names the device in the delivery timeline.
 */
export const DeviceId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });

/**
 * Delivery confirmation (IHE PCD ACM): the tablet received this version (`seq`) of the alarm.
 * Sent for every `alarm` it receives live or by resync; idempotent per alarm and device.
 */
export const DeliveredCommand = Type.Object(
  { alarmId: Type.String({ minLength: 1, maxLength: 64 }), seq: Type.Integer({ minimum: 1 }), device: DeviceId },
  { additionalProperties: false },
);
export type DeliveredCommand = Static<typeof DeliveredCommand>;

/** Read receipt (IHE PCD ACM): the alarm is on the tablet's screen. Implies delivered. */
export const DisplayedCommand = Type.Object(
  { alarmId: Type.String({ minLength: 1, maxLength: 64 }), device: DeviceId },
  { additionalProperties: false },
);
export type DisplayedCommand = Static<typeof DisplayedCommand>;
export const deliveredCommand = validator(DeliveredCommand);
export const displayedCommand = validator(DisplayedCommand);
