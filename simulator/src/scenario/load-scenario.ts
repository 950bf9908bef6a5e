import type { RuleId } from '@nattevakt/protocol/alarm';
import { checkSiteConfig, type Resident, type SiteConfig } from '@nattevakt/protocol/site-config';
import { DateTime } from 'luxon';
import { LineCounter, parseDocument } from 'yaml';
import { NightClock } from '../behaviour/night-clock.js';
import { planNight, type ResidentDirections } from '../behaviour/plan-night.js';
import type { BedExit } from '../behaviour/resident-night.js';
import { SeededRandom } from '../behaviour/seeded-random.js';
import { demoWard } from '../demo-ward.js';
import type { ScheduledMessage } from '../scheduled-message.js';
import type { SensorFault } from '../sensors/sensor-stream.js';
import { type SensorWire, ZIGBEE2MQTT_MODELS, zigbee2mqttDeviceEntry } from '../sensors/wire-format.js';
import { locate, ScenarioError, type ScenarioProblem, schemaProblems } from './scenario-errors.js';
import { type PlanPatch, Scenario, type TimelineItem } from './scenario-schema.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** An alarm the run must show: matched by rule, whom it names, and when it was raised (site clock). */
export interface CompiledExpectation {
  rule: RuleId;
  residentId?: string;
  sensorId?: string;
  roomId?: string;
  /** Raised in [from, to], epoch ms. */
  from: number;
  to: number;
  /** Exactly this many; at least one when undefined. */
  count?: number;
  /** For the report: the line in the scenario file. */
  line?: number;
}

export interface CompiledForbidden {
  rule?: RuleId;
  residentId?: string;
  sensorId?: string;
  roomId?: string;
  from: number;
  to: number;
  line?: number;
}

/** A scenario ready to run: the ward, the messages of the night, and what must (not) be raised. */
export interface CompiledScenario {
  name: string;
  title?: string;
  description?: string;
  /** Where it came from, for messages. */
  file: string;
  site: SiteConfig;
  /** What the gateway's configuration needs for the scenario's Zigbee2MQTT devices (`zigbee2mqtt` section). */
  zigbee2mqtt: {
    baseTopic: string;
    devices: { friendlyName: string; sensorId: string; bedField?: 'occupancy' | 'pressure' | 'presence' }[];
  };
  clock: NightClock;
  from: number;
  to: number;
  messages: ScheduledMessage[];
  expectations: CompiledExpectation[];
  forbidden: CompiledForbidden[];
  otherAlarms: 'fail' | 'ignore';
}

export interface CompileOptions {
  /** Name of the file, for error messages. */
  file: string;
  /** Reads a site configuration named by `site: { file }` (relative to the scenario); Node's fs by default in loadScenarioFile. */
  readSiteFile?: (name: string) => string;
  /** Plays the scenario on another night (YYYY-MM-DD): a gateway's simulated clock never runs back, so a re-run needs a later night. */
  night?: string;
  /**
   * Plays the scenario on a site of this id (its ward's site id replaced), so the same built-in
   * scenario runs against any commissioning site whose configuration is the scenario's ward.
   */
  siteId?: string;
}

/**
 * Parses and checks a scenario (YAML, or JSON, which is YAML too) and plans its night. Every
 * problem is reported at once, as file:line:column: /field: what is wrong.
 */
export function compileScenario(text: string, options: CompileOptions): CompiledScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const { file } = options;
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0] ?? e.message, line, column: col };
      }),
    );
  }
  const at = (path: string, message: string): ScenarioProblem => ({ path, message, ...locate(doc, lineCounter, path) });
  const value: unknown = doc.toJS();
  const problems = schemaProblems(Scenario, value).map((p) => ({ ...p, ...locate(doc, lineCounter, p.path) }));
  if (problems.length > 0) throw new ScenarioError(file, problems);
  const scenario = value as Scenario;
  const lineOf = (path: string) => locate(doc, lineCounter, path)?.line;
  return compile(scenario, options, at, lineOf);
}

type At = (path: string, message: string) => ScenarioProblem;

