import { randomUUID } from 'node:crypto';
import type { ScenarioInfo, ScenarioProgress, ScenarioRun, ScenarioRunRequest } from '@nattevakt/protocol/commissioning';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { SiteClock } from '@nattevakt/protocol/ward';
import type { CompiledScenario } from '@nattevakt/simulator/scenario/load-scenario';
import type { Selectable } from 'kysely';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Clock } from '../alarms/escalation.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import { SettingsError, type TestSettings } from './test-settings.js';

type Row = Selectable<RelationalSchema['scenario_runs']>;
type SimulatorLibrary = typeof import('@nattevakt/simulator');

const DAY_MS = 86_400_000;
/** A run is aborted after this long (a scenario normally takes seconds: it runs as fast as the gateway acknowledges). */
const DEFAULT_MAX_RUN_MS = 10 * 60_000;

/** Why a run cannot start: an HTTP status and words that say what to do. */
export class ScenarioRunError extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 409 | 503,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export interface ScenarioRunnerDeps {
  db: RelationalDb;
  sites: SiteService;
  settings: TestSettings;
  /** The site clocks the gateways report (simulated or not, and their time). */
  clocks: Map<string, SiteClock>;
  clock: Clock;
  logger: Logger;
  /** Sends progress and the verdict to the person who started the run (every socket of theirs, on every instance). */
  notify: {
    progress(userId: string, progress: ScenarioProgress): void;
    finished(userId: string, run: ScenarioRun): void;
  };
  /** The simulator library; imported on first use, so a server installed without it still runs (503 here). */
  library?: () => Promise<SimulatorLibrary>;
  /** Where the built-in scenarios are (default: the simulator package's `scenarios/`). */
  builtInDir?: string;
  maxRunMs?: number;
}

function toRun(row: Row): ScenarioRun {
  return {
    id: row.id,
    siteId: row.site_id,
    scenario: row.scenario,
    title: row.title,
    source: row.source as ScenarioRun['source'],
    status: row.status as ScenarioRun['status'],
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    startedBy: row.started_by,
    night: row.night,
    sent: row.sent,
    alarms: JSON.parse(row.alarms) as string[],
    differences: JSON.parse(row.differences) as ScenarioRun['differences'],
    error: row.error,
    hint: row.hint,
    durationMs: row.duration_ms,
  };
}

/**
 * Runs a simulator scenario against a site's gateway from the technician's page, through the
 * simulator library (`verifyScenario`): the server connects to the gateway's broker as the site's
 * simulator device, drives the gateway's simulated clock through the scenario's night, and stores
 * the verdict. One run per site at a time (a unique partial index, so across instances too).
 *
 * Refused before anything is sent: a gateway on the real clock (production: scenarios drive a
 * simulated clock, so they only make sense on a test or commissioning gateway), a gateway that has
 * not reported its clock, and a site whose configuration is not the scenario's ward (its verdict
 * would mean nothing). The night moves to a later date when the gateway's clock is past it: a
 * simulated clock never runs back.
 */
export class ScenarioRunner {
  readonly #deps: ScenarioRunnerDeps;
  readonly #running = new Map<string, { aborter: AbortController; done: Promise<void> }>();
  /** Where this instance left each site's simulated clock: the gateway reports its clock at most once a second. */
  readonly #lastEnd = new Map<string, number>();
  #library: Promise<SimulatorLibrary> | null = null;

  constructor(deps: ScenarioRunnerDeps) {
    this.#deps = deps;
  }

