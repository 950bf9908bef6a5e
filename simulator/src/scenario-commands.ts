import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import { demoWard, MAX_DEMO_RESIDENTS } from './demo-ward.js';
import { type LoadProgress, runLoad } from './load.js';
import { fetchRecording, parseRecording, planReplay, type ReplayDevice, replayScenario } from './replay.js';
import { describeAlarm, describeDifferences, localTime } from './scenario/compare.js';
import { type CompiledScenario, compileScenario } from './scenario/load-scenario.js';
import { ScenarioError } from './scenario/scenario-errors.js';
import { type VerifyOptions, type VerifyProgress, type VerifyResult, verifyScenario } from './scenario/verify.js';
import { runDailySelfTest, runSelfTest, type SelfTestResult } from './self-test.js';

/** What the scenario commands need of the command line's I/O (see command-line.ts). */
export interface ScenarioCommandIo {
  out(text: string): void;
  err(text: string): void;
  signal: AbortSignal;
  progressEveryMs?: number;
}

/** A mistake in the command line: exit code 2 with the command's help pointer. */
export class ScenarioUsageError extends Error {}

const PROGRAM = 'node simulator/dist/src/cli.js';

export const SCENARIO_HELP = {
  check: `Usage: ${PROGRAM} check FILE... [--print site|zigbee2mqtt|messages] [--night DATE]

Checks scenario files (YAML or JSON) against the schema and plans their nights. A bad file gets
one line per problem: file:line:column: /field: what is wrong. Exit code 0 when all are good, 1 if not.

  --print site         the scenario's site configuration (JSON), to give the gateway and the server
  --print zigbee2mqtt  the gateway configuration's zigbee2mqtt section for its Zigbee2MQTT sensors
  --print messages     the planned messages as JSON lines
  --night DATE         plan the scenario on another evening date (YYYY-MM-DD)

Examples:
  ${PROGRAM} check simulator/scenarios/*.yaml
  ${PROGRAM} check simulator/scenarios/door-open-at-night.yaml --print site > site.json
`,
  verify: `Usage: ${PROGRAM} verify FILE --url mqtt://host:port [--username U] [--password P]
         [--bridge-username U] [--bridge-password P] [--step 5] [--speed 0] [--night DATE] [--json]

Runs a scenario against a running gateway and prints PASS or FAIL with the differences between
the alarms expected and the alarms raised. Exit code 0 on PASS, 1 on FAIL.

The gateway must run the scenario's site configuration (check --print site) with clock
"simulated": verify drives its clock through the night in steps of --step simulated seconds and to
the instant of every message, and reads the decisions on nattevakt/v1/{site}/alarms. A simulated
clock never runs back: to run again on the same gateway, give a later --night, or restart it.

  --url URL               the gateway's MQTT broker
  --username, --password  a broker device with role simulator (or NATTEVAKT_MQTT_USERNAME / _PASSWORD)
  --bridge-username, --bridge-password
                          a device with role bridge for the Zigbee2MQTT sensors (or NATTEVAKT_BRIDGE_USERNAME / _PASSWORD);
                          without one they go over the first connection, as a demo broker allows
  --step S                simulated seconds between clock messages (default 5): alarms are at most this late
  --speed X               simulated seconds per real second; 0 (default) as fast as the gateway acknowledges
  --night DATE            play the scenario on this evening date instead of its own
  --health URL            the gateway's health endpoint: refuse to start when its clock is already past the scenario
  --json                  print the result as JSON

Examples:
  ${PROGRAM} verify simulator/scenarios/door-open-at-night.yaml --url mqtt://127.0.0.1:1884
  ${PROGRAM} verify my-ward-fall.yaml --url mqtts://gw.local:8883 --username sim --night 2026-12-01
`,
  replay: `Usage: ${PROGRAM} replay FILE --url mqtt://host:port [--gateway-config gateway.json] [--timezone Europe/Oslo]
       ${PROGRAM} replay --server URL --site ID --from ISO --to ISO --login U --login-password P --url mqtt://host:port

Plays a recorded night back into a gateway (clock "simulated") to reproduce an incident, and prints
every alarm the gateway raises. The recording is what the server's events route exports
(GET /api/sites/{site}/events?from&to: {"events": [...]}), as a file (pages as JSON lines are fine)
or fetched from the server (logged in as staff of the site). Each event is published again at the
site time it was received, with the bytes the sensor sent. Zigbee2MQTT events go back out on their
device's topic when --gateway-config names the devices, else as native messages.

  --url, --username, --password, --bridge-username, --bridge-password, --step, --speed   as for verify
  --gateway-config FILE   the gateway's configuration, for its zigbee2mqtt devices
  --timezone ZONE         the site's time zone, for the times printed (default Europe/Oslo)
  --json                  print the alarms as JSON lines

Examples:
  curl -b cookie.txt 'http://server:8080/api/sites/demo/events?from=2026-11-24T21:00:00Z&to=2026-11-25T06:00:00Z&limit=10000' > night.json
  ${PROGRAM} replay night.json --url mqtt://127.0.0.1:1884
  ${PROGRAM} replay --server http://127.0.0.1:8080 --site demo --from 2026-11-25T02:00:00Z --to 2026-11-25T03:00:00Z \\
      --login tekniker --url mqtt://127.0.0.1:1884
`,
  load: `Usage: ${PROGRAM} load --url mqtt://host:port [--sensors 48] [--rate 100] [--seconds 30] [--alarm-every 50]
       [--site demo] [--no-clock] [--server URL --login U --login-password P] [--print-site] [--json]

Load mode: N sensors publish at R messages a second (all together) for T seconds, with a progress
bar, then a summary: sent, accepted (PUBACK from the gateway), alarms decided and delivered, and
the latency p50 / p99 from a door opening to the gateway's decision and to a /staff client of the
server. The ward is the demo ward with N/2 rooms (a bed mat and a door contact each): load the same
one into the gateway and the server (--print-site prints it).

  --sensors N             sensors, an even number (default 48)
  --rate R                messages a second, all sensors together (default 100)
  --seconds T             how long to publish (default 30)
  --alarm-every K         every K-th message opens a door, raising door-open-at-night (default 50; 0 for none)
  --site ID               the site id (default demo)
  --no-clock              the gateway runs on the system clock: publish no simulated clock (alarms only in the night window)
  --server URL            the server, for a /staff client that measures end-to-end latency
  --login U, --login-password P   a nurse of the site (or NATTEVAKT_LOGIN_PASSWORD)
  --print-site            print the ward (site configuration JSON) and exit
  --json                  print the summary as JSON

Examples:
  ${PROGRAM} load --sensors 48 --print-site > load-ward.json
  ${PROGRAM} load --url mqtt://127.0.0.1:1884 --sensors 48 --rate 200 --seconds 60 \\
      --server http://127.0.0.1:8080 --login sykepleier --login-password "$NURSE_PASSWORD"
`,
  selftest: `Usage: ${PROGRAM} selftest --url mqtt://host:port --site ID --sensor ID --server URL --login U
       [--login-password P] [--once | --at 10:00 [--timezone Europe/Oslo]] [--confirm-within 120] [--json]

The chain self-test: the self-test sensor's tamper switch (a sensor of the site in a room without a
resident, e.g. "selvtest" in a room "Selvtest") through the gateway and the server to a tablet's
delivery confirmation, timed stage by stage. Passed: the test alarm is resolved on the server by the
logged-in user with the timings in its note (the alarm's history is the maintenance record). Failed
or late: the alarm stays open on the ward board as a technical alarm, and the result says which stage
failed. --once runs it now (exit code 0 or 1); --at runs it every day at that local time until
SIGINT/SIGTERM, with the sensor's heartbeat every 8 minutes in between, one JSON line per run.

  --url, --username, --password   the gateway's broker, a device with role simulator
  --site ID, --sensor ID          the site and its self-test sensor (--kind door or bed, default door)
  --server URL, --login U, --login-password P (or NATTEVAKT_LOGIN_PASSWORD)   a nurse or admin of the site
  --confirm-within S              seconds a tablet has to confirm delivery (default 120)
  --no-report                     do not record the result in the server's maintenance log
                                  (POST /api/sites/{site}/self-tests; the server raises self-test-missed
                                  when no result comes by the site's daily deadline)

Examples:
  ${PROGRAM} selftest --url mqtt://127.0.0.1:1884 --site demo --sensor selvtest --server http://127.0.0.1:8080 --login selvtest --once
  ${PROGRAM} selftest --url mqtt://127.0.0.1:1884 --site demo --sensor selvtest --server http://127.0.0.1:8080 --login selvtest --at 10:00
`,
} as const;