function compile(scenario: Scenario, options: CompileOptions, at: At, lineOf: (path: string) => number | undefined): CompiledScenario {
  const { file } = options;
  const problems: ScenarioProblem[] = [];
  const fail = () => new ScenarioError(file, problems);

  const ward = siteOf(scenario, options, at, problems);
  if (ward === null) throw fail();
  const site = options.siteId === undefined ? ward : { ...ward, site: { ...ward.site, id: options.siteId } };
  const zone = site.site.timezone;
  const night = options.night ?? scenario.night;
  if (!DateTime.fromISO(night, { zone }).isValid) {
    problems.push(at('/night', `"${night}" is not a date`));
    throw fail();
  }
  const clock = new NightClock(night, zone);
  const dayShift = DateTime.fromISO(night, { zone }).diff(DateTime.fromISO(scenario.night, { zone }), 'days').days;
  const time = (text: string): number => {
    const local = /^(\d{2}:\d{2})(?::(\d{2}))?$/.exec(text);
    if (local !== null) return clock.at(local[1] as string, Number(local[2] ?? 0));
    return DateTime.fromISO(text, { setZone: true }).plus({ days: dayShift }).toMillis();
  };
  const from = time(scenario.from);
  const to = time(scenario.to);
  if (to <= from)
    problems.push(at('/to', `must come after from (${scenario.from}); times from 12:00 are the evening, earlier ones the morning after`));
  const inSpan = (path: string, instant: number, text: string) => {
    if (Number.isNaN(instant)) problems.push(at(path, `"${text}" is not a valid time`));
    else if (instant < from || instant > to)
      problems.push(at(path, `${text} lies outside the scenario's span ${scenario.from}–${scenario.to}`));
  };

  const residents = new Map(site.residents.map((r) => [r.id, r]));
  const sensors = new Map(site.sensors.map((s) => [s.id, s]));
  const rooms = new Set(site.rooms.map((r) => r.id));
  const roomName = (roomId: string) => site.rooms.find((r) => r.id === roomId)?.name ?? roomId;

  // Wire formats.
  const baseTopic = scenario.zigbee2mqttBaseTopic ?? 'zigbee2mqtt';
  const wires: Record<string, SensorWire> = {};
  const devices: CompiledScenario['zigbee2mqtt']['devices'] = [];
  for (const [sensorId, spec] of Object.entries(scenario.sensors ?? {})) {
    const sensor = sensors.get(sensorId);
    if (sensor === undefined) {
      problems.push(at(`/sensors/${sensorId}`, `no sensor "${sensorId}" in the site`));
      continue;
    }
    if (spec.format === 'native') continue;
    const model = ZIGBEE2MQTT_MODELS[spec.model];
    if (model.kind !== sensor.kind) {
      problems.push(at(`/sensors/${sensorId}/model`, `${spec.model} is a ${model.kind} sensor, ${sensorId} is a ${sensor.kind} sensor`));
      continue;
    }
    const wire: SensorWire = {
      format: 'zigbee2mqtt',
      model: spec.model,
      friendlyName: spec.friendlyName ?? `${sensor.roomId}/${sensor.kind}`,
      baseTopic,
      ...(spec.legacyAvailability === true ? { legacyAvailability: true } : {}),
    };
    wires[sensorId] = wire;
    devices.push(zigbee2mqttDeviceEntry(sensorId, wire));
  }

  // The timeline.
  const directions: Record<string, ResidentDirections> = {};
  const faults: Record<string, SensorFault[]> = {};
  const seed = scenario.seed ?? 1;
  scenario.timeline.forEach((item: TimelineItem, index) => {
    const path = `/timeline/${index}`;
    const start = time(item.at);
    inSpan(`${path}/at`, start, item.at);
    if ('resident' in item) {
      const resident = residents.get(item.resident);
      if (resident === undefined) {
        problems.push(at(`${path}/resident`, `no resident "${item.resident}" in the site`));
        return;
      }
      directions[resident.id] ??= {};
      const told = directions[resident.id] as ResidentDirections;
      residentAction(item, { start, resident, told, seed, clock, time, roomName: roomName(resident.roomId), path, at, problems });
    } else {
      const sensor = sensors.get(item.sensor);
      if (sensor === undefined) {
        problems.push(at(`${path}/sensor`, `no sensor "${item.sensor}" in the site`));
        return;
      }
      const fault = sensorFault(item, start, wires[sensor.id], path, at, problems);
      if (fault !== null) faults[sensor.id] = [...(faults[sensor.id] ?? []), fault];
    }
  });
  // A resident is never on two trips at once.
  const trips = new Map<string, { leave: number; back: number; path: string }[]>();
  scenario.timeline.forEach((item, index) => {
    if (!('resident' in item) || !['toilet', 'walk-out', 'fall', 'up'].includes(item.does)) return;
    const told = directions[item.resident]?.exits ?? [];
    const exit = told.find((e) => e.leave === time(item.at));
    if (exit !== undefined)
      trips.set(item.resident, [...(trips.get(item.resident) ?? []), { leave: exit.leave, back: exit.back, path: `/timeline/${index}` }]);
  });
  for (const [residentId, list] of trips) {
    const sorted = [...list].sort((a, b) => a.leave - b.leave);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as { leave: number; back: number; path: string };
      const next = sorted[i] as { leave: number; back: number; path: string };
      if (next.leave < previous.back) {
        problems.push(
          at(
            `${next.path}/at`,
            `${residentId} leaves the bed at ${clock.local(next.leave).time}, before being back from the trip of ${clock.local(previous.leave).time} (${previous.path})`,
          ),
        );
      }
    }
  }

  // What must and must not be raised.
  const who = (path: string, item: { resident?: string; sensor?: string; room?: string }) => {
    if (item.resident !== undefined && !residents.has(item.resident))
      problems.push(at(`${path}/resident`, `no resident "${item.resident}" in the site`));
    if (item.sensor !== undefined && !sensors.has(item.sensor))
      problems.push(at(`${path}/sensor`, `no sensor "${item.sensor}" in the site`));
    if (item.room !== undefined && !rooms.has(item.room)) problems.push(at(`${path}/room`, `no room "${item.room}" in the site`));
    return {
      ...(item.resident !== undefined ? { residentId: item.resident } : {}),
      ...(item.sensor !== undefined ? { sensorId: item.sensor } : {}),
      ...(item.room !== undefined ? { roomId: item.room } : {}),
    };
  };
  const window = (path: string, item: { at?: string; within?: string; between?: [string, string] }): { from: number; to: number } => {
    if (item.at !== undefined && item.between !== undefined) problems.push(at(path, 'give either at (with within) or between, not both'));
    if (item.within !== undefined && item.at === undefined) problems.push(at(`${path}/within`, 'within needs at'));
    if (item.at !== undefined) {
      const moment = time(item.at);
      inSpan(`${path}/at`, moment, item.at);
      const slack = duration(item.within ?? '1m');
      return { from: moment - slack, to: moment + slack };
    }
    if (item.between !== undefined) {
      const [a, b] = item.between.map(time) as [number, number];
      inSpan(`${path}/between/0`, a, item.between[0]);
      inSpan(`${path}/between/1`, b, item.between[1]);
      if (b < a) problems.push(at(`${path}/between`, 'the second time must not come before the first'));
      return { from: a, to: b };
    }
    return { from, to };
  };
  const expectations: CompiledExpectation[] = scenario.expect.map((item, index) => {
    const path = `/expect/${index}`;
    const line = lineOf(path);
    return {
      rule: item.rule,
      ...who(path, item),
      ...window(path, item),
      ...(item.count !== undefined ? { count: item.count } : {}),
      ...(line !== undefined ? { line } : {}),
    };
  });
  const forbidden: CompiledForbidden[] = (scenario.forbid ?? []).map((item, index) => {
    const path = `/forbid/${index}`;
    const line = lineOf(path);
    return {
      ...(item.rule !== undefined ? { rule: item.rule } : {}),
      ...who(path, item),
      ...window(path, item),
      ...(line !== undefined ? { line } : {}),
    };
  });
  if (problems.length > 0) throw fail();

  const messages = planNight(site, {
    seed,
    night,
    from: clock.local(from).time,
    to: clock.local(to).time,
    profiles: scenario.profiles ?? {},
    residents: directions,
    quiet: (scenario.background ?? 'quiet') === 'quiet',
    falls: scenario.falls === true,
    wires,
    faults,
    span: { from, to },
  });

  return {
    name: scenario.name,
    ...(scenario.title !== undefined ? { title: scenario.title } : {}),
    ...(scenario.description !== undefined ? { description: scenario.description } : {}),
    file,
    site,
    zigbee2mqtt: { baseTopic, devices },
    clock,
    from,
    to,
    messages,
    expectations,
    forbidden,
    otherAlarms: scenario.otherAlarms ?? 'fail',
  };
}

