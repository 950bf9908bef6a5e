import type { NightAlarm, NightSummary } from '@nattevakt/protocol/night-summary';
import { addNights, nightOf, nightSpan, nightWindowOf } from '@nattevakt/protocol/rules/nights';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { PLAN_DEFAULTS, type Resident, type SiteConfig } from '@nattevakt/protocol/site-config';
import type { Logger } from 'pino';
import type { Clock } from '../alarms/escalation.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RangeOptions, TimeSeriesStore } from '../stores/timeseries/time-series-store.js';
import { type Reading, summariseNight } from './night-summary.js';

const HOUR = 3_600_000;
/** How far before the window the bed mat's last state is looked for. */
const LOOKBACK_MS = 24 * HOUR;
/** Read for every sensor: native sensors repeat their state at least every 10 minutes. */
const SHORT_LOOKBACK_MS = HOUR;
/** The most events read at once: more than this at one millisecond cannot be paged past by time. */
const PAGE = 10_000;
/**
 * Events read per page otherwise. A page is synchronous work on SQLite (a 10,000-event page took
 * 60–200 ms on a busy 2-core machine, most of it turning rows into events), and nothing else runs meanwhile.
 */
const READ_PAGE = 2_500;
/** An event this much older than now may belong to a night already summarised. */
const LATE_AFTER_MS = 30 * 60_000;
/** Residents summarised between two turns of the event loop (a 2,000-resident night is about a second of luxon). */
const RESIDENTS_PER_TURN = 25;
/**
 * Residents' summaries stored per transaction. On SQLite every other query waits for the one
 * connection while a transaction is open: the alarm path then waits for a chunk, not a site's night.
 */
const RESIDENTS_PER_TRANSACTION = 100;

/** Lets the event loop serve what is waiting (an alarm, a nurse's resolve) before more summary work. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Every event of a site in [from, to), paged through the port's limit. */
export async function allEvents(
  store: TimeSeriesStore,
  siteId: string,
  from: Date,
  to: Date,
  options?: RangeOptions,
): Promise<SensorEvent[]> {
  const out: SensorEvent[] = [];
  const seen = new Set<string>();
  let start = from;
  let limit = READ_PAGE;
  for (;;) {
    const page = await store.range(siteId, start, to, limit, options);
    let added = 0;
    for (const e of page)
      if (!seen.has(e.id)) {
        seen.add(e.id);
        out.push(e);
        added++;
      }
    if (page.length < limit) break;
    const last = Date.parse((page.at(-1) as SensorEvent).time);
    if (added === 0 || last === start.getTime()) {
      // A full page of one millisecond cannot be paged past by time: read it again in a page as
      // large as the port allows, and if that is still one millisecond, refuse rather than loop.
      if (limit < PAGE) {
        limit = PAGE;
        continue;
      }
      throw new Error(`more than ${PAGE} events of site ${siteId} at ${new Date(last).toISOString()}`);
    }
    limit = READ_PAGE;
    start = new Date(last);
    // Let waiting work (an alarm, a nurse's resolve) run between pages.
    await turn();
  }
  return out;
}

/** The sensors whose events tell about a resident: their own, or those of their room that belong to nobody. */
export function sensorsOf(config: SiteConfig, resident: Resident): { bed: Set<string>; door: Set<string> } {
  const bed = new Set<string>();
  const door = new Set<string>();
  for (const s of config.sensors) {
    const mine = s.residentId === resident.id || (s.residentId === undefined && s.roomId === resident.roomId);
    if (mine) (s.kind === 'bed' ? bed : door).add(s.id);
  }
  return { bed, door };
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list === undefined) out.set(key, [item]);
    else list.push(item);
  }
  return out;
}

/** `sensorsOf` for every resident at once, in one pass over the sensors: the same sets, in the same order. */
export function sensorsOfEach(config: SiteConfig): Map<Resident, { bed: Set<string>; door: Set<string> }> {
  const out = new Map(config.residents.map((r) => [r, { bed: new Set<string>(), door: new Set<string>() }]));
  const byId = groupBy(config.residents, (r) => r.id);
  const byRoom = groupBy(config.residents, (r) => r.roomId);
  for (const s of config.sensors) {
    const owners = s.residentId === undefined ? byRoom.get(s.roomId) : byId.get(s.residentId);
    for (const r of owners ?? []) {
      const sets = out.get(r) as { bed: Set<string>; door: Set<string> };
      (s.kind === 'bed' ? sets.bed : sets.door).add(s.id);
    }
  }
  return out;
}

