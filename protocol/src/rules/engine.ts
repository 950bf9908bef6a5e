import type { AlarmDecision, RuleId } from '../alarm.js';
import type { SensorEvent } from '../sensor-event.js';
import type { Resident, SensorConfig, SiteConfig } from '../site-config.js';
import { bedExit } from './bed-exit.js';
import { DeadlineQueue, type Scheduled } from './deadline-queue.js';
import { doorLeftOpen } from './door-left-open.js';
import { doorOpenAtNight } from './door-open-at-night.js';
import { notInBedBy } from './not-in-bed-by.js';
import { outOfBedTooLong } from './out-of-bed-too-long.js';
import { flapping } from './technical/flapping.js';
import { lowBattery } from './technical/low-battery.js';
import { sensorOffline } from './technical/sensor-offline.js';
import { sensorSilent } from './technical/sensor-silent.js';
import { technicalSettings } from './technical/settings.js';
import { tamper } from './technical/tamper.js';
import type {
  CareContext,
  CareDeadlineContext,
  CareRaise,
  CareRule,
  CareRuleId,
  Deadline,
  ResidentState,
  ResolvedTechnicalSettings,
  RuleOutput,
  SensorState,
  TechnicalContext,
  TechnicalDeadlineContext,
  TechnicalRaise,
  TechnicalRule,
  TechnicalRuleId,
} from './types.js';

export type * from './types.js';

/** Every care rule, in the order the engine evaluates them (which is also the order of their alarm ids in one call). */
export const CARE_RULES: readonly CareRule[] = [doorOpenAtNight, outOfBedTooLong, bedExit, doorLeftOpen, notInBedBy];
/** Every technical rule, in evaluation order. */
export const TECHNICAL_RULES: readonly TechnicalRule[] = [sensorOffline, sensorSilent, lowBattery, tamper, flapping];

/** How many recent state changes a sensor keeps for the flapping rule (its highest limit + 1). */
const MAX_CHANGES = 61;

export interface RuleEngineOptions {
  /** Alarm ids; random in production, deterministic in a replay. */
  newId: () => string;
  /** Wall clock of the deciding machine, for `decidedAt`. Defaults to the site clock. */
  wallClock?: () => number;
  /**
   * Only these rules run (default: every rule). A replay that tunes one rule's thresholds runs
   * that rule alone; the gateway runs them all.
   */
  rules?: readonly RuleId[];
  /**
   * Evaluates every resident and sensor on every call, as the engine did before its deadline
   * index: the reference the index is tested against (and a fallback for a suspected index bug).
   * Same decisions, O(site) per call.
   */
  fullScan?: boolean;
}

const emptyResidentState = (): ResidentState => ({
  bed: { occupied: null, since: null, eventId: null, sensorId: null },
  door: { open: null, since: null, eventId: null, sensorId: null },
  open: new Map(),
  notInBedByFrom: null,
});

const emptySensorState = (): SensorState => ({ watchedSince: null, heard: null, online: null, value: null, changes: [], open: new Map() });

interface ResidentEntry extends Scheduled {
  kind: 'resident';
  /** Evaluation order within a call: residents in configuration order, then sensors. */
  rank: number;
  /** The last call that took it for evaluation. */
  takenIn: number;
  resident: Resident;
  state: ResidentState;
}

/** A sensor, what the engine knows about it, and whom it watches (worked out once per configuration). */
interface SensorEntry extends Scheduled {
  kind: 'sensor';
  rank: number;
  takenIn: number;
  sensor: SensorConfig;
  state: SensorState;
  /** The residents whose care rules see its events: its own resident, or everyone in its room. */
  residents: ResidentEntry[];
  /** Who its technical alarms name: its own resident, else the first resident of its room, else nobody. */
  residentId: string | undefined;
  settings: ResolvedTechnicalSettings;
}

type Entry = ResidentEntry | SensorEntry;

const byRank = (a: Entry, b: Entry) => a.rank - b.rank;

/**
 * Sorts entries by rank in place. A call usually takes two or three entries (an event's sensor and
 * residents, what is due): insertion sort then, as Array.prototype.sort allocates its work state on
 * every call.
 */