/** "90s", "20m", "1.5h" in ms. */
export function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
  if (match === null) throw new RangeError(`"${text}" is not a duration such as 90s, 20m or 1.5h`);
  const unit = match[2] === 's' ? SECOND : match[2] === 'm' ? MINUTE : 60 * MINUTE;
  return Math.round(Number(match[1]) * unit);
}

interface ActionContext {
  start: number;
  resident: Resident;
  told: ResidentDirections;
  seed: number;
  clock: NightClock;
  time: (text: string) => number;
  roomName: string;
  path: string;
  at: At;
  problems: ScenarioProblem[];
}

function residentAction(item: Extract<TimelineItem, { resident: string }>, ctx: ActionContext): void {
  const { start, resident, told, roomName, path } = ctx;
  const name = `${roomName}: ${resident.name}`;
  const exit = (kind: BedExit['kind'], back: number, leaveNote: string, extra: Partial<BedExit> = {}) => {
    told.exits = [...(told.exits ?? []), { kind, leave: start, back, doorOpenings: [], leaveNote: item.note ?? leaveNote, ...extra }];
  };
  switch (item.does) {
    case 'toilet':
      exit('toilet', start + duration(item.for), `${name} går på toalettet`, { backNote: `${name} er tilbake i sengen` });
      break;
    case 'walk-out': {
      const minutes = duration(item.for);
      if (minutes < 2 * MINUTE) ctx.problems.push(ctx.at(`${path}/for`, 'a walk out of the room takes at least 2m'));
      // Out of bed, to the door in a minute, out; the nurse brings them back (the return is not a second opening).
      const open = start + MINUTE;
      exit('walk-out', start + minutes, `${name} går ut av sengen`, {
        doorOpenings: [{ open, close: open + 30 * SECOND, note: `${roomName}: døren åpnes – ${resident.name} går ut` }],
        backNote: `${name} er tilbake i sengen`,
      });
      break;
    }
    case 'fall': {
      const back = item.helpedAfter === undefined ? Number.POSITIVE_INFINITY : start + duration(item.helpedAfter);
      exit('fall', back, `${name} faller ved sengen${item.helpedAfter === undefined ? ' og blir liggende' : ''}`, {
        backNote: `${name} er hjulpet tilbake i sengen`,
      });
      break;
    }
    case 'up': {
      const back = item.for === undefined ? Number.POSITIVE_INFINITY : start + duration(item.for);
      exit('up', back, `${name} står opp`, { backNote: `${name} legger seg igjen` });
      break;
    }
    case 'go-to-bed':
      told.bedtime = start;
      break;
    case 'get-up':
      told.wakeUp = start;
      break;
    case 'restless': {
      const until = ctx.time(item.until);
      if (!(until > start)) ctx.problems.push(ctx.at(`${path}/until`, 'must come after at'));
      const every = (60 * MINUTE) / (item.turnsPerHour ?? 30);
      const random = new SeededRandom(ctx.seed, ctx.clock.night, 'restless', resident.id, start);
      const turns = told.extraTurns ?? [];
      for (let t = start; t < until; t += every)
        turns.push({ at: Math.round(t + random.between(0, every / 2)), seconds: random.int(3, 10) });
      told.extraTurns = turns;
      told.restlessNight = true;
      break;
    }
    case 'turn-over':
      told.extraTurns = [...(told.extraTurns ?? []), { at: start, seconds: item.seconds ?? 5 }];
      break;
    case 'open-door':
      told.doorOpenings = [
        ...(told.doorOpenings ?? []),
        { open: start, close: start + duration(item.for), note: item.note ?? `${roomName}: døren står åpen` },
      ];
      break;
    default: {
      const exhaustive: never = item;
      throw new Error(`unknown action ${JSON.stringify(exhaustive)}`);
    }
  }
}

