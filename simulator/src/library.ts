/**
 * The simulator as a library: the engine behind the command line, for the technician page and
 * for tests. `import { compileScenario, verifyScenario } from '@nattevakt/simulator'`.
 *
 * - Nights: `planNight` (the behaviour model of a ward, in the sensors' wire formats), `playNight`
 *   (publish in accelerated time with the site clock), `demoWard`, `NightClock`, the profiles.
 * - Sensors: `sensorStream` (heartbeats, battery, faults), the wire formats (native, Zigbee2MQTT models).
 * - Scenarios: `compileScenario` (YAML/JSON → ward, messages, expectations; `ScenarioError` with
 *   line and field), `verifyScenario` (run against a gateway, compare), `compareAlarms`,
 *   `describeDifferences`, `report`.
 * - Replay: `parseRecording`, `fetchRecording`, `planReplay`, `replayScenario`.
 * - Load: `runLoad`, `staffClient`.
 * - Built-in scenarios: `builtInScenarios`, `builtInScenario` (the files of `simulator/scenarios/`).
 * - Self-test: `runSelfTest` (once, reported to the server's maintenance log), `runDailySelfTest`, `reportSelfTest`.
 */
export { NightClock } from './behaviour/night-clock.js';
export { type PlanNightOptions, planNight, type ResidentDirections } from './behaviour/plan-night.js';
export { assignProfiles, type BehaviourProfile, PROFILE_NAMES, PROFILES, type ProfileName } from './behaviour/profiles.js';
export { type BedExit, type ResidentNight, simulateResidentNight } from './behaviour/resident-night.js';
export { type DemoWardOptions, demoWard, MAX_DEMO_RESIDENTS } from './demo-ward.js';
export { type LatencySummary, type LoadOptions, type LoadProgress, type LoadSummary, runLoad, staffClient } from './load.js';
export { type PlayOptions, type PlayProgress, type PlaySummary, playNight } from './player.js';
export { fetchRecording, parseRecording, planReplay, ReplayError, type ReplayOptions, type ReplayPlan, replayScenario } from './replay.js';
export { BUILT_IN_SCENARIO_DIR, type BuiltInScenario, builtInScenario, builtInScenarios } from './scenario/built-in.js';
export { compareAlarms, type Difference, describeAlarm, describeDifferences, localTime } from './scenario/compare.js';
export {
  type CompiledExpectation,
  type CompiledForbidden,
  type CompiledScenario,
  type CompileOptions,
  compileScenario,
  duration,
} from './scenario/load-scenario.js';
export { formatProblem, ScenarioError, type ScenarioProblem } from './scenario/scenario-errors.js';
export { Scenario } from './scenario/scenario-schema.js';
export { type VerifyOptions, type VerifyProgress, type VerifyResult, verifyScenario } from './scenario/verify.js';
export { loadScenarioFile, report } from './scenario-commands.js';
export type { ScheduledMessage } from './scheduled-message.js';
export { nextDailyRun, reportSelfTest, runDailySelfTest, runSelfTest, type SelfTestOptions, type SelfTestResult } from './self-test.js';
export { type SensorFault, type SensorStreamOptions, sensorStream } from './sensors/sensor-stream.js';
export {
  encodeAvailability,
  encodeMalformed,
  encodeState,
  type MalformedVariant,
  type SensorWire,
  ZIGBEE2MQTT_MODEL_NAMES,
  ZIGBEE2MQTT_MODELS,
  type Zigbee2mqttModel,
  zigbee2mqttDeviceEntry,
} from './sensors/wire-format.js';