const mqttFlags = {
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'bridge-username': { type: 'string' },
  'bridge-password': { type: 'string' },
  step: { type: 'string', default: '5' },
  speed: { type: 'string', default: '0' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SCENARIO_COMMANDS = {
  check: { print: { type: 'string' }, night: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  verify: { ...mqttFlags, night: { type: 'string' }, health: { type: 'string' } },
  replay: {
    ...mqttFlags,
    'gateway-config': { type: 'string' },
    timezone: { type: 'string', default: 'Europe/Oslo' },
    server: { type: 'string' },
    site: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    login: { type: 'string' },
    'login-password': { type: 'string' },
  },
  selftest: {
    url: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    site: { type: 'string' },
    sensor: { type: 'string' },
    kind: { type: 'string', default: 'door' },
    server: { type: 'string' },
    login: { type: 'string' },
    'login-password': { type: 'string' },
    once: { type: 'boolean', default: false },
    at: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    timezone: { type: 'string', default: 'Europe/Oslo' },
    'confirm-within': { type: 'string', default: '120' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  load: {
    url: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    sensors: { type: 'string', default: '48' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    'alarm-every': { type: 'string', default: '50' },
    site: { type: 'string', default: 'demo' },
    'no-clock': { type: 'boolean', default: false },
    server: { type: 'string' },
    login: { type: 'string' },
    'login-password': { type: 'string' },
    'print-site': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
} as const;

export type ScenarioCommandName = keyof typeof SCENARIO_COMMANDS;
export const isScenarioCommand = (name: string): name is ScenarioCommandName => name in SCENARIO_COMMANDS;

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

/** Runs check, verify, replay, load or selftest; resolves with the exit code. */
export async function runScenarioCommand(name: ScenarioCommandName, args: string[], io: ScenarioCommandIo): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: SCENARIO_COMMANDS[name], strict: true, allowPositionals: true }) as typeof parsed;
  } catch (error) {
    throw new ScenarioUsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.out(SCENARIO_HELP[name]);
    return EXIT_OK;
  }
  switch (name) {
    case 'check':
      return checkCommand(values, positionals, io);
    case 'verify':
      return verifyCommand(values, positionals, io);
    case 'replay':
      return replayCommand(values, positionals, io);
    case 'load':
      return loadCommand(values, io);
    case 'selftest':
      return selfTestCommand(values, io);
    default: {
      const exhaustive: never = name;
      throw new Error(`unknown command ${String(exhaustive)}`);
    }
  }
}

type Values = Record<string, string | boolean | undefined>;
const text = (values: Values, key: string): string | undefined => (typeof values[key] === 'string' ? (values[key] as string) : undefined);

/** Reads and compiles a scenario file; a bad file is a ScenarioError with every problem and its line. */
export async function loadScenarioFile(file: string, night?: string): Promise<CompiledScenario> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScenarioUsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return compileScenario(source, {
    file,
    readSiteFile: (name) => readFileSync(resolve(dirname(file), name), 'utf8'),
    ...(night !== undefined ? { night } : {}),
  });
}

function nightFlag(values: Values): string | undefined {
  const night = text(values, 'night');
  if (night !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(night))
    throw new ScenarioUsageError(`--night "${night}": expected an evening date YYYY-MM-DD`);
  return night;
}

async function checkCommand(values: Values, files: string[], io: ScenarioCommandIo): Promise<number> {
  if (files.length === 0) throw new ScenarioUsageError('check: give one or more scenario files');
  const print = text(values, 'print');
  if (print !== undefined && !['site', 'zigbee2mqtt', 'messages'].includes(print)) {
    throw new ScenarioUsageError(`--print "${print}": expected site, zigbee2mqtt or messages`);
  }
  if (print !== undefined && files.length > 1) throw new ScenarioUsageError('--print takes one scenario file');
  const night = nightFlag(values);
  let bad = 0;
  for (const file of files) {
    try {
      const scenario = await loadScenarioFile(file, night);
      if (print === 'site') io.out(`${JSON.stringify(scenario.site, null, 2)}\n`);
      else if (print === 'zigbee2mqtt') io.out(`${JSON.stringify({ zigbee2mqtt: scenario.zigbee2mqtt }, null, 2)}\n`);
      else if (print === 'messages') io.out(scenario.messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
      else {
        io.out(
          `ok   ${file}: ${scenario.name}, ${scenario.messages.length} messages ${localTime(scenario.from, scenario.clock)}–${localTime(scenario.to, scenario.clock)}, ` +
            `${scenario.expectations.length} expected, ${scenario.forbidden.length} forbidden\n`,
        );
      }
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      bad++;
      io.out(`bad  ${error.message.split('\n').join('\n     ')}\n`);
    }
  }
  return bad === 0 ? EXIT_OK : EXIT_FAILURE;
}

function mqttOptions(values: Values): Pick<VerifyOptions, 'url' | 'username' | 'password' | 'bridge' | 'stepSeconds' | 'speed'> {
  const url = text(values, 'url');
  if (url === undefined) throw new ScenarioUsageError('--url is required: the gateway broker, e.g. mqtt://127.0.0.1:1884');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+/.test(url))
    throw new ScenarioUsageError(`--url "${url}": expected a broker URL such as mqtt://127.0.0.1:1884`);
  const step = Number(text(values, 'step'));
  if (!(step >= 0.1 && step <= 3600))
    throw new ScenarioUsageError(`--step "${text(values, 'step')}": expected simulated seconds from 0.1 to 3600`);
  const speed = Number(text(values, 'speed'));
  if (!(speed >= 0 && speed <= 100_000))
    throw new ScenarioUsageError(`--speed "${text(values, 'speed')}": expected 0 (as fast as possible) up to 100000`);
  const username = text(values, 'username') ?? process.env.NATTEVAKT_MQTT_USERNAME;
  const password = text(values, 'password') ?? process.env.NATTEVAKT_MQTT_PASSWORD;
  const bridgeUsername = text(values, 'bridge-username') ?? process.env.NATTEVAKT_BRIDGE_USERNAME;
  const bridgePassword = text(values, 'bridge-password') ?? process.env.NATTEVAKT_BRIDGE_PASSWORD;
  return {
    url,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(bridgeUsername !== undefined
      ? { bridge: { username: bridgeUsername, ...(bridgePassword !== undefined ? { password: bridgePassword } : {}) } }
      : {}),
    stepSeconds: step,
    speed,
  };
}

const progressLine = (scenario: CompiledScenario, io: ScenarioCommandIo) => (p: VerifyProgress) => {
  const percent = String(Math.floor(p.fraction * 100)).padStart(3);
  io.err(`[verify] ${localTime(p.simTime, scenario.clock)} ${percent}% sendt ${p.sent} meldinger, ${p.alarms} alarmer\n`);
};

async function verifyCommand(values: Values, files: string[], io: ScenarioCommandIo): Promise<number> {
  if (files.length !== 1) throw new ScenarioUsageError('verify: give exactly one scenario file');
  const file = files[0] as string;
  const options = mqttOptions(values);
  let scenario: CompiledScenario;
  try {
    scenario = await loadScenarioFile(file, nightFlag(values));
  } catch (error) {
    if (error instanceof ScenarioError) {
      io.err(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
  io.err(
    `[verify] ${scenario.name}: ${scenario.messages.length} meldinger, ${localTime(scenario.from, scenario.clock)}–${localTime(scenario.to, scenario.clock)} natt ${scenario.clock.night} → ${options.url}\n`,
  );
  const health = text(values, 'health');
  const result = await verifyScenario(scenario, {
    ...options,
    ...(health !== undefined ? { healthUrl: health } : {}),
    signal: io.signal,
    progressEveryMs: io.progressEveryMs ?? 2000,
    onProgress: progressLine(scenario, io),
  });
  if (values.json === true) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else io.out(report(scenario, result));
  return result.passed ? EXIT_OK : EXIT_FAILURE;
}

/** PASS or FAIL, the differences, and every alarm raised. */
export function report(scenario: CompiledScenario, result: VerifyResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const lines = [
    `${result.aborted ? 'ABORTED' : result.passed ? 'PASS' : 'FAIL'} ${scenario.name}: ${result.alarms.length} alarm(s) raised, ${result.differences.length} difference(s), ${result.sent} messages in ${seconds} s`,
    ...describeDifferences(result.differences, scenario.clock).map((l) => `  ${l}`),
    ...(result.alarms.length > 0
      ? ['  raised:', ...result.alarms.map((a: AlarmDecision) => `    ${describeAlarm(a, scenario.clock)}`)]
      : []),
    ...(result.hint !== undefined ? [`  hint: ${result.hint}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

async function replayCommand(values: Values, files: string[], io: ScenarioCommandIo): Promise<number> {
  const options = mqttOptions(values);
  const server = text(values, 'server');
  let events: ReturnType<typeof parseRecording>;
  if (server !== undefined) {
    if (files.length > 0) throw new ScenarioUsageError('replay: give a file or --server, not both');
    const site = text(values, 'site');
    const from = text(values, 'from');
    const to = text(values, 'to');
    const login = text(values, 'login');
    const password = text(values, 'login-password') ?? process.env.NATTEVAKT_LOGIN_PASSWORD;
    if (site === undefined || from === undefined || to === undefined || login === undefined || password === undefined) {
      throw new ScenarioUsageError(
        'replay --server needs --site, --from, --to, --login and --login-password (or NATTEVAKT_LOGIN_PASSWORD)',
      );
    }
    events = await fetchRecording({ server, siteId: site, from, to, username: login, password });
    io.err(`[replay] hentet ${events.length} hendelser fra ${server}\n`);
  } else {
    if (files.length !== 1) throw new ScenarioUsageError('replay: give one recording file (or --server …)');
    const file = files[0] as string;
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch (error) {
      throw new ScenarioUsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    events = parseRecording(source);
  }
  const gatewayConfig = text(values, 'gateway-config');
  let zigbee2mqtt: { baseTopic?: string; devices: ReplayDevice[] } | undefined;
  if (gatewayConfig !== undefined) {
    const config = JSON.parse(await readFile(gatewayConfig, 'utf8')) as { zigbee2mqtt?: { baseTopic?: string; devices?: ReplayDevice[] } };
    zigbee2mqtt = {
      ...(config.zigbee2mqtt?.baseTopic !== undefined ? { baseTopic: config.zigbee2mqtt.baseTopic } : {}),
      devices: config.zigbee2mqtt?.devices ?? [],
    };
  }
  const timezone = text(values, 'timezone') ?? 'Europe/Oslo';
  const plan = planReplay(events, { ...(zigbee2mqtt !== undefined ? { zigbee2mqtt } : {}), timezone });
  const scenario = replayScenario(plan, { timezone });
  io.err(
    `[replay] ${plan.messages.length} meldinger for ${plan.siteId}, ${localTime(plan.from, scenario.clock)}–${localTime(plan.to, scenario.clock)}` +
      `${plan.converted > 0 ? ` (${plan.converted} Zigbee2MQTT-hendelser sendt som native meldinger)` : ''} → ${options.url}\n`,
  );
  const health = text(values, 'health');
  const result = await verifyScenario(scenario, {
    ...options,
    ...(health !== undefined ? { healthUrl: health } : {}),
    signal: io.signal,
    progressEveryMs: io.progressEveryMs ?? 2000,
    onProgress: progressLine(scenario, io),
  });
  if (values.json === true) io.out(result.alarms.map((a) => `${JSON.stringify(a)}\n`).join(''));
  else {
    io.out(
      `${result.alarms.length} alarm(s) raised by the replay:\n${result.alarms.map((a) => `  ${describeAlarm(a, scenario.clock)}\n`).join('')}`,
    );
    if (result.hint !== undefined) io.out(`hint: ${result.hint}\n`);
  }
  return EXIT_OK;
}

async function loadCommand(values: Values, io: ScenarioCommandIo): Promise<number> {
  const sensors = Number(text(values, 'sensors'));
  if (!Number.isInteger(sensors) || sensors < 2 || sensors % 2 !== 0 || sensors / 2 > MAX_DEMO_RESIDENTS) {
    throw new ScenarioUsageError(`--sensors "${text(values, 'sensors')}": expected an even number from 2 to ${MAX_DEMO_RESIDENTS * 2}`);
  }
  const siteId = text(values, 'site') ?? 'demo';
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(siteId))
    throw new ScenarioUsageError(`--site "${siteId}": expected lower-case letters, digits and dashes`);
  const site = demoWard({ residents: sensors / 2, siteId });
  if (values['print-site'] === true) {
    io.out(`${JSON.stringify(site, null, 2)}\n`);
    return EXIT_OK;
  }
  const url = text(values, 'url');
  if (url === undefined) throw new ScenarioUsageError('--url is required: the gateway broker, e.g. mqtt://127.0.0.1:1884');
  const rate = Number(text(values, 'rate'));
  if (!(rate > 0 && rate <= 100_000))
    throw new ScenarioUsageError(`--rate "${text(values, 'rate')}": expected messages a second, above 0 and at most 100000`);
  const seconds = Number(text(values, 'seconds'));
  if (!(seconds > 0 && seconds <= 86_400))
    throw new ScenarioUsageError(`--seconds "${text(values, 'seconds')}": expected above 0 and at most 86400`);
  const alarmEvery = Number(text(values, 'alarm-every'));
  if (!Number.isInteger(alarmEvery) || alarmEvery < 0)
    throw new ScenarioUsageError(`--alarm-every "${text(values, 'alarm-every')}": expected a whole number, 0 for none`);
  const server = text(values, 'server');
  const login = text(values, 'login');
  const loginPassword = text(values, 'login-password') ?? process.env.NATTEVAKT_LOGIN_PASSWORD;
  if (server !== undefined && (login === undefined || loginPassword === undefined)) {
    throw new ScenarioUsageError('--server needs --login and --login-password (or NATTEVAKT_LOGIN_PASSWORD): a nurse of the site');
  }
  const username = text(values, 'username') ?? process.env.NATTEVAKT_MQTT_USERNAME;
  const password = text(values, 'password') ?? process.env.NATTEVAKT_MQTT_PASSWORD;
  const checked = checkSiteConfig(site);
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  let lastBar = 0;
  const summary = await runLoad({
    site,
    url,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    rate,
    seconds,
    alarmEvery,
    clock: values['no-clock'] !== true,
    ...(server !== undefined && login !== undefined && loginPassword !== undefined
      ? { staff: { server, username: login, password: loginPassword } }
      : {}),
    signal: io.signal,
    onProgress: (p: LoadProgress) => {
      if (p.fraction < 1 && performance.now() - lastBar < (io.progressEveryMs ?? 1000)) return;
      lastBar = performance.now();
      io.err(`${progressBar(p)}\n`);
    },
  });
  if (values.json === true) {
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
    return EXIT_OK;
  }
  const latency = (l: typeof summary.decisionLatency) =>
    l === null ? 'n/a' : `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.count})`;
  io.out(
    [
      `load: ${summary.sensors} sensors at ${summary.rate}/s for ${summary.seconds} s (achieved ${summary.achievedRate}/s)`,
      `  sent       ${summary.sent}`,
      `  accepted   ${summary.accepted}`,
      `  alarms     ${summary.alarmsTriggered} triggered, ${summary.alarmsDecided} decided by the gateway, ${
        server === undefined ? 'no /staff client' : `${summary.alarmsDelivered} delivered to /staff`
      }`,
      `  latency    door → gateway decision: ${latency(summary.decisionLatency)}`,
      `             door → /staff client:    ${server === undefined ? 'no --server given' : latency(summary.staffLatency)}`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

/** [#########...........]  45%  13.4 s  sent 1345  accepted 1340  alarms 26 */
export function progressBar(p: LoadProgress): string {
  const width = 24;
  const filled = Math.round(Math.min(1, p.fraction) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(p.fraction * 100)).padStart(3)}%  ${(p.elapsedMs / 1000).toFixed(1)} s  sent ${p.sent}  accepted ${p.accepted}  alarms ${p.alarms}`;
}

async function selfTestCommand(values: Values, io: ScenarioCommandIo): Promise<number> {
  const need = (key: string, what: string): string => {
    const value = text(values, key);
    if (value === undefined) throw new ScenarioUsageError(`selftest: --${key} is required (${what})`);
    return value;
  };
  const url = need('url', 'the gateway broker, e.g. mqtt://127.0.0.1:1884');
  const siteId = need('site', 'the site id');
  const sensorId = need('sensor', 'the self-test sensor of the site');
  const server = need('server', 'the server, e.g. http://127.0.0.1:8080');
  const login = need('login', 'a nurse or admin of the site');
  const loginPassword = text(values, 'login-password') ?? process.env.NATTEVAKT_LOGIN_PASSWORD;
  if (loginPassword === undefined) throw new ScenarioUsageError('selftest: --login-password or NATTEVAKT_LOGIN_PASSWORD is required');
  const kind = text(values, 'kind');
  if (kind !== 'door' && kind !== 'bed') throw new ScenarioUsageError(`--kind "${kind}": expected door or bed`);
  const confirmWithin = Number(text(values, 'confirm-within'));
  if (!(confirmWithin >= 1 && confirmWithin <= 3600))
    throw new ScenarioUsageError(`--confirm-within "${text(values, 'confirm-within')}": expected seconds from 1 to 3600`);
  const at = text(values, 'at');
  if ((at === undefined) === (values.once !== true)) throw new ScenarioUsageError('selftest: give either --once or --at HH:MM');
  if (at !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(at)) throw new ScenarioUsageError(`--at "${at}": expected a local time HH:MM`);
  const username = text(values, 'username') ?? process.env.NATTEVAKT_MQTT_USERNAME;
  const password = text(values, 'password') ?? process.env.NATTEVAKT_MQTT_PASSWORD;
  const options = {
    url,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    siteId,
    sensorId,
    sensorKind: kind,
    server,
    login,
    loginPassword,
    confirmWithinMs: confirmWithin * 1000,
    onStage: (stage: string, ms: number) => io.err(`[selftest] ${stage} ${ms} ms\n`),
    report: values['no-report'] !== true,
  } as const;
  const show = (result: SelfTestResult) => {
    if (values.json === true || at !== undefined) io.out(`${JSON.stringify(result)}\n`);
    else
      io.out(
        result.ok
          ? `PASS self-test: gateway ${result.gatewayMs} ms, server ${result.serverMs} ms, tablet ${result.tabletMs} ms (${result.device})\n`
          : `FAIL self-test: ${result.failure}\n`,
      );
    if (result.reported === false) io.err(`[selftest] not recorded in the server's maintenance log: ${result.reportError}\n`);
  };
  if (at === undefined) {
    const result = await runSelfTest(options);
    show(result);
    return result.ok ? EXIT_OK : EXIT_FAILURE;
  }
  io.err(`[selftest] every day at ${at} (${text(values, 'timezone')}) until stopped\n`);
  await runDailySelfTest({ ...options, at, zone: text(values, 'timezone') ?? 'Europe/Oslo', signal: io.signal, onResult: show });
  return EXIT_OK;
}
