/**
 * The legal basis and the status of a resident's supervision, the nurse in charge's evaluation
 * reminders, and the "unprotected tonight" view: the shapes the server's REST API and the /staff
 * namespace send, and the web app reads.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Id, Instant } from './ids.js';
import { SensorKind } from './site-config.js';

/** A calendar date `YYYY-MM-DD`, read in the site's time zone. */
export const LocalDate = Type.String({
  pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'calendar date YYYY-MM-DD (site time zone)',
});
export type LocalDate = Static<typeof LocalDate>;

/** Who gave a consent: the resident, or the guardian (verge) on the resident's behalf. */
export const ConsentGiver = Type.Union([Type.Literal('resident'), Type.Literal('guardian')]);

/** A recorded consent of the resident (or guardian) to digital supervision. */
export const ConsentInput = Type.Object(
  {
    kind: Type.Literal('consent'),
    givenBy: ConsentGiver,
    /** The guardian's name; required when `givenBy` is `guardian`. */
    guardianName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    /** The day the consent was given (not in the future). */
    consentedOn: LocalDate,
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

/** A formal decision (vedtak) under pasient- og brukerrettighetsloven § 4-6 a. */
export const VedtakInput = Type.Object(
  {
    kind: Type.Literal('vedtak'),
    /** The day of the decision (not in the future). */
    decidedOn: LocalDate,
    /** The day the decision is to be evaluated next; after `decidedOn`. */
    nextEvaluationOn: LocalDate,
    /** The case or journal reference of the decision. */
    reference: Type.String({ minLength: 1, maxLength: 120 }),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const LegalBasisInput = Type.Union([ConsentInput, VedtakInput]);
export type LegalBasisInput = Static<typeof LegalBasisInput>;

/**
 * The request body that records a legal basis: `ConsentInput` or `VedtakInput` as one object, so
 * a refusal can name the missing field of the kind chosen (a union's errors name every variant).
 */
export const LegalBasisBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('consent'), Type.Literal('vedtak')]),
    givenBy: Type.Optional(ConsentGiver),
    guardianName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    consentedOn: Type.Optional(LocalDate),
    decidedOn: Type.Optional(LocalDate),
    nextEvaluationOn: Type.Optional(LocalDate),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  {
    additionalProperties: false,
    description: 'consent: givenBy, consentedOn (and guardianName for a guardian); vedtak: decidedOn, nextEvaluationOn, reference',
  },
);
export type LegalBasisBody = Static<typeof LegalBasisBody>;

/** Where a vedtak stands against its evaluation date; a consent is always `not-applicable`. */
export const EvaluationState = Type.Union([
  Type.Literal('not-applicable'),
  Type.Literal('ok'),
  Type.Literal('due'),
  Type.Literal('overdue'),
]);
export type EvaluationState = Static<typeof EvaluationState>;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One recorded legal basis, current (`endedAt` null) or of the past. */
export const LegalBasis = Type.Object({
  id: Type.String(),
  residentId: Id,
  kind: Type.Union([Type.Literal('consent'), Type.Literal('vedtak')]),
  givenBy: Nullable(ConsentGiver),
  guardianName: Nullable(Type.String()),
  consentedOn: Nullable(LocalDate),
  decidedOn: Nullable(LocalDate),
  nextEvaluationOn: Nullable(LocalDate),
  reference: Nullable(Type.String()),
  note: Nullable(Type.String()),
  recordedBy: Type.String({ description: 'display name of who recorded it' }),
  recordedAt: Instant,
  /** The last recorded evaluation of a vedtak. */
  evaluatedOn: Nullable(LocalDate),
  endedAt: Nullable(Instant),
  endedBy: Nullable(Type.String()),
  endReason: Nullable(Type.String()),
  evaluation: EvaluationState,
});
export type LegalBasis = Static<typeof LegalBasis>;

export const PlanState = Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('ended')]);
export type PlanState = Static<typeof PlanState>;

/** Whether a resident's plan runs. A plan never changed is `active` with nulls. */
export const PlanStatus = Type.Object({
  state: PlanState,
  reason: Nullable(Type.String()),
  /** A pause ends by itself at this instant (the plan becomes active again); null: until resumed. */
  until: Nullable(Instant),
  changedBy: Nullable(Type.String()),
  changedAt: Nullable(Instant),
});
export type PlanStatus = Static<typeof PlanStatus>;