function sortByRank(entries: Entry[]): void {
  if (entries.length > 16) {
    entries.sort(byRank);
    return;
  }
  for (let i = 1; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    let j = i - 1;
    for (; j >= 0 && (entries[j] as Entry).rank > entry.rank; j--) entries[j + 1] = entries[j] as Entry;
    entries[j + 1] = entry;
  }
}

/**
 * The pure, deterministic night-watch rule engine. Time comes in with every call (`now` on the
 * site clock), so the same code decides live on the gateway and replays a recorded night.
 * Care rules are judged per resident by their supervision plan; technical rules per sensor.
 *
 * Deadline index: every resident and sensor sits in a min-heap under its earliest rule deadline.
 * A call evaluates only what is due by `now` plus what its event touches (the event's sensor and
 * the residents it watches), in the order a full pass would (residents in configuration order,
 * then sensors), so alarm ids and outputs are exactly those of evaluating everything. This relies
 * on the rule contract (types.ts): `onTick` acts only at or after `deadline`, and what it can act
 * on without a deadline (flapping's count) changes only with an event of that sensor. The first
 * call after a configuration change evaluates everything once, as before.
 */
export class RuleEngine {
  #config: SiteConfig;
  #residents = new Map<string, ResidentEntry>();
  #sensors = new Map<string, SensorEntry>();
  #lastNow: number | null = null;
  readonly #queue = new DeadlineQueue<Entry>();
  /** The next call evaluates every resident and sensor (after start and after a configuration change). */
  #evaluateAll = true;
  /** Counts calls that take touched entries, to take each entry once. */
  #calls = 0;
  readonly #care: readonly CareRule[];
  readonly #technical: readonly TechnicalRule[];
  readonly #options: RuleEngineOptions;

  constructor(config: SiteConfig, options: RuleEngineOptions) {
    this.#options = options;
    const only = options.rules;
    this.#care = only === undefined ? CARE_RULES : CARE_RULES.filter((r) => only.includes(r.id));
    this.#technical = only === undefined ? TECHNICAL_RULES : TECHNICAL_RULES.filter((r) => only.includes(r.id));
    this.#config = config;
    this.setConfig(config);
  }

  get config(): SiteConfig {
    return this.#config;
  }

  /** Replaces the configuration, keeping what is known about residents and sensors that are still there. */
  setConfig(config: SiteConfig): void {
    this.#config = config;
    const residents = new Map<string, ResidentEntry>();
    const byRoom = new Map<string, ResidentEntry[]>();
    for (const resident of config.residents) {
      const entry: ResidentEntry = {
        kind: 'resident',
        rank: 0,
        takenIn: 0,
        due: null,
        queueIndex: -1,
        resident,
        state: this.#residents.get(resident.id)?.state ?? emptyResidentState(),
      };
      residents.set(resident.id, entry);
    }
    // Ranks and rooms follow the map (a duplicated id keeps its first place and its last entry), as a full pass iterates.
    let rank = 0;
    for (const entry of residents.values()) {
      entry.rank = rank++;
      const room = byRoom.get(entry.resident.roomId);
      if (room === undefined) byRoom.set(entry.resident.roomId, [entry]);
      else room.push(entry);
    }
    const sensors = new Map<string, SensorEntry>();
    for (const sensor of config.sensors) {
      const own = sensor.residentId === undefined ? undefined : residents.get(sensor.residentId);
      const room = byRoom.get(sensor.roomId) ?? [];
      const watched = sensor.residentId === undefined ? room : own ? [own] : [];
      sensors.set(sensor.id, {
        kind: 'sensor',
        rank: 0,
        takenIn: 0,
        due: null,
        queueIndex: -1,
        sensor,
        state: this.#sensors.get(sensor.id)?.state ?? emptySensorState(),
        residents: watched,
        residentId: own?.resident.id ?? room[0]?.resident.id,
        settings: technicalSettings(
          sensor,
          watched.map((e) => e.resident),
        ),
      });
    }
    for (const entry of sensors.values()) entry.rank = rank++;
    this.#residents = residents;
    this.#sensors = sensors;
    // Plans and thresholds may have changed for everyone: evaluate everything once, and index afresh.
    this.#evaluateAll = true;
    this.#queue.clear();
    for (const entry of residents.values()) this.#schedule(entry);
    for (const entry of sensors.values()) this.#schedule(entry);
  }