  async #lib(): Promise<SimulatorLibrary> {
    this.#library ??= (this.#deps.library ?? (() => import('@nattevakt/simulator')))();
    try {
      return await this.#library;
    } catch (error) {
      this.#library = null;
      this.#deps.logger.error({ err: error }, 'the simulator library cannot be loaded');
      throw new ScenarioRunError(503, 'the simulator is not installed with this server (@nattevakt/simulator), so it cannot run scenarios');
    }
  }

  /** The built-in scenarios, by name and title. */
  async builtIns(): Promise<ScenarioInfo[]> {
    const lib = await this.#lib();
    return (await lib.builtInScenarios(this.#deps.builtInDir)).map((s) => ({ name: s.name, title: s.title }));
  }

  async list(siteId: string, limit = 50): Promise<ScenarioRun[]> {
    const rows = await this.#deps.db
      .selectFrom('scenario_runs')
      .selectAll()
      .where('site_id', '=', siteId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async get(siteId: string, runId: string): Promise<ScenarioRun | null> {
    const row = await this.#deps.db
      .selectFrom('scenario_runs')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('id', '=', runId)
      .executeTakeFirst();
    return row === undefined ? null : toRun(row);
  }

  /** Checks everything, stores the run as `running` and starts it; resolves at once with the stored run (the verdict comes later). */
  async start(siteId: string, request: ScenarioRunRequest, by: { id: string; name: string }): Promise<ScenarioRun> {
    const { db, sites, settings, clocks, clock, logger } = this.#deps;
    const config = sites.get(siteId);
    if (config === undefined) throw new ScenarioRunError(404, `no site "${siteId}"`);
    const lib = await this.#lib();

    let source: string;
    let file: string;
    let origin: ScenarioRun['source'];
    if ('scenario' in request) {
      const found = await lib.builtInScenario(request.scenario, this.#deps.builtInDir);
      if (found === null) throw new ScenarioRunError(404, `body/scenario: no built-in scenario "${request.scenario}"`);
      source = found.source;
      file = `${found.name}.yaml`;
      origin = 'built-in';
    } else {
      source = request.file;
      file = request.fileName ?? 'upload.yaml';
      origin = 'upload';
    }
    const compile = (night?: string): CompiledScenario => {
      try {
        return lib.compileScenario(source, { file, siteId, ...(night !== undefined ? { night } : {}) });
      } catch (error) {
        if (error instanceof lib.ScenarioError)
          throw new ScenarioRunError(
            400,
            `body/file: the scenario has ${error.problems.length} problem(s)`,
            error.problems.map((p) => lib.formatProblem(file, p)),
          );
        throw error;
      }
    };
    let scenario = compile();

    const connection = await settings.simulatorConnection(siteId).catch((error: unknown) => {
      if (error instanceof SettingsError) throw new ScenarioRunError(409, error.message);
      throw error;
    });
    if (connection === null)
      throw new ScenarioRunError(
        409,
        `no simulator connection is set for site "${siteId}": an admin sets the gateway broker's address and its simulator device (PUT /api/sites/${siteId}/test-settings/simulator)`,
      );
    const siteClock = clocks.get(siteId);
    if (siteClock === undefined)
      throw new ScenarioRunError(409, `the gateway of site "${siteId}" has not reported its clock: is it connected to this server?`);
    if (!siteClock.simulated)
      throw new ScenarioRunError(
        409,
        `the gateway of site "${siteId}" runs on the real clock: scenarios drive a simulated clock, so they run only on a test or commissioning gateway started with clock "simulated"`,
      );
    if (scenario.messages.some((m) => !m.topic.startsWith('nattevakt/')) && connection.bridge === undefined)
      throw new ScenarioRunError(
        409,
        'the scenario has Zigbee2MQTT sensors: set a bridge device (bridgeUsername, bridgePassword) in the site’s simulator connection',
      );
    const differences = wardDifferences(scenario.site, config);
    if (differences.length > 0)
      throw new ScenarioRunError(
        409,
        `the configuration of site "${siteId}" is not the scenario's ward, so its verdict would mean nothing: load the scenario's ward into the site first (simulator check FILE --print site)`,
        differences,
      );

    // A simulated clock never runs back: play the night on a later evening when the gateway is past it.
    const past = Math.max(Date.parse(siteClock.time), this.#lastEnd.get(siteId) ?? 0);
    if (scenario.from <= past) {
      const zone = scenario.clock.zone;
      const days = Math.floor((past - scenario.from) / DAY_MS) + 1;
      const night = DateTime.fromISO(scenario.clock.night, { zone }).plus({ days }).toISODate() as string;
      scenario = compile(night);
      if (scenario.from <= past) scenario = compile(DateTime.fromISO(night, { zone }).plus({ days: 1 }).toISODate() as string);
    }

    const now = clock.now();
    const maxRunMs = this.#deps.maxRunMs ?? DEFAULT_MAX_RUN_MS;
    // A run an instance never finished (it stopped) no longer holds the site.
    await db
      .updateTable('scenario_runs')
      .set({ status: 'error', error: 'the server running it stopped before it finished', finished_at: new Date(now).toISOString() })
      .where('site_id', '=', siteId)
      .where('status', '=', 'running')
      .where('started_at', '<', new Date(now - maxRunMs - 60_000).toISOString())
      .execute();
    const row: Row = {
      id: randomUUID(),
      site_id: siteId,
      scenario: scenario.name,
      title: scenario.title ?? null,
      source: origin,
      status: 'running',
      started_at: new Date(now).toISOString(),
      finished_at: null,
      started_by: by.name,
      started_by_id: by.id,
      night: scenario.clock.night,
      sent: 0,
      alarms: '[]',
      differences: '[]',
      error: null,
      hint: null,
      duration_ms: null,
    };
    try {
      await db.insertInto('scenario_runs').values(row).execute();
    } catch (error) {
      const running = await db
        .selectFrom('scenario_runs')
        .select(['scenario', 'started_by'])
        .where('site_id', '=', siteId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (running !== undefined)
        throw new ScenarioRunError(
          409,
          `a scenario is already running on site "${siteId}" (${running.scenario}, started by ${running.started_by})`,
        );
      throw error;
    }
    this.#lastEnd.set(siteId, scenario.to);
    logger.info({ siteId, runId: row.id, scenario: scenario.name, night: row.night, by: by.id }, 'scenario run started');

    const aborter = new AbortController();
    const limit = setTimeout(() => aborter.abort(), maxRunMs);
    limit.unref();
    const done = this.#run(lib, scenario, row, connection, aborter.signal, by.id).finally(() => {
      clearTimeout(limit);
      this.#running.delete(row.id);
    });
    this.#running.set(row.id, { aborter, done });
    return toRun(row);
  }

  async #run(
    lib: SimulatorLibrary,
    scenario: CompiledScenario,
    row: Row,
    connection: NonNullable<Awaited<ReturnType<TestSettings['simulatorConnection']>>>,
    signal: AbortSignal,
    userId: string,
  ): Promise<void> {
    const { db, clock, logger, notify } = this.#deps;
    let finished: Partial<Row>;
    try {
      const result = await lib.verifyScenario(scenario, {
        url: connection.url,
        username: connection.username,
        password: connection.password,
        ...(connection.bridge ? { bridge: connection.bridge } : {}),
        progressEveryMs: 250,
        signal,
        onProgress: (p) =>
          notify.progress(userId, {
            runId: row.id,
            siteId: row.site_id,
            fraction: Math.min(1, Math.max(0, p.fraction)),
            simTime: new Date(p.simTime).toISOString(),
            sent: p.sent,
            alarms: p.alarms,
          }),
      });
      const lines = lib.describeDifferences(result.differences, scenario.clock);
      finished = {
        status: result.aborted ? 'error' : result.passed ? 'passed' : 'failed',
        sent: result.sent,
        alarms: JSON.stringify(result.alarms.map((a) => lib.describeAlarm(a, scenario.clock))),
        differences: JSON.stringify(
          result.differences.map((d, i) => ({ kind: d.kind, text: (lines[i] ?? d.kind).replace(/^\S+\s+/, '') })),
        ),
        error: result.aborted
          ? `aborted after ${Math.round((this.#deps.maxRunMs ?? DEFAULT_MAX_RUN_MS) / 1000)} s, or the server stopped`
          : null,
        hint: result.hint ?? null,
        duration_ms: result.durationMs,
      };
    } catch (error) {
      finished = { status: 'error', error: error instanceof Error ? error.message : String(error) };
    }
    const at = new Date(clock.now()).toISOString();
    try {
      await db
        .updateTable('scenario_runs')
        .set({ ...finished, finished_at: at })
        .where('id', '=', row.id)
        .execute();
      const run = toRun({ ...row, ...finished, finished_at: at } as Row);
      logger.info({ siteId: row.site_id, runId: row.id, status: run.status }, 'scenario run finished');
      notify.finished(userId, run);
    } catch (error) {
      logger.error({ siteId: row.site_id, runId: row.id, err: error }, 'could not store a scenario verdict');
    }
  }

  /** Aborts the runs of this instance and waits for their verdicts to be stored. */
  async stop(): Promise<void> {
    const runs = [...this.#running.values()];
    for (const run of runs) run.aborter.abort();
    await Promise.all(runs.map((r) => r.done.catch(() => {})));
  }

  /** Resolves when the run (started on this instance) has its verdict stored. */
  async settled(runId: string): Promise<void> {
    await this.#running.get(runId)?.done;
  }
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/**
 * How a site's configuration differs from a scenario's ward, in words (at most 20): rooms,
 * sensors (kind, room, resident), residents (room, plan without its derived `armed`), whether
 * each resident is armed (a plan without a legal basis raises nothing), and the time zone. Names
 * do not matter.
 */
export function wardDifferences(ward: SiteConfig, site: SiteConfig): string[] {
  const out: string[] = [];
  if (ward.site.timezone !== site.site.timezone)
    out.push(`time zone: the scenario's is ${ward.site.timezone}, the site's ${site.site.timezone}`);
  const compare = <T extends { id: string }>(
    what: string,
    mine: T[],
    theirs: T[],
    key: (t: T) => string,
    detail: (a: T, b: T) => string[],
  ) => {
    const other = new Map(theirs.map((t) => [t.id, t]));
    for (const item of mine) {
      const there = other.get(item.id);
      if (there === undefined) out.push(`${what} ${item.id}: in the scenario, not in the site`);
      else if (key(item) !== key(there)) out.push(...detail(item, there).map((d) => `${what} ${item.id}: ${d}`));
      other.delete(item.id);
    }
    for (const id of other.keys())
      out.push(`${what} ${id}: in the site, not in the scenario (it would be silent, or raise what the scenario does not expect)`);
  };
  compare(
    'room',
    ward.rooms,
    site.rooms,
    () => '',
    () => [],
  );
  compare(
    'sensor',
    ward.sensors,
    site.sensors,
    (s) => `${s.kind} ${s.roomId} ${s.residentId ?? ''}`,
    (a, b) => [
      `the scenario has a ${a.kind} sensor in ${a.roomId}${a.residentId ? ` for ${a.residentId}` : ''}, the site a ${b.kind} sensor in ${b.roomId}${b.residentId ? ` for ${b.residentId}` : ''}`,
    ],
  );
  const plan = (r: SiteConfig['residents'][number]) => {
    const { armed: _armed, ...rest } = r.plan;
    return canonical(rest);
  };
  compare(
    'resident',
    ward.residents,
    site.residents,
    (r) => `${r.roomId} ${plan(r)}`,
    (a, b) => [
      ...(a.roomId !== b.roomId ? [`in ${a.roomId} in the scenario, in ${b.roomId} on the site`] : []),
      ...(plan(a) !== plan(b) ? [`the supervision plan differs: the scenario's is ${plan(a)}, the site's ${plan(b)}`] : []),
    ],
  );
  for (const resident of ward.residents) {
    const there = site.residents.find((r) => r.id === resident.id);
    if (there !== undefined && resident.plan.armed && !there.plan.armed)
      out.push(
        `resident ${resident.id}: not armed on the site (no legal basis recorded, or the plan is paused), so nothing would be raised`,
      );
  }
  return out.slice(0, 20);
}