/** Every resident's night window, computed once per distinct local window (luxon is the costly part). */
function windowsOf(config: SiteConfig, night: string): Map<string, { start: number; end: number }> {
  const byLocal = new Map<string, { start: number; end: number }>();
  return new Map(
    config.residents.map((r) => {
      const key = `${r.plan.nightWindow.start}-${r.plan.nightWindow.end}`;
      let window = byLocal.get(key);
      if (window === undefined) {
        window = nightWindowOf(night, r.plan.nightWindow, config.site.timezone);
        byLocal.set(key, window);
      }
      return [r.id, window];
    }),
  );
}

type AlarmRow = {
  id: string;
  resident_id: string | null;
  rule: string;
  priority: string;
  raised_at: string;
  received_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  outcome: string | null;
  status: string;
  first_delivered_at: string | null;
};

const between = (from: string, to: string | null) => (to === null ? null : Date.parse(to) - Date.parse(from));

export function toNightAlarm(row: AlarmRow): NightAlarm {
  return {
    id: row.id,
    rule: row.rule as NightAlarm['rule'],
    priority: row.priority as NightAlarm['priority'],
    raisedAt: new Date(row.raised_at).toISOString(),
    deliveredAfterMs: between(row.received_at, row.first_delivered_at),
    // A nurse who resolves without first pressing "Jeg går" has responded at resolution.
    responseMs: between(row.received_at, row.acknowledged_at ?? row.resolved_at),
    outcome: row.outcome as NightAlarm['outcome'],
    status: row.status,
  };
}

/**
 * Night summaries: computed from the time-series events and the alarms of one site and night
 * (one read of the site's events for all its residents), stored in `night_summaries`, and read
 * back from there, so they outlive the raw events.
 */
export class NightSummaryService {
  /** How long raw events are kept (set by the retention job): older nights are never summarised again. */
  rawEventDays = 30;
  /** Site-night summaries under way (key: site, night), each told when late events for its night come in. */
  readonly #summarising = new Map<string, Set<{ late: boolean }>>();

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly timeSeries: TimeSeriesStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Alarms of a site whose raise time lies in [from, to), with the first delivery time. */
  async alarmRows(siteId: string, from: number, to: number, residentId?: string): Promise<AlarmRow[]> {
    // Raise times are ISO text from the gateway: widen the text range by a day for any offset, then filter exactly.
    let query = this.db
      .selectFrom('alarms')
      .select((eb) => [
        'alarms.id',
        'alarms.resident_id',
        'alarms.rule',
        'alarms.priority',
        'alarms.raised_at',
        'alarms.received_at',
        'alarms.acknowledged_at',
        'alarms.resolved_at',
        'alarms.outcome',
        'alarms.status',
        eb
          .selectFrom('alarm_delivery')
          .select((d) => d.fn.min('alarm_delivery.delivered_at').as('first'))
          .whereRef('alarm_delivery.alarm_id', '=', 'alarms.id')
          .as('first_delivered_at'),
      ])
      .where('alarms.site_id', '=', siteId)
      .where('alarms.raised_at', '>=', new Date(from - 24 * HOUR).toISOString())
      .where('alarms.raised_at', '<', new Date(to + 24 * HOUR).toISOString());
    if (residentId !== undefined) query = query.where('alarms.resident_id', '=', residentId);
    const rows = await query.orderBy('alarms.raised_at').execute();
    return rows
      .map((r) => ({ ...r, first_delivered_at: r.first_delivered_at ?? null }))
      .filter((r) => {
        const t = Date.parse(r.raised_at);
        return t >= from && t < to;
      });
  }

  /**
   * Computes and stores the summaries of every resident of a site for one night (up to now when
   * the night is still under way). Returns them; none when the site had neither events nor alarms.
   * A large site's night is seconds of work: it yields to the event loop every few residents and
   * stores the summaries in short transactions, so the alarm path is never held for long.
   */
  async summariseSiteNight(siteId: string, night: string): Promise<NightSummary[]> {
    const key = `${siteId}\n${night}`;
    const run = { late: false, marked: false };
    const running = this.#summarising.get(key) ?? new Set();
    running.add(run);
    this.#summarising.set(key, running);
    try {
      const summaries = await this.#summarise(siteId, night, run);
      // Late events may have come in (and found no marker to clear) after the read and before the marker was committed.
      if (run.marked && run.late) await this.#clearRuns(siteId, [night]);
      return summaries;
    } finally {
      running.delete(run);
      if (running.size === 0) this.#summarising.delete(key);
    }
  }