function sensorFault(
  item: Extract<TimelineItem, { sensor: string }>,
  start: number,
  wire: SensorWire | undefined,
  path: string,
  at: At,
  problems: ScenarioProblem[],
): SensorFault | null {
  const until = (text: string | undefined) => (text === undefined ? {} : { until: start + duration(text) });
  switch (item.fault) {
    case 'silent':
      return { type: 'silent', from: start, ...until(item.for) };
    case 'offline':
      return { type: 'offline', from: start, ...until(item.for) };
    case 'battery':
      if (wire?.format === 'zigbee2mqtt' && !ZIGBEE2MQTT_MODELS[wire.model].battery) {
        problems.push(at(`${path}/fault`, `a ${wire.model} reports no battery`));
        return null;
      }
      return { type: 'battery', at: start, percent: item.percent };
    case 'tamper':
      if (wire?.format === 'zigbee2mqtt' && !ZIGBEE2MQTT_MODELS[wire.model].tamper) {
        problems.push(at(`${path}/fault`, `a ${wire.model} has no tamper switch (aoyan-ay101z and native sensors do)`));
        return null;
      }
      return { type: 'tamper', from: start, ...until(item.for) };
    case 'flapping':
      return { type: 'flapping', from: start, until: start + duration(item.for), changesPerMinute: item.changesPerMinute ?? 20 };
    case 'malformed':
      return { type: 'malformed', at: start, variant: item.variant ?? 'not-json' };
    default: {
      const exhaustive: never = item;
      throw new Error(`unknown fault ${JSON.stringify(exhaustive)}`);
    }
  }
}

