import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import { DateTime } from 'luxon';
import { NightClock } from './behaviour/night-clock.js';
import { planNight } from './behaviour/plan-night.js';
import { demoWard, MAX_DEMO_RESIDENTS } from './demo-ward.js';
import { type PlayProgress, playNight } from './player.js';
import { isScenarioCommand, runScenarioCommand, ScenarioUsageError } from './scenario-commands.js';
import type { ScheduledMessage } from './scheduled-message.js';

/** Where the command line writes, and what stops it: the process in production, buffers in tests. */
export interface CommandLineIo {
  out(text: string): void;
  err(text: string): void;
  /** Aborted on SIGINT/SIGTERM: `play` disconnects and returns. */
  signal: AbortSignal;
  /** Wall clock, for `--night today`. */
  now(): number;
  /** Real ms between progress lines of `play`. */
  progressEveryMs?: number;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line: said with the flag and what is expected, exit code 2. */
class UsageError extends Error {}

const PROGRAM = 'node simulator/dist/src/cli.js';

const HELP = `Nattevakt simulator: a night on a nursing-home ward, as bed and door sensors report it over MQTT.

Usage:
  ${PROGRAM} ward [--residents 24] [--site demo] [--name "…"] [--timezone Europe/Oslo]
  ${PROGRAM} plan --config ward.json [--seed 1] [--night today] [--from 22:00] [--to 07:00]
  ${PROGRAM} play --config ward.json --url mqtt://host:port [--seed 1] [--night today]
                  [--from 22:00] [--to 07:00] [--speed 30] [--loop] [--username u] [--password p]

  ${PROGRAM} check FILE... [--print site|zigbee2mqtt|messages]
  ${PROGRAM} verify FILE --url mqtt://host:port [--username u] [--password p] [--step 5] [--speed 0]
  ${PROGRAM} replay FILE --url mqtt://host:port       (a night exported from the server's events route)
  ${PROGRAM} load --url mqtt://host:port [--sensors 48] [--rate 100] [--seconds 30] [--server URL --login U]

Commands:
  ward    Print a demo ward (site configuration JSON): rooms, residents, a bed mat and a door contact per room.
  plan    Print the messages of one night as JSON lines: {"at", "topic", "payload", "retain"?, "raw"?, "note"?}.
  play    Publish a night to an MQTT broker in accelerated time, with the simulated clock for the gateway.
  check   Check scenario files (YAML or JSON): errors name file, line and field.
  verify  Run a scenario against a running gateway: PASS or FAIL with the differences (exit code 0 / 1).
  replay  Play a recorded night back into a gateway to reproduce an incident; prints the alarms raised.
  load    N sensors at R messages a second for T seconds: sent, accepted, alarms, latency p50 / p99.
  selftest  A test alarm through sensor → gateway → server → a tablet's confirmation, once or every day.

"${PROGRAM} COMMAND --help" explains check, verify, replay, load and selftest in full, with examples.

Times are local wall-clock times in the site's time zone. A night is named by its evening date and
runs from noon to noon: --from 22:00 is the evening of --night, --from 02:50 the morning after.
--night today is the night we are in now (before noon: the one that began yesterday evening).

Every night contains, whatever the seed: at 03:10 the resident of room 7 walks out through the door
(out of bed 03:08–03:40), and at 03:30 the resident of room 12 falls and lies 45 minutes.

Options:
  --residents N     ward: number of rooms and residents, 1–${MAX_DEMO_RESIDENTS} (default 24)
  --site ID         ward: site id, lower-case letters, digits and dashes (default demo)
  --name TEXT       ward: site name (default "Solsiden sykehjem, avdeling 2")
  --timezone ZONE   ward: IANA time zone (default Europe/Oslo)
  --config FILE     plan, play: the site configuration (JSON)
  --seed N          plan, play: integer; the same seed plays the same night (default 1)
  --night DATE      plan, play: evening date YYYY-MM-DD, or "today" (default today)
  --from HH:MM      plan, play: start of the played span (default 22:00)
  --to HH:MM        plan, play: end of the played span, not included (default 07:00)
  --url URL         play: MQTT broker, mqtt://host:port or mqtts://…
  --username U      play: MQTT user name (or NATTEVAKT_MQTT_USERNAME)
  --password P      play: MQTT password (or NATTEVAKT_MQTT_PASSWORD, which keeps it out of ps)
  --speed X         play: simulated seconds per real second, above 0 and at most 100000 (default 30)
  --loop            play: afterwards play the next night 22:00–07:00, and so on, until SIGINT/SIGTERM
  --falls           plan, play: residents may fall by their profile (fall-risk 6 %, wandering 2 % of nights)
  -h, --help        this text

Examples:
  ${PROGRAM} ward --residents 24 > ward.json
  ${PROGRAM} plan --config ward.json --seed 7 --night 2026-11-24 --from 22:00 --to 07:00 > night.jsonl
  ${PROGRAM} play --config ward.json --url mqtt://127.0.0.1:1884 --seed 7 --from 02:50 --to 07:00 --speed 30
  ${PROGRAM} play --config ward.json --url mqtt://127.0.0.1:1884 --seed 7 --speed 60 --loop --falls
  ${PROGRAM} check simulator/scenarios/*.yaml
  ${PROGRAM} verify simulator/scenarios/door-open-at-night.yaml --url mqtt://127.0.0.1:1884
  ${PROGRAM} replay night.json --url mqtt://127.0.0.1:1884
  ${PROGRAM} load --url mqtt://127.0.0.1:1884 --sensors 48 --rate 200 --seconds 60
`;

const planOptions = {
  config: { type: 'string' },
  seed: { type: 'string', default: '1' },
  night: { type: 'string', default: 'today' },
  from: { type: 'string', default: '22:00' },
  to: { type: 'string', default: '07:00' },
  falls: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS = {
  ward: {
    residents: { type: 'string', default: '24' },
    site: { type: 'string', default: 'demo' },
    name: { type: 'string', default: 'Solsiden sykehjem, avdeling 2' },
    timezone: { type: 'string', default: 'Europe/Oslo' },
    help: { type: 'boolean', short: 'h' },
  },
  plan: planOptions,
  play: {
    ...planOptions,
    url: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    speed: { type: 'string', default: '30' },
    loop: { type: 'boolean', default: false },
  },
} as const;

type CommandName = keyof typeof COMMANDS;

/** Runs the simulator's command line; resolves with the process exit code. */
export async function runCommandLine(args: readonly string[], io: CommandLineIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined) {
    io.err(HELP);
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP);
    return EXIT_OK;
  }
  try {
    if (isScenarioCommand(command)) return await runScenarioCommand(command, rest, io);
    if (!(command in COMMANDS))
      throw new UsageError(`unknown command "${command}": expected ward, plan, play, check, verify, replay, load or selftest`);
    const name = command as CommandName;
    const { values } = parseCommand(name, rest);
    if (values.help === true) {
      io.out(HELP);
      return EXIT_OK;
    }
    if (name === 'ward') return wardCommand(values as ParsedValues<'ward'>, io);
    if (name === 'plan') return await planCommand(values as ParsedValues<'plan'>, io);
    return await playCommand(values as ParsedValues<'play'>, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`nattevakt-sim: ${error.message}\nSee: ${PROGRAM} --help\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ScenarioUsageError) {
      io.err(`nattevakt-sim: ${error.message}\nSee: ${PROGRAM} ${command} --help\n`);
      return EXIT_USAGE;
    }
    io.err(`nattevakt-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}

type ParsedValues<C extends CommandName> = ReturnType<typeof parseArgs<{ options: (typeof COMMANDS)[C] }>>['values'];

function parseCommand(name: CommandName, args: string[]) {
  try {
    return parseArgs({ args, options: COMMANDS[name], strict: true, allowPositionals: false });
  } catch (error) {
    // node:util words these well ("Unknown option '--sed'"); add which command they belong to.
    throw new UsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function wardCommand(values: ParsedValues<'ward'>, io: CommandLineIo): number {
  const residents = integerFlag('--residents', values.residents, 1, MAX_DEMO_RESIDENTS);
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(values.site)) {
    throw new UsageError(`--site "${values.site}": expected lower-case letters, digits and dashes (1–64), e.g. demo`);
  }
  let config: SiteConfig;
  try {
    config = demoWard({ residents, siteId: values.site, siteName: values.name, timezone: values.timezone });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  io.out(`${JSON.stringify(config, null, 2)}\n`);
  return EXIT_OK;
}

interface NightRequest {
  config: SiteConfig;
  seed: number;
  clock: NightClock;
  from: string;
  to: string;
  falls: boolean;
}

async function nightRequest(values: ParsedValues<'plan'>, io: CommandLineIo): Promise<NightRequest> {
  const config = await readSiteConfig(values.config);
  const seed = Number(values.seed);
  if (!/^-?\d{1,15}$/.test(values.seed)) throw new UsageError(`--seed "${values.seed}": expected a whole number, e.g. 7`);
  const from = clockFlag('--from', values.from);
  const to = clockFlag('--to', values.to);
  const zone = config.site.timezone;
  let night = values.night;
  if (night === 'today') {
    // The night we are in: before noon, the one that began yesterday evening.
    night = DateTime.fromMillis(io.now(), { zone }).minus({ hours: 12 }).toFormat('yyyy-MM-dd');
  } else if (!/^\d{4}-\d{2}-\d{2}$/.test(night) || !DateTime.fromISO(night, { zone }).isValid) {
    throw new UsageError(`--night "${night}": expected the evening date as YYYY-MM-DD (e.g. 2026-11-24) or "today"`);
  }
  return { config, seed, clock: new NightClock(night, zone), from, to, falls: values.falls === true };
}

function planFor(request: NightRequest, from = request.from, to = request.to): ScheduledMessage[] {
  try {
    return planNight(request.config, { seed: request.seed, night: request.clock.night, from, to, falls: request.falls });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--from/--to: ${error.message}`);
    throw error;
  }
}

async function planCommand(values: ParsedValues<'plan'>, io: CommandLineIo): Promise<number> {
  const request = await nightRequest(values, io);
  const lines = planFor(request).map((message) => JSON.stringify(message));
  io.out(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return EXIT_OK;
}

async function playCommand(values: ParsedValues<'play'>, io: CommandLineIo): Promise<number> {
  const request = await nightRequest(values, io);
  if (values.url === undefined) throw new UsageError('play: --url is required, e.g. --url mqtt://127.0.0.1:1884');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+/.test(values.url)) {
    throw new UsageError(`--url "${values.url}": expected a broker URL such as mqtt://127.0.0.1:1884`);
  }
  const speed = Number(values.speed);
  if (!/^\d+(\.\d+)?$/.test(values.speed) || !(speed > 0 && speed <= 100_000)) {
    throw new UsageError(`--speed "${values.speed}": expected a number above 0 and at most 100000 (simulated seconds per real second)`);
  }
  const username = values.username ?? process.env.NATTEVAKT_MQTT_USERNAME;
  const password = values.password ?? process.env.NATTEVAKT_MQTT_PASSWORD;
  const siteId = request.config.site.id;
  const progressEveryMs = io.progressEveryMs ?? 5000;

  let clock = request.clock;
  let span = { from: request.from, to: request.to };
  for (;;) {
    const messages = planFor({ ...request, clock }, span.from, span.to);
    const endAt = clock.at(span.to);
    const label = `natt ${clock.night}`;
    io.err(
      `[sim] spiller ${label} ${span.from}–${span.to} (seed ${request.seed}, ${speed}×) til ${values.url}: ${messages.length} meldinger\n`,
    );
    let lastProgressLine = Number.NEGATIVE_INFINITY;
    const nightClock = clock;
    const summary = await playNight(messages, {
      url: values.url,
      username,
      password,
      speed,
      siteId,
      endAt,
      signal: io.signal,
      onProgress: (progress: PlayProgress) => {
        if (performance.now() - lastProgressLine < progressEveryMs) return;
        lastProgressLine = performance.now();
        const percent = String(Math.floor(progress.fraction * 100)).padStart(3);
        io.err(`[sim] ${nightClock.local(progress.simTime).time} ${label} ${percent}% sendt ${progress.sent} meldinger\n`);
      },
      onMessage: (message) => {
        if (message.note !== undefined) io.err(`[sim] ${nightClock.local(message.at).time} ${message.note}\n`);
      },
    });
    const seconds = (summary.durationMs / 1000).toFixed(1);
    if (summary.aborted) {
      io.err(`[sim] stoppet: sendt ${summary.sent} meldinger på ${seconds} s\n`);
      return EXIT_OK;
    }
    io.err(`[sim] ferdig med ${label}: sendt ${summary.sent} meldinger på ${seconds} s\n`);
    if (!values.loop) return EXIT_OK;
    clock = clock.next();
    span = { from: '22:00', to: '07:00' };
  }
}

async function readSiteConfig(path: string | undefined): Promise<SiteConfig> {
  if (path === undefined) throw new UsageError('--config is required: a site configuration file, e.g. from "ward > ward.json"');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const checked = checkSiteConfig(json);
  if (!checked.ok) throw new UsageError(`--config ${path}: not a valid site configuration:\n  ${checked.errors.join('\n  ')}`);
  return checked.value;
}

function integerFlag(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} "${text}": expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function clockFlag(flag: string, text: string): string {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(text)) throw new UsageError(`${flag} "${text}": expected a local time HH:MM, e.g. 02:50`);
  return text;
}