  async #summarise(siteId: string, night: string, run: { late: boolean; marked: boolean }): Promise<NightSummary[]> {
    const config = this.sites.get(siteId);
    if (config === undefined) throw new Error(`no site "${siteId}"`);
    const zone = config.site.timezone;
    const now = this.clock.now();
    const windows = windowsOf(config, night);
    const span = nightSpan(night, zone);
    const first = Math.min(span.start, ...[...windows.values()].map((w) => w.start));
    const to = Math.max(span.end, ...[...windows.values()].map((w) => w.end));
    // Sensors that report their state every few minutes need a short look back; the rest get a long one below.
    const events = await allEvents(this.timeSeries, siteId, new Date(first - SHORT_LOOKBACK_MS), new Date(Math.min(to, now + 1)));
    const alarms = await this.alarmRows(siteId, first, to);
    const inNight = events.some((e) => Date.parse(e.time) >= span.start);
    // The night is done only when all its events were read: late ones that came in meanwhile send it back.
    const markRun = async (residents: number, db?: RelationalDb) => {
      if (run.late) return;
      await this.#markRun(siteId, night, residents, now, db);
      run.marked = true;
    };
    if (!inNight && alarms.length === 0) {
      // Nothing ran on this site that night (not installed yet, or the server was down): nothing to keep.
      if (now >= Math.max(...[...windows.values()].map((w) => w.end))) await markRun(0);
      return [];
    }
    // One pass over the site's events: each sensor's bed or door readings, oldest first.
    const bySensor = new Map<string, Reading[]>();
    for (let i = 0; i < events.length; i++) {
      if (i > 0 && i % READ_PAGE === 0) await turn();
      const e = events[i] as SensorEvent;
      const value = e.sensorKind === 'bed' ? e.occupied : e.open;
      if (value === undefined) continue;
      const list = bySensor.get(e.sensorId);
      const reading = { time: Date.parse(e.time), value };
      if (list === undefined) bySensor.set(e.sensorId, [reading]);
      else list.push(reading);
    }
    const sensorsOfResident = sensorsOfEach(config);
    // A bed mat silent since before the short look back (it reports only on change): its last state from the day before.
    const quiet = config.residents.flatMap((r) => {
      const start = (windows.get(r.id) as { start: number }).start;
      return [...(sensorsOfResident.get(r) as { bed: Set<string> }).bed].filter((id) => !((bySensor.get(id)?.[0]?.time ?? start) < start));
    });
    for (let i = 0; i < quiet.length; i += 100) {
      if (i > 0) await turn();
      const sensors = quiet.slice(i, i + 100);
      const earlier = await allEvents(this.timeSeries, siteId, new Date(first - LOOKBACK_MS), new Date(first - SHORT_LOOKBACK_MS), {
        sensors,
      });
      const wanted = new Set(sensors);
      for (const e of earlier.reverse()) {
        // Newest first: the last state before is all that is needed.
        if (e.occupied === undefined || !wanted.delete(e.sensorId)) continue;
        bySensor.set(e.sensorId, [{ time: Date.parse(e.time), value: e.occupied }, ...(bySensor.get(e.sensorId) ?? [])]);
      }
    }
    const alarmsOf = groupBy(alarms, (a) => a.resident_id ?? '');
    const summaries: NightSummary[] = [];
    for (const resident of config.residents) {
      if (summaries.length > 0 && summaries.length % RESIDENTS_PER_TURN === 0) await turn();
      const window = windows.get(resident.id) as { start: number; end: number };
      const sensors = sensorsOfResident.get(resident) as { bed: Set<string>; door: Set<string> };
      const readings = (ids: Set<string>): Reading[] | null => {
        if (ids.size === 0) return null;
        const lists = [...ids].map((id) => bySensor.get(id) ?? []);
        return lists.length === 1 ? (lists[0] as Reading[]) : lists.flat().sort((a, b) => a.time - b.time);
      };
      const summary = summariseNight({
        siteId,
        residentId: resident.id,
        night,
        timeZone: zone,
        localWindow: resident.plan.nightWindow,
        window,
        graceMs: (resident.plan.bedGraceSeconds ?? PLAN_DEFAULTS.bedGraceSeconds) * 1000,
        bed: readings(sensors.bed),
        door: readings(sensors.door),
        alarms: (alarmsOf.get(resident.id) ?? [])
          .filter((a) => Date.parse(a.raised_at) >= window.start && Date.parse(a.raised_at) < window.end)
          .map(toNightAlarm),
        now,
      });
      summaries.push(summary);
    }
    // Short transactions, each an upsert of its residents' summaries: a crash between two leaves the
    // night without its run marker, so it is summarised again (the same rows overwritten) next time.
    // The marker goes with the last chunk, and only when every summary is complete.
    const complete = summaries.every((s) => s.complete);
    for (let i = 0; i === 0 || i < summaries.length; i += RESIDENTS_PER_TRANSACTION) {
      if (i > 0) await turn();
      const chunk = summaries.slice(i, i + RESIDENTS_PER_TRANSACTION);
      const last = i + RESIDENTS_PER_TRANSACTION >= summaries.length;
      await this.db.transaction().execute(async (trx) => {
        for (const summary of chunk) await this.#store(summary, trx);
        if (last && complete) await markRun(summaries.length, trx);
      });
    }
    this.logger.info({ siteId, night, residents: summaries.length, events: events.length }, 'night summarised');
    return summaries;
  }

  /**
   * Summarises every night of every site that has ended (its last window closed `settleMs` ago)
   * since `earliest` and has not been summarised yet. Returns how many site-nights got summaries; a
   * site that fails is logged and counted in `failed`, so retention can hold back.
   */
  async summariseDue(earliest: number, settleMs: number): Promise<{ done: number; failed: number }> {
    const now = this.clock.now();
    let done = 0;
    let failed = 0;
    for (const config of this.sites.list()) {
      const siteId = config.site.id;
      const zone = config.site.timezone;
      const first = nightOf(earliest, zone);
      const runs = new Set(
        (
          await this.db.selectFrom('night_summary_runs').select('night').where('site_id', '=', siteId).where('night', '>=', first).execute()
        ).map((r) => r.night),
      );
      for (let night = first; night <= nightOf(now, zone); night = addNights(night, 1)) {
        if (runs.has(night)) continue;
        // A backlog of nights on a large site is seconds of work: between site-nights the event loop
        // serves the alarm path first, so a night summary never holds an alarm back by more than one night's work.
        await turn();
        const lastEnd = Math.max(nightSpan(night, zone).start, ...[...windowsOf(config, night).values()].map((w) => w.end));
        if (lastEnd + settleMs > now) continue;
        try {
          if ((await this.summariseSiteNight(siteId, night)).length > 0) done++;
        } catch (error) {
          failed++;
          this.logger.error({ err: error, siteId, night }, 'night summary failed');
        }
      }
    }
    return { done, failed };
  }

  /**
   * The store the gateway ingestion writes through: it forwards everything, and when a batch holds
   * events of a night already summarised (a gateway that was cut off delivers its outbox late), it
   * clears that night's run marker so the job summarises it again. Live events are never that old,
   * so the ingestion path pays nothing for it.
   */
  watching(store: TimeSeriesStore): TimeSeriesStore {
    return {
      write: async (events) => {
        const written = await store.write(events);
        if (written > 0) await this.#lateEvents(events);
        return written;
      },
      range: (siteId, from, to, limit, options) => store.range(siteId, from, to, limit, options),
      deleteBefore: (before) => store.deleteBefore(before),
      close: () => store.close(),
    };
  }

  async #lateEvents(events: SensorEvent[]): Promise<void> {
    const now = this.clock.now();
    const late = new Map<string, Set<string>>();
    for (const e of events) {
      const t = Date.parse(e.time);
      // Summaries are made 30 minutes after a window closes at the earliest; a younger event cannot be in one.
      if (t > now - LATE_AFTER_MS) continue;
      const zone = this.sites.get(e.siteId)?.site.timezone;
      if (zone === undefined) continue;
      const night = nightOf(t, zone);
      // A night whose raw events may already be partly deleted keeps the summary it has.
      if (nightSpan(night, zone).start < now - this.rawEventDays * 24 * HOUR) continue;
      const nights = late.get(e.siteId) ?? new Set<string>();
      nights.add(night);
      late.set(e.siteId, nights);
    }
    // A summary of such a night under way has read its events already: it must not mark the night done.
    for (const [siteId, nights] of late)
      for (const night of nights) for (const run of this.#summarising.get(`${siteId}\n${night}`) ?? []) run.late = true;
    for (const [siteId, nights] of late) {
      if ((await this.#clearRuns(siteId, [...nights])) > 0)
        this.logger.info({ siteId, nights: [...nights] }, 'late events: nights will be summarised again');
    }
  }

  /** Deletes the run markers of these nights, so the job summarises them again; how many there were. */
  async #clearRuns(siteId: string, nights: string[]): Promise<number> {
    const cleared = await this.db
      .deleteFrom('night_summary_runs')
      .where('site_id', '=', siteId)
      .where('night', 'in', nights)
      .executeTakeFirst();
    return Number(cleared.numDeletedRows);
  }

  /** The stored summary of one resident's night; computed (and stored) first when the night has data but none is stored. */
  async get(siteId: string, residentId: string, night: string): Promise<NightSummary | null> {
    const stored = await this.#read(siteId, residentId, night);
    if (stored?.complete && (await this.#summarised(siteId, night))) return stored;
    // Past retention the raw events are (partly) gone: what is stored stays.
    const zone = this.sites.get(siteId)?.site.timezone ?? 'UTC';
    if (stored !== null && nightSpan(night, zone).start < this.clock.now() - this.rawEventDays * 24 * HOUR) return stored;
    const fresh = await this.summariseSiteNight(siteId, night);
    return fresh.find((s) => s.residentId === residentId) ?? stored;
  }

  /** Stored summaries of one resident for nights in [first, last], oldest first. */
  async list(siteId: string, residentId: string, first: string, last: string): Promise<NightSummary[]> {
    const rows = await this.db
      .selectFrom('night_summaries')
      .select('summary')
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .where('night', '>=', first)
      .where('night', '<=', last)
      .orderBy('night')
      .execute();
    return rows.map((r) => JSON.parse(r.summary) as NightSummary);
  }

  /** Whether the night's summaries are up to date (its run marker is there; late events clear it). */
  async #summarised(siteId: string, night: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('night_summary_runs')
      .select('night')
      .where('site_id', '=', siteId)
      .where('night', '=', night)
      .executeTakeFirst();
    return row !== undefined;
  }

  async #read(siteId: string, residentId: string, night: string): Promise<NightSummary | null> {
    const row = await this.db
      .selectFrom('night_summaries')
      .select('summary')
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .where('night', '=', night)
      .executeTakeFirst();
    return row === undefined ? null : (JSON.parse(row.summary) as NightSummary);
  }

  async #store(s: NightSummary, db: RelationalDb = this.db): Promise<void> {
    const row = {
      site_id: s.siteId,
      resident_id: s.residentId,
      night: s.night,
      window_start: s.window.start,
      window_end: s.window.end,
      complete: s.complete ? 1 : 0,
      verdict: s.verdict,
      time_in_bed_minutes: s.timeInBedMinutes,
      bed_exits: s.bedExits,
      longest_out_minutes: s.longestOutOfBedMinutes,
      door_openings: s.doorOpenings,
      alarms: s.alarms.length,
      summary: JSON.stringify(s),
      computed_at: s.computedAt,
    };
    const { site_id: _s, resident_id: _r, night: _n, ...update } = row;
    await db
      .insertInto('night_summaries')
      .values(row)
      .onConflict((oc) => oc.columns(['site_id', 'resident_id', 'night']).doUpdateSet(update))
      .execute();
  }

  async #markRun(siteId: string, night: string, residents: number, now: number, db: RelationalDb = this.db): Promise<void> {
    const row = { site_id: siteId, night, residents, computed_at: new Date(now).toISOString() };
    await db
      .insertInto('night_summary_runs')
      .values(row)
      .onConflict((oc) => oc.columns(['site_id', 'night']).doUpdateSet({ residents, computed_at: row.computed_at }))
      .execute();
  }
}

/** The most recent night whose window (of this plan) has closed by `now`. */
export function lastEndedNight(now: number, window: Resident['plan']['nightWindow'], zone: string): string {
  const tonight = nightOf(now, zone);
  return now >= nightWindowOf(tonight, window, zone).end ? tonight : addNights(tonight, -1);
}
