/**
 * Commissioning and maintenance contracts: scenario runs from the technician's page, the chain
 * self-test's maintenance log, and the per-site settings they need. Shared by the server's
 * routes, the web app and the simulator (which reports its self-tests).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Instant } from './ids.js';
import { ClockTime } from './site-config.js';
import { validator } from './validation.js';

/** At most this many bytes of an uploaded scenario file (YAML or JSON). */
export const MAX_SCENARIO_BYTES = 48 * 1024;

const Milliseconds = Type.Integer({ minimum: 0, maximum: 86_400_000 });

/**
 * What the simulator's self-test reports to the server after each run (`POST
 * /api/sites/{site}/self-tests`): its result, timed stage by stage from the test message.
 */
export const SelfTestReport = Type.Object(
  {
    ok: Type.Boolean(),
    /** When the test started (wall clock of the machine that ran it). */
    at: Instant,
    sensorId: Type.Optional(Id),
    alarmId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    gatewayMs: Type.Optional(Milliseconds),
    serverMs: Type.Optional(Milliseconds),
    tabletMs: Type.Optional(Milliseconds),
    /** The tablet that confirmed delivery first. */
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Which stage failed, in words. */
    failure: Type.Optional(Type.String({ maxLength: 500 })),
    resolved: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SelfTestReport = Static<typeof SelfTestReport>;
export const selfTestReport = validator(SelfTestReport);

export const SelfTestStage = Type.Object({
  stage: Type.Union([Type.Literal('gateway'), Type.Literal('server'), Type.Literal('tablet')]),
  ms: Milliseconds,
});
export type SelfTestStage = Static<typeof SelfTestStage>;

/** One entry of a site's maintenance log: a self-test that came (passed or failed) or one that never came. */
export const SelfTestLogEntry = Type.Object({
  id: Type.String(),
  siteId: Id,
  /** When the test ran (reported), or when it was due (missed). */
  at: Instant,
  /** When the server recorded it (server clock). */
  recordedAt: Instant,
  result: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('missed')]),
  /** Came after the daily deadline (its time + grace), so the watch had already raised `self-test-missed`. */
  late: Type.Boolean(),
  stages: Type.Array(SelfTestStage),
  failure: Type.Union([Type.String(), Type.Null()]),
  /** The test alarm (passed, failed) or the technical alarm the server raised (missed, failed before the server). */
  alarmId: Type.Union([Type.String(), Type.Null()]),
  device: Type.Union([Type.String(), Type.Null()]),
  /** Who reported it (display name), or `server` for a missed test. */
  reportedBy: Type.String(),
});
export type SelfTestLogEntry = Static<typeof SelfTestLogEntry>;

/** When a site's self-test is expected every day (site time zone), and which sensor it uses. */
export const SelfTestSchedule = Type.Object(
  {
    at: ClockTime,
    graceMinutes: Type.Integer({ minimum: 1, maximum: 720, description: 'minutes after `at` before a missing test is an alarm' }),
    /** The self-test sensor (a sensor of the site in a room without a resident): the alarm names it and its room. */
    sensorId: Id,
  },
  { additionalProperties: false },
);
export type SelfTestSchedule = Static<typeof SelfTestSchedule>;

/** How the server reaches a site's gateway broker to run scenarios: a device with role `simulator` (and `bridge`). */
export const SimulatorConnectionInput = Type.Object(
  {
    url: Type.String({ pattern: '^mqtts?://[^\\s]+$', maxLength: 300, description: "the gateway's MQTT broker, mqtt:// or mqtts://" }),
    username: Type.String({ minLength: 1, maxLength: 100 }),
    /** Left out: keep the password already stored. */
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    bridgeUsername: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
    bridgePassword: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type SimulatorConnectionInput = Static<typeof SimulatorConnectionInput>;

/** The same as the server shows it: never a password, only whether one is stored. */
export const SimulatorConnectionView = Type.Object({
  url: Type.String(),
  username: Type.String(),
  passwordSet: Type.Boolean(),
  bridgeUsername: Type.Union([Type.String(), Type.Null()]),
  bridgePasswordSet: Type.Boolean(),
});
export type SimulatorConnectionView = Static<typeof SimulatorConnectionView>;

export const TestSettingsView = Type.Object({
  siteId: Id,
  simulator: Type.Union([SimulatorConnectionView, Type.Null()]),
  selfTest: Type.Union([SelfTestSchedule, Type.Null()]),
  updatedAt: Type.Union([Instant, Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
});
export type TestSettingsView = Static<typeof TestSettingsView>;

/** Run a built-in scenario by name, or an uploaded file (YAML or JSON). */
export const ScenarioRunRequest = Type.Union([
  Type.Object({ scenario: Type.String({ minLength: 1, maxLength: 80, pattern: '^[a-z0-9][a-z0-9-]*$' }) }, { additionalProperties: false }),
  Type.Object(
    {
      file: Type.String({ minLength: 1, maxLength: MAX_SCENARIO_BYTES }),
      fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    },
    { additionalProperties: false },
  ),
]);
export type ScenarioRunRequest = Static<typeof ScenarioRunRequest>;

export const ScenarioRunStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('passed'),
  Type.Literal('failed'),
  Type.Literal('error'),
]);
export type ScenarioRunStatus = Static<typeof ScenarioRunStatus>;

/** A scenario run and, once finished, its verdict. */
export const ScenarioRun = Type.Object({
  id: Type.String(),
  siteId: Id,
  scenario: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.Literal('built-in'), Type.Literal('upload')]),
  status: ScenarioRunStatus,
  startedAt: Instant,
  finishedAt: Type.Union([Instant, Type.Null()]),
  startedBy: Type.String(),
  /** The evening date it was played on (a simulated clock never runs back, so later runs move to later nights). */
  night: Type.String(),
  sent: Type.Integer({ minimum: 0 }),
  /** Every alarm the gateway raised, in words ("bed-exit res-1 bed-1 at 01:30:30"). */
  alarms: Type.Array(Type.String()),
  /** How the alarms differ from the scenario's expectations; empty on PASS. */
  differences: Type.Array(Type.Object({ kind: Type.String(), text: Type.String() })),
  /** Why the run could not finish (status `error`). */
  error: Type.Union([Type.String(), Type.Null()]),
  hint: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
});
export type ScenarioRun = Static<typeof ScenarioRun>;

/** Progress of a run, pushed over /staff to the technician who started it. */
export interface ScenarioProgress {
  runId: string;
  siteId: string;
  /** 0–1 through the scenario's night. */
  fraction: number;
  /** Site time reached (ISO). */
  simTime: string;
  sent: number;
  alarms: number;
}

/** A built-in scenario as the page lists it. */
export const ScenarioInfo = Type.Object({ name: Type.String(), title: Type.Union([Type.String(), Type.Null()]) });
export type ScenarioInfo = Static<typeof ScenarioInfo>;
