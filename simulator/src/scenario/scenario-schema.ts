import { RuleId } from '@nattevakt/protocol/alarm';
import { Id } from '@nattevakt/protocol/ids';
import { SiteConfig, TechnicalSettings } from '@nattevakt/protocol/site-config';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { PROFILE_NAMES } from '../behaviour/profiles.js';
import { MALFORMED_VARIANTS, ZIGBEE2MQTT_MODEL_NAMES } from '../sensors/wire-format.js';

/**
 * The scenario file format (YAML or JSON): what happens on a ward in one night, and which alarms
 * the ward must raise and must not raise. simulator/README.md ("Scenarios") describes it with
 * examples; simulator/scenarios/ holds the built-in ones.
 */

const literals = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

/** A moment of the night: local wall-clock time, or an exact instant for the hour that occurs twice at a DST change. */
export const ScenarioTime = Type.String({
  pattern: '^(([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))$',
  description: 'a local time "HH:MM" or "HH:MM:SS" (from 12:00 the evening, before 12:00 the morning after), or an ISO instant with offset',
});

/** A length of time: "90s", "20m", "1.5h". */
export const Duration = Type.String({
  pattern: '^\\d{1,5}(\\.\\d{1,3})?(s|m|h)$',
  description: 'a duration such as "90s", "20m" or "1.5h"',
});

const ResidentAction = <D extends string, P extends Record<string, TSchema>>(does: D, description: string, extra: P) =>
  Type.Object(
    { at: ScenarioTime, resident: Id, does: Type.Literal(does, { description }), note: Type.Optional(Type.String()), ...extra },
    {
      additionalProperties: false,
    },
  );

/** What a resident does at a moment of the night. */
export const ResidentActionItem = Type.Union([
  ResidentAction('toilet', 'out of bed to the toilet in the room, door closed, back after `for`', { for: Duration }),
  ResidentAction('walk-out', 'out of bed and out through the room door (opened once, about a minute later); back in bed after `for`', {
    for: Duration,
  }),
  ResidentAction('fall', 'out of bed and falls: does not come back unless helped back after `helpedAfter`', {
    helpedAfter: Type.Optional(Duration),
  }),
  ResidentAction('up', 'out of bed (sits in a chair, walks about the room); back after `for`, or not at all', {
    for: Type.Optional(Duration),
  }),
  ResidentAction('go-to-bed', 'goes to bed at this time (late): out of bed from the evening until then', {}),
  ResidentAction('get-up', 'gets up for the day at this time', {}),
  ResidentAction('restless', 'turns over often until `until`: short unloads of the mat that are no exit', {
    until: ScenarioTime,
    turnsPerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
  }),
  ResidentAction('turn-over', 'turns over once: the mat unloads for `seconds` (default 5)', {
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
  }),
  ResidentAction('open-door', 'the room door is opened (by the resident from bed, a visitor) and stays open for `for`', { for: Duration }),
]);
export type ResidentActionItem = Static<typeof ResidentActionItem>;

const SensorFault = <F extends string, P extends Record<string, TSchema>>(fault: F, description: string, extra: P) =>
  Type.Object(
    { at: ScenarioTime, sensor: Id, fault: Type.Literal(fault, { description }), note: Type.Optional(Type.String()), ...extra },
    { additionalProperties: false },
  );

/** What goes wrong with a sensor at a moment of the night. */
export const SensorFaultItem = Type.Union([
  SensorFault('silent', 'sends nothing (dead battery, lost radio) for `for`, or for the rest of the night', {
    for: Type.Optional(Duration),
  }),
  SensorFault('offline', 'reported offline (availability) and silent for `for`, or for the rest of the night', {
    for: Type.Optional(Duration),
  }),
  SensorFault('battery', 'the battery reads `percent` from now on (and drains on)', {
    percent: Type.Integer({ minimum: 0, maximum: 100 }),
  }),
  SensorFault('tamper', 'the case is opened (tamper switch) for `for`, or for the rest of the night', { for: Type.Optional(Duration) }),
  SensorFault('flapping', 'the state chatters `changesPerMinute` times a minute for `for`', {
    for: Duration,
    changesPerMinute: Type.Optional(Type.Integer({ minimum: 2, maximum: 120 })),
  }),
  SensorFault('malformed', 'one message the gateway must refuse', {
    variant: Type.Optional(literals(MALFORMED_VARIANTS, 'what is wrong with it')),
  }),
]);
export type SensorFaultItem = Static<typeof SensorFaultItem>;

