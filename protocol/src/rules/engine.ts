import type { AlarmDecision, ConditionCleared, RuleId } from '../alarm.js';
import type { SensorEvent } from '../sensor-event.js';
import type { Resident, SensorConfig, SiteConfig } from '../site-config.js';
import { doorOpenAtNight } from './door-open-at-night.js';
import { outOfBedTooLong } from './out-of-bed-too-long.js';

/** What the rule engine knows about one resident between events. */
export interface ResidentState {
  bed: { occupied: boolean | null; since: number | null; eventId: string | null; sensorId: string | null };
  door: { open: boolean | null; since: number | null; eventId: string | null; sensorId: string | null };
  /** Conditions that have raised an alarm and not yet cleared, by rule. */
  open: Map<RuleId, { alarmId: string; sensorId: string }>;
}

/** What a rule gets to decide with. `raise` and `clear` record decisions; rules never do I/O. */
export interface RuleContext {
  readonly config: SiteConfig;
  readonly resident: Resident;
  readonly state: ResidentState;
  readonly now: number;
  raise(
    rule: RuleId,
    sensorId: string,
    since: number,
    eventIds: string[],
    extra?: Pick<AlarmDecision['evidence'], 'thresholdMinutes' | 'nightWindow'>,
  ): void;
  clear(rule: RuleId, eventId: string): void;
}

/** One night-watch rule. `onEvent` sees every event for the resident; `deadline` says when `onTick` must run. */
export interface Rule {
  readonly id: RuleId;
  onEvent(ctx: RuleContext, event: SensorEvent): void;
  onTick(ctx: RuleContext): void;
  deadline(ctx: Omit<RuleContext, 'raise' | 'clear' | 'now'>): number | null;
}

export interface RuleOutput {
  raised: AlarmDecision[];
  cleared: ConditionCleared[];
}

export interface RuleEngineOptions {
  /** Alarm ids; random in production, deterministic in a replay. */
  newId: () => string;
  /** Wall clock of the deciding machine, for `decidedAt`. Defaults to the site clock. */
  wallClock?: () => number;
}

const RULES: readonly Rule[] = [doorOpenAtNight, outOfBedTooLong];

const emptyState = (): ResidentState => ({
  bed: { occupied: null, since: null, eventId: null, sensorId: null },
  door: { open: null, since: null, eventId: null, sensorId: null },
  open: new Map(),
});

/**
 * The pure, deterministic night-watch rule engine. Time comes in with every call (`now` on the
 * site clock), so the same code decides live on the gateway and replays a recorded night.
 */
export class RuleEngine {
  #config: SiteConfig;
  #states = new Map<string, ResidentState>();
  #sensors = new Map<string, SensorConfig>();
  readonly #options: RuleEngineOptions;

  constructor(config: SiteConfig, options: RuleEngineOptions) {
    this.#options = options;
    this.#config = config;
    this.setConfig(config);
  }

  get config(): SiteConfig {
    return this.#config;
  }

  /** Replaces the configuration, keeping what is known about residents who are still there. */
  setConfig(config: SiteConfig): void {
    this.#config = config;
    this.#sensors = new Map(config.sensors.map((s) => [s.id, s]));
    const next = new Map<string, ResidentState>();
    for (const resident of config.residents) next.set(resident.id, this.#states.get(resident.id) ?? emptyState());
    this.#states = next;
  }

  sensor(sensorId: string): SensorConfig | undefined {
    return this.#sensors.get(sensorId);
  }

  /** The residents a sensor watches: its own resident, or everyone in its room. */
  residentsOf(sensor: SensorConfig): Resident[] {
    if (sensor.residentId !== undefined) return this.#config.residents.filter((r) => r.id === sensor.residentId);
    return this.#config.residents.filter((r) => r.roomId === sensor.roomId);
  }

  stateOf(residentId: string): ResidentState | undefined {
    return this.#states.get(residentId);
  }

  /** Feeds one normalized event; `now` is the site-clock time the event is decided at. */
  onEvent(event: SensorEvent, now: number): RuleOutput {
    // Deadlines that passed before this event are decided first: an "in bed" that arrives after
    // the out-of-bed deadline but before the timer fired must not swallow the alarm.
    const output = this.onTick(now);
    const sensor = this.#sensors.get(event.sensorId);
    if (sensor === undefined) return output;
    for (const resident of this.residentsOf(sensor)) {
      const ctx = this.#context(resident, now, output);
      for (const rule of RULES) rule.onEvent(ctx, event);
      this.#applyState(ctx.state, event, now);
      for (const rule of RULES) rule.onTick(ctx);
    }
    return output;
  }

  /** Lets time pass: raises the alarms whose deadline has come. */
  onTick(now: number): RuleOutput {
    const output: RuleOutput = { raised: [], cleared: [] };
    for (const resident of this.#config.residents) {
      const ctx = this.#context(resident, now, output);
      for (const rule of RULES) rule.onTick(ctx);
    }
    return output;
  }

  /** The earliest site-clock instant at which `onTick` could raise something, or null. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const resident of this.#config.residents) {
      const state = this.#states.get(resident.id);
      if (state === undefined) continue;
      for (const rule of RULES) {
        const at = rule.deadline({ config: this.#config, resident, state });
        if (at !== null && (next === null || at < next)) next = at;
      }
    }
    return next;
  }

  #applyState(state: ResidentState, event: SensorEvent, now: number): void {
    if (event.sensorKind === 'bed' && event.occupied !== undefined && event.occupied !== state.bed.occupied) {
      state.bed = { occupied: event.occupied, since: now, eventId: event.id, sensorId: event.sensorId };
    }
    if (event.sensorKind === 'door' && event.open !== undefined && event.open !== state.door.open) {
      state.door = { open: event.open, since: now, eventId: event.id, sensorId: event.sensorId };
    }
  }

  #context(resident: Resident, now: number, output: RuleOutput): RuleContext {
    const state = this.#states.get(resident.id) ?? emptyState();
    this.#states.set(resident.id, state);
    const config = this.#config;
    const wall = this.#options.wallClock ?? (() => now);
    const newId = this.#options.newId;
    return {
      config,
      resident,
      state,
      now,
      raise(rule, sensorId, since, eventIds, extra) {
        if (state.open.has(rule)) return; // one alarm per condition, until it clears
        const priority =
          rule === 'door-open-at-night' ? resident.plan.rules.doorOpenAtNight.priority : resident.plan.rules.outOfBedTooLong.priority;
        const id = newId();
        state.open.set(rule, { alarmId: id, sensorId });
        output.raised.push({
          id,
          siteId: config.site.id,
          residentId: resident.id,
          roomId: resident.roomId,
          sensorId,
          rule,
          priority,
          raisedAt: new Date(now).toISOString(),
          decidedAt: new Date(wall()).toISOString(),
          evidence: { eventIds, since: new Date(since).toISOString(), ...extra },
        });
      },
      clear(rule, eventId) {
        const open = state.open.get(rule);
        if (open === undefined) return;
        state.open.delete(rule);
        output.cleared.push({ alarmId: open.alarmId, siteId: config.site.id, clearedAt: new Date(now).toISOString(), eventId });
      },
    };
  }
}