/** A vedtak whose evaluation is due within the reminder window, or overdue. */
export const EvaluationReminder = Type.Object({
  residentId: Id,
  residentName: Type.String(),
  roomId: Id,
  roomName: Type.String(),
  legalBasisId: Type.String(),
  reference: Type.String(),
  decidedOn: LocalDate,
  nextEvaluationOn: LocalDate,
  /** Days from today (site time zone) to the evaluation date; negative when overdue. */
  daysLeft: Type.Integer(),
  state: Type.Union([Type.Literal('due'), Type.Literal('overdue')]),
});
export type EvaluationReminder = Static<typeof EvaluationReminder>;

/** The evaluation reminders of one site (REST, and the `/staff` event for the nurse in charge). */
export const EvaluationReminders = Type.Object({
  siteId: Id,
  /** Today in the site's time zone. */
  today: LocalDate,
  /** An evaluation counts as due this many days ahead. */
  withinDays: Type.Integer({ minimum: 0 }),
  reminders: Type.Array(EvaluationReminder),
});
export type EvaluationReminders = Static<typeof EvaluationReminders>;

/** Why a resident's protection is weakened. `unprotected`: some or all of the resident's alarms cannot be raised. */
export const UnprotectedCode = Type.Union([
  Type.Literal('no-legal-basis'),
  Type.Literal('plan-paused'),
  Type.Literal('plan-ended'),
  Type.Literal('evaluation-overdue'),
  Type.Literal('evaluation-due'),
  Type.Literal('sensor-missing'),
  Type.Literal('sensor-never-seen'),
  Type.Literal('sensor-offline'),
  Type.Literal('sensor-silent'),
  Type.Literal('low-battery'),
  Type.Literal('technical-alarm'),
]);
export type UnprotectedCode = Static<typeof UnprotectedCode>;

export const UnprotectedReason = Type.Object({
  code: UnprotectedCode,
  /** `unprotected`: alarms of this resident (all, or those of one sensor) cannot be raised; `weakened`: they can, but act now. */
  severity: Type.Union([Type.Literal('unprotected'), Type.Literal('weakened')]),
  sensorId: Type.Optional(Id),
  sensorKind: Type.Optional(SensorKind),
  /** Since when (plan paused or ended, sensor last heard from). */
  since: Type.Optional(Instant),
  /** A pause ends by itself at this instant. */
  until: Type.Optional(Instant),
  /** The evaluation date of the vedtak. */
  date: Type.Optional(LocalDate),
  /** Days to the evaluation date; negative when overdue. */
  days: Type.Optional(Type.Integer()),
  /** The silence limit of the sensor, in minutes. */
  minutes: Type.Optional(Type.Integer()),
  battery: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  /** Why the plan was paused or ended, as the nurse wrote it. */
  reason: Type.Optional(Type.String()),
  /** The open technical alarm behind this reason. */
  alarmId: Type.Optional(Type.String()),
  rule: Type.Optional(Type.String()),
});
export type UnprotectedReason = Static<typeof UnprotectedReason>;

export const UnprotectedResident = Type.Object({
  residentId: Id,
  residentName: Type.String(),
  roomId: Id,
  roomName: Type.String(),
  /** Whether the gateway raises this resident's care alarms at all. */
  armed: Type.Boolean(),
  planState: PlanState,
  /** `none` when any reason is `unprotected`, else `weakened`. */
  protection: Type.Union([Type.Literal('none'), Type.Literal('weakened')]),
  reasons: Type.Array(UnprotectedReason),
});
export type UnprotectedResident = Static<typeof UnprotectedResident>;

/** The "Unprotected tonight" panel: every resident of the site whose protection is weakened. */
export const UnprotectedView = Type.Object({
  siteId: Id,
  /** When this was computed (site clock when the gateway sends one, else the server's). */
  generatedAt: Instant,
  today: LocalDate,
  /** Residents of the site in all, and how many of them are armed. */
  residentCount: Type.Integer({ minimum: 0 }),
  armedCount: Type.Integer({ minimum: 0 }),
  /** Residents with no protection first, then weakened; by room name. */
  residents: Type.Array(UnprotectedResident),
});
export type UnprotectedView = Static<typeof UnprotectedView>;