export const TimelineItem = Type.Union([...ResidentActionItem.anyOf, ...SensorFaultItem.anyOf]);
export type TimelineItem = Static<typeof TimelineItem>;

/** Changes to one resident's supervision plan on top of the demo ward's (deep-merged). */
export const PlanPatch = Type.Object(
  {
    armed: Type.Optional(Type.Boolean()),
    nightWindow: Type.Optional(Type.Object({ start: Type.String(), end: Type.String() }, { additionalProperties: false })),
    rules: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    bedGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    technical: Type.Optional(TechnicalSettings),
  },
  { additionalProperties: false },
);
export type PlanPatch = Static<typeof PlanPatch>;

export const ScenarioSite = Type.Union(
  [
    Type.Literal('demo-ward', { description: 'the demo ward of 24 rooms (simulator ward)' }),
    Type.Object(
      {
        demoWard: Type.Object(
          {
            residents: Type.Integer({ minimum: 1, maximum: 500 }),
            siteId: Type.Optional(Id),
            timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        plans: Type.Optional(Type.Record(Id, PlanPatch)),
      },
      { additionalProperties: false },
    ),
    Type.Object({ config: SiteConfig }, { additionalProperties: false }),
    Type.Object(
      { file: Type.String({ minLength: 1, description: 'a site configuration JSON file, relative to the scenario file' }) },
      {
        additionalProperties: false,
      },
    ),
  ],
  { description: '"demo-ward", { demoWard: { residents }, plans }, { config: <site configuration> } or { file: ward.json }' },
);

export const SensorWireSpec = Type.Union([
  Type.Object({ format: Type.Literal('native') }, { additionalProperties: false }),
  Type.Object(
    {
      format: Type.Literal('zigbee2mqtt'),
      model: literals(ZIGBEE2MQTT_MODEL_NAMES, 'the Zigbee device model'),
      friendlyName: Type.Optional(
        Type.String({ minLength: 1, maxLength: 256, pattern: '^[^#+/\\u0000-\\u001f]+(/[^#+/\\u0000-\\u001f]+)*$' }),
      ),
      legacyAvailability: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);
export type SensorWireSpec = Static<typeof SensorWireSpec>;

const Who = {
  resident: Type.Optional(Id),
  sensor: Type.Optional(Id),
  room: Type.Optional(Id),
};

/** An alarm the ward must raise. */
export const Expectation = Type.Object(
  {
    rule: RuleId,
    ...Who,
    /** Raised at this moment, give or take `within` (default 1m). */
    at: Type.Optional(ScenarioTime),
    within: Type.Optional(Duration),
    /** Raised somewhere in [from, to]. */
    between: Type.Optional(Type.Tuple([ScenarioTime, ScenarioTime])),
    /** Exactly this many such alarms; at least one when left out. */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Expectation = Static<typeof Expectation>;

/** An alarm the ward must not raise; every field left out matches anything. */
export const Forbidden = Type.Object(
  {
    rule: Type.Optional(RuleId),
    ...Who,
    between: Type.Optional(Type.Tuple([ScenarioTime, ScenarioTime])),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Forbidden = Static<typeof Forbidden>;

export const Scenario = Type.Object(
  {
    name: Id,
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    site: ScenarioSite,
    /** Wire format per sensor id; native when left out. */
    sensors: Type.Optional(Type.Record(Id, SensorWireSpec)),
    /** Zigbee2MQTT's base topic, for sensors in that format. */
    zigbee2mqttBaseTopic: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    night: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the evening date YYYY-MM-DD' }),
    from: ScenarioTime,
    to: ScenarioTime,
    seed: Type.Optional(Type.Integer({ minimum: -1e15, maximum: 1e15 })),
    background: Type.Optional(
      literals(['quiet', 'model'], 'quiet: everyone sleeps, only the timeline happens; model: the behaviour model plays a whole night'),
    ),
    /** Falls by profile in a `model` background (off by default). */
    falls: Type.Optional(Type.Boolean()),
    profiles: Type.Optional(Type.Record(Id, literals(PROFILE_NAMES, 'a behaviour profile'))),
    timeline: Type.Array(TimelineItem, { maxItems: 10_000 }),
    expect: Type.Array(Expectation, { maxItems: 1000 }),
    forbid: Type.Optional(Type.Array(Forbidden, { maxItems: 1000 })),
    otherAlarms: Type.Optional(literals(['fail', 'ignore'], 'fail (default): an alarm that no expectation names fails the run')),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof Scenario>;