/** The scenario's site: the demo ward (with plan changes), an inline configuration, or a file. */
function siteOf(scenario: Scenario, options: CompileOptions, at: At, problems: ScenarioProblem[]): SiteConfig | null {
  const spec = scenario.site;
  if (spec === 'demo-ward') return demoWard();
  if ('config' in spec) {
    const checked = checkSiteConfig(spec.config);
    if (!checked.ok) {
      for (const error of checked.errors) {
        const [pointer, ...rest] = error.split(': ');
        problems.push(at(`/site/config${pointer ?? ''}`, rest.join(': ') || error));
      }
      return null;
    }
    return checked.value;
  }
  if ('file' in spec) {
    if (options.readSiteFile === undefined) {
      problems.push(at('/site/file', 'site files can only be read by loadScenarioFile (give the configuration inline)'));
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(options.readSiteFile(spec.file));
    } catch (error) {
      problems.push(at('/site/file', `cannot read ${spec.file}: ${error instanceof Error ? error.message : String(error)}`));
      return null;
    }
    const checked = checkSiteConfig(json);
    if (!checked.ok) {
      problems.push(at('/site/file', `${spec.file} is not a valid site configuration: ${checked.errors.join('; ')}`));
      return null;
    }
    return checked.value;
  }
  let ward: SiteConfig;
  try {
    ward = demoWard({
      residents: spec.demoWard.residents,
      ...(spec.demoWard.siteId !== undefined ? { siteId: spec.demoWard.siteId } : {}),
      ...(spec.demoWard.timezone !== undefined ? { timezone: spec.demoWard.timezone } : {}),
    });
  } catch (error) {
    problems.push(at('/site/demoWard', error instanceof Error ? error.message : String(error)));
    return null;
  }
  const plans = spec.plans ?? {};
  const residents = ward.residents.map((resident) => {
    const patch = plans[resident.id];
    return patch === undefined ? resident : { ...resident, plan: patchPlan(resident.plan, patch) };
  });
  for (const id of Object.keys(plans)) {
    if (!ward.residents.some((r) => r.id === id))
      problems.push(at(`/site/plans/${id}`, `no resident "${id}" in a demo ward of ${ward.residents.length}`));
  }
  const checked = checkSiteConfig({ ...ward, residents });
  if (!checked.ok) {
    for (const error of checked.errors) {
      const match = /^\/residents\/(\d+)\/plan(\/\S*)?: (.*)$/.exec(error);
      const resident = match === null ? undefined : residents[Number(match[1])];
      if (match !== null && resident !== undefined) problems.push(at(`/site/plans/${resident.id}${match[2] ?? ''}`, match[3] ?? error));
      else problems.push(at('/site', error));
    }
    return null;
  }
  return problems.length > 0 ? null : checked.value;
}

function patchPlan(plan: Resident['plan'], patch: PlanPatch): Resident['plan'] {
  const merged: Record<string, unknown> = { ...plan };
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'rules' && typeof value === 'object' && value !== null) merged.rules = { ...plan.rules, ...(value as object) };
    else merged[key] = value;
  }
  return merged as Resident['plan'];
}