  sensor(sensorId: string): SensorConfig | undefined {
    return this.#sensors.get(sensorId)?.sensor;
  }

  /** The residents a sensor watches: its own resident, or everyone in its room. */
  residentsOf(sensor: SensorConfig): Resident[] {
    return (this.#sensors.get(sensor.id)?.residents ?? []).map((e) => e.resident);
  }

  stateOf(residentId: string): ResidentState | undefined {
    return this.#residents.get(residentId)?.state;
  }

  sensorStateOf(sensorId: string): SensorState | undefined {
    return this.#sensors.get(sensorId)?.state;
  }

  /**
   * Time was skipped, not lived: a simulated site clock jumped ahead (the simulator moving on to
   * the next night). Silence counts again from `now`, so sensors are not blamed for the skip.
   */
  forgiveSilence(now: number): void {
    for (const entry of this.#sensors.values()) {
      entry.state.watchedSince = now;
      entry.state.heard = null;
      this.#schedule(entry);
    }
  }

  /** The technical thresholds that apply to a sensor, defaults filled in. */
  technicalSettingsOf(sensorId: string): ResolvedTechnicalSettings | undefined {
    return this.#sensors.get(sensorId)?.settings;
  }

  /** Feeds one normalized event; `now` is the site-clock time the event is decided at. */
  onEvent(event: SensorEvent, now: number): RuleOutput {
    const entry = this.#sensors.get(event.sensorId);
    // Deadlines that passed before this event are decided first: an "in bed" that arrives after
    // the out-of-bed deadline but before the timer fired must not swallow the alarm. The touched
    // residents and sensor are evaluated in that pass too, as a full pass would.
    const output: RuleOutput = { raised: [], cleared: [] };
    const due = this.#takeDue(now, entry);
    try {
      this.#tick(due, now, output);
      if (entry === undefined) return output;
      for (const resident of entry.residents) {
        const ctx = this.#careContext(resident, now, output);
        for (const rule of this.#care) rule.onEvent(ctx, event);
        this.#applyResidentState(resident.state, event, now);
        for (const rule of this.#care) rule.onTick(ctx);
      }
      const ctx = this.#technicalContext(entry, now, output);
      for (const rule of this.#technical) rule.onEvent(ctx, event);
      this.#applySensorState(entry, event, now);
      for (const rule of this.#technical) rule.onTick(ctx);
      return output;
    } finally {
      // Even if a rule threw: nothing taken out of the queue may be lost from it.
      for (const evaluated of due) this.#schedule(evaluated);
    }
  }

  /** Lets time pass: raises (and, for time-based conditions, clears) what has become due. */
  onTick(now: number): RuleOutput {
    const output: RuleOutput = { raised: [], cleared: [] };
    const due = this.#takeDue(now, undefined);
    try {
      this.#tick(due, now, output);
      return output;
    } finally {
      for (const evaluated of due) this.#schedule(evaluated);
    }
  }

  /**
   * Takes out of the queue what a call at `now` evaluates: what is due, and what `touched` (an
   * event's sensor) concerns, in full-pass order. The caller reschedules them when done.
   */
  #takeDue(now: number, touched: SensorEntry | undefined): Entry[] {
    this.#lastNow = now;
    const due: Entry[] = [];
    if (this.#evaluateAll || this.#options.fullScan === true) {
      this.#evaluateAll = false;
      this.#queue.clear();
      for (const entry of this.#residents.values()) due.push(entry);
      for (const entry of this.#sensors.values()) due.push(entry);
      return due;
    }
    this.#queue.takeDue(now, due);
    if (touched !== undefined) {
      const call = ++this.#calls;
      for (const entry of due) entry.takenIn = call;
      for (const entry of touched.residents) this.#take(entry, call, due);
      this.#take(touched, call, due);
    }
    if (due.length > 1) sortByRank(due);
    return due;
  }

  /** Takes an entry out of the queue into `due`, once per call. */
  #take(entry: Entry, call: number, due: Entry[]): void {
    if (entry.takenIn === call) return;
    entry.takenIn = call;
    this.#queue.set(entry, null);
    due.push(entry);
  }

  /** Runs `onTick` of every rule for the given entries, in their order. */
  #tick(due: readonly Entry[], now: number, output: RuleOutput): void {
    for (const entry of due) {
      if (entry.kind === 'resident') {
        const ctx = this.#careContext(entry, now, output);
        for (const rule of this.#care) rule.onTick(ctx);
      } else {
        const ctx = this.#technicalContext(entry, now, output);
        for (const rule of this.#technical) rule.onTick(ctx);
      }
    }
  }

  /** Puts an entry in the queue under its earliest rule deadline (as of the last call), or out of it. */
  #schedule(entry: Entry): void {
    const lastNow = this.#lastNow;
    let next: number | null = null;
    if (entry.kind === 'resident') {
      const ctx: CareDeadlineContext = { config: this.#config, resident: entry.resident, state: entry.state, lastNow };
      for (const rule of this.#care) {
        const at = rule.deadline(ctx);
        if (at !== null && (next === null || at < next)) next = at;
      }
    } else {
      const ctx: TechnicalDeadlineContext = { sensor: entry.sensor, settings: entry.settings, state: entry.state, lastNow };
      for (const rule of this.#technical) {
        const at = rule.deadline(ctx);
        if (at !== null && (next === null || at < next)) next = at;
      }
    }
    this.#queue.set(entry, next);
  }

  /**
   * Every pending deadline: the instants at which `onTick` will act (raise, clear, or start
   * watching something new). An instant in the past means "tick now".
   */
  deadlines(): Deadline[] {
    const list: Deadline[] = [];
    const lastNow = this.#lastNow;
    for (const { resident, state } of this.#residents.values()) {
      for (const rule of this.#care) {
        const at = rule.deadline({ config: this.#config, resident, state, lastNow });
        if (at !== null) list.push({ at, rule: rule.id, residentId: resident.id });
      }
    }
    for (const { sensor, state, settings } of this.#sensors.values()) {
      for (const rule of this.#technical) {
        const at = rule.deadline({ sensor, settings, state, lastNow });
        if (at !== null) list.push({ at, rule: rule.id, sensorId: sensor.id });
      }
    }
    return list;
  }

  /** The earliest site-clock instant at which `onTick` will act, or null. A tick at that instant always consumes it. */
  nextDeadline(): number | null {
    if (this.#options.fullScan !== true) return this.#queue.peek();
    let next: number | null = null;
    for (const { at } of this.deadlines()) if (next === null || at < next) next = at;
    return next;
  }

  #applyResidentState(state: ResidentState, event: SensorEvent, now: number): void {
    if (event.sensorKind === 'bed' && event.occupied !== undefined && event.occupied !== state.bed.occupied) {
      state.bed = { occupied: event.occupied, since: now, eventId: event.id, sensorId: event.sensorId };
    }
    if (event.sensorKind === 'door' && event.open !== undefined && event.open !== state.door.open) {
      state.door = { open: event.open, since: now, eventId: event.id, sensorId: event.sensorId };
    }
  }

  #applySensorState({ state, sensor }: SensorEntry, event: SensorEvent, now: number): void {
    if (event.online !== false) {
      // Updated in place: a new object per message lived until the sensor's next one (seconds at
      // 10,000 sensors), long enough to be promoted and then collected by a mark-compact.
      if (state.heard === null) state.heard = { at: now, eventId: event.id };
      else {
        state.heard.at = now;
        state.heard.eventId = event.id;
      }
    }
    if (event.online !== undefined) state.online = event.online;
    const value = sensor.kind === 'bed' ? event.occupied : event.open;
    if (value === undefined) return;
    if (state.value !== null && value !== state.value) {
      state.changes.push({ at: now, eventId: event.id });
      if (state.changes.length > MAX_CHANGES) state.changes.splice(0, state.changes.length - MAX_CHANGES);
    }
    state.value = value;
  }

  #careContext({ resident, state }: ResidentEntry, now: number, output: RuleOutput): CareContext {
    return new CareCall(this.#config, resident, state, now, output, this.#options);
  }

  #technicalContext({ sensor, state, residentId, settings }: SensorEntry, now: number, output: RuleOutput): TechnicalContext {
    return new TechnicalCall(this.#config, sensor, settings, state, now, output, this.#options, residentId);
  }
}

/** When and where an alarm decided at `now` was decided: `decidedAt` on the deciding machine's clock. */
function decision(config: SiteConfig, options: RuleEngineOptions, now: number): Pick<AlarmDecision, 'siteId' | 'raisedAt' | 'decidedAt'> {
  const wall = options.wallClock?.() ?? now;
  return { siteId: config.site.id, raisedAt: new Date(now).toISOString(), decidedAt: new Date(wall).toISOString() };
}

/**
 * One resident's context for one call. A class, so that `raise` and `clear` are methods on the
 * prototype: the object literal it replaces made three closures per resident and call.
 */
class CareCall implements CareContext {
  constructor(
    readonly config: SiteConfig,
    readonly resident: Resident,
    readonly state: ResidentState,
    readonly now: number,
    private readonly output: RuleOutput,
    private readonly options: RuleEngineOptions,
  ) {}

  raise(rule: CareRuleId, alarm: CareRaise): void {
    const { state, resident } = this;
    if (state.open.has(rule)) return; // one alarm per condition, until it clears
    const id = this.options.newId();
    state.open.set(rule, { alarmId: id, sensorId: alarm.sensorId });
    this.output.raised.push({
      id,
      ...decision(this.config, this.options, this.now),
      residentId: resident.id,
      roomId: resident.roomId,
      sensorId: alarm.sensorId,
      rule,
      priority: alarm.priority,
      evidence: { eventIds: alarm.eventIds.slice(-20), since: new Date(alarm.since).toISOString(), ...alarm.evidence },
    });
  }

  clear(rule: CareRuleId, eventId: string): void {
    const open = this.state.open.get(rule);
    if (open === undefined) return;
    this.state.open.delete(rule);
    this.output.cleared.push({ alarmId: open.alarmId, siteId: this.config.site.id, clearedAt: new Date(this.now).toISOString(), eventId });
  }
}

/** One sensor's context for one call (a class for the same reason as CareCall). */
class TechnicalCall implements TechnicalContext {
  constructor(
    readonly config: SiteConfig,
    readonly sensor: SensorConfig,
    readonly settings: ResolvedTechnicalSettings,
    readonly state: SensorState,
    readonly now: number,
    private readonly output: RuleOutput,
    private readonly options: RuleEngineOptions,
    private readonly residentId: string | undefined,
  ) {}

  raise(rule: TechnicalRuleId, alarm: TechnicalRaise): void {
    const { state, sensor, residentId } = this;
    if (state.open.has(rule)) return; // one alarm per condition, until it clears
    const id = this.options.newId();
    state.open.set(rule, { alarmId: id });
    this.output.raised.push({
      id,
      ...decision(this.config, this.options, this.now),
      ...(residentId !== undefined ? { residentId } : {}),
      roomId: sensor.roomId,
      sensorId: sensor.id,
      rule,
      priority: 'technical',
      evidence: {
        eventIds: alarm.eventIds.slice(-20),
        since: new Date(alarm.since).toISOString(),
        ...alarm.evidence,
        sensorKind: sensor.kind,
      },
    });
  }

  clear(rule: TechnicalRuleId, eventId: string): void {
    const open = this.state.open.get(rule);
    if (open === undefined) return;
    this.state.open.delete(rule);
    this.output.cleared.push({ alarmId: open.alarmId, siteId: this.config.site.id, clearedAt: new Date(this.now).toISOString(), eventId });
  }
}
