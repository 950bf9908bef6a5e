import { createHash, randomUUID } from 'node:crypto';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SelfTestLogEntry, SelfTestReport, SelfTestStage } from '@nattevakt/protocol/commissioning';
import type { Selectable } from 'kysely';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { Clock } from '../alarms/escalation.js';
import type { SiteService } from '../sites/site-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import type { ScheduledSelfTest, TestSettings } from './test-settings.js';

type Row = Selectable<RelationalSchema['self_test_log']>;

/** A report counts for the day's test when the server records it at most this long before the due time. */
const EARLY_MS = 60 * 60_000;
const DEFAULT_POLL_MS = 30_000;

const iso = (ms: number) => new Date(ms).toISOString();
/** An alarm id the same on every instance for the same site and due time, so the alarm is raised once. */
const stableId = (prefix: string, ...parts: string[]) =>
  `${prefix}-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;
export const missedAlarmId = (siteId: string, due: number) => stableId('self-test-missed', siteId, iso(due));

function toEntry(row: Row): SelfTestLogEntry {
  return {
    id: row.id,
    siteId: row.site_id,
    at: row.at,
    recordedAt: row.recorded_at,
    result: row.result as SelfTestLogEntry['result'],
    late: row.late === 1,
    stages: JSON.parse(row.stages) as SelfTestStage[],
    failure: row.failure,
    alarmId: row.alarm_id,
    device: row.device,
    reportedBy: row.reported_by,
  };
}

/**
 * The latest instant the daily self-test was due at or before `now`, on the site's wall clock
 * (`at` is HH:MM in `zone`, DST-aware: on a spring-forward day a missing time moves on by the gap).
 */
export function latestDue(at: string, zone: string, now: number): number {
  const [hour, minute] = at.split(':').map(Number) as [number, number];
  const today = DateTime.fromMillis(now, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
  return today.toMillis() <= now ? today.toMillis() : today.minus({ days: 1 }).set({ hour, minute }).toMillis();
}

/**
 * The maintenance log of the chain self-test: every result the simulator reports, and every day
 * the test did not come. A missing or late test (nothing recorded by the due time + grace) is a
 * `self-test-missed` technical alarm on the site's boards, raised through the AlarmService under an
 * id derived from the site and the due time, so several instances and repeated checks raise it
 * once. A failed test whose alarm never reached the server raises `self-test-failed`.
 */
export class SelfTestLog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #running: Promise<number> | null = null;

  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly settings: TestSettings,
    private readonly alarms: AlarmService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {}

  /** Records a reported result; raises `self-test-failed` when the test alarm never reached the server. */
  async record(siteId: string, report: SelfTestReport, reportedBy: string): Promise<SelfTestLogEntry> {
    const now = this.clock.now();
    const schedule = (await this.settings.schedules()).find((s) => s.siteId === siteId);
    let late = false;
    if (schedule !== undefined) {
      const due = latestDue(schedule.at, this.#zone(siteId), now);
      if (now > due + schedule.graceMinutes * 60_000) {
        const missed = missedAlarmId(siteId, due);
        const row = await this.db.selectFrom('self_test_log').select('id').where('id', '=', missed).executeTakeFirst();
        if (row !== undefined) {
          late = true;
          // The test came after all: the missed alarm's condition is over (a nurse still resolves it).
          await this.alarms.conditionCleared(
            { alarmId: missed, siteId, clearedAt: iso(now), eventId: `self-test-${report.at}`.slice(0, 64) },
            siteId,
          );
        }
      }
    }
    const stages: SelfTestStage[] = [];
    if (report.gatewayMs !== undefined) stages.push({ stage: 'gateway', ms: report.gatewayMs });
    if (report.serverMs !== undefined) stages.push({ stage: 'server', ms: report.serverMs });
    if (report.tabletMs !== undefined) stages.push({ stage: 'tablet', ms: report.tabletMs });
    const id = randomUUID();
    let alarmId = report.alarmId ?? null;
    if (!report.ok && report.serverMs === undefined) {
      // The chain broke before the server: its own test alarm is not on any board, so the server raises one.
      const raised = await this.#raise(
        siteId,
        report.sensorId ?? schedule?.sensorId,
        stableId('self-test-failed', siteId, id),
        'self-test-failed',
        {
          since: report.at,
        },
      );
      if (raised !== null) alarmId = raised;
    }
    const row: Row = {
      id,
      site_id: siteId,
      at: report.at,
      recorded_at: iso(now),
      result: report.ok ? 'passed' : 'failed',
      late: late ? 1 : 0,
      stages: JSON.stringify(stages),
      failure: report.failure ?? null,
      alarm_id: alarmId,
      device: report.device ?? null,
      reported_by: reportedBy,
    };
    await this.db.insertInto('self_test_log').values(row).execute();
    this.logger.info({ siteId, result: row.result, late, ...(alarmId ? { alarmId } : {}) }, 'self-test recorded');
    return toEntry(row);
  }

  /** A site's log, newest first. */
  async list(siteId: string, limit = 100): Promise<SelfTestLogEntry[]> {
    const rows = await this.db
      .selectFrom('self_test_log')
      .selectAll()
      .where('site_id', '=', siteId)
      .orderBy('at', 'desc')
      .orderBy('recorded_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  start(): void {
    if (this.pollMs <= 0) return;
    const tick = () => {
      this.check().then(
        () => this.#schedule(tick),
        (error: unknown) => {
          this.logger.error({ err: error }, 'self-test watch failed');
          this.#schedule(tick);
        },
      );
    };
    this.#schedule(tick);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** One pass over every scheduled site (concurrent callers share it); resolves with the alarms raised. */
  check(): Promise<number> {
    this.#running ??= this.#check().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(tick: () => void): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(tick, this.pollMs);
    this.#timer.unref();
  }

  async #check(): Promise<number> {
    const now = this.clock.now();
    let raised = 0;
    for (const schedule of await this.settings.schedules()) {
      if (this.sites.get(schedule.siteId) === undefined) continue;
      if (await this.#missed(schedule, now)) raised++;
    }
    return raised;
  }

  /** Raises the day's missed alarm when its deadline has passed with nothing recorded; true when this call raised it. */
  async #missed(schedule: ScheduledSelfTest, now: number): Promise<boolean> {
    const { siteId } = schedule;
    const grace = schedule.graceMinutes * 60_000;
    // The latest due time whose deadline has passed (today's, or yesterday's while today's grace runs).
    let due = latestDue(schedule.at, this.#zone(siteId), now);
    if (now <= due + grace) due = latestDue(schedule.at, this.#zone(siteId), due - 1);
    // A schedule set after that due time does not look back.
    if (due < Date.parse(schedule.since)) return false;
    const id = missedAlarmId(siteId, due);
    const recorded = await this.db
      .selectFrom('self_test_log')
      .select('id')
      .where('site_id', '=', siteId)
      .where((eb) =>
        eb.or([
          eb('id', '=', id),
          eb.and([eb('result', '!=', 'missed'), eb('recorded_at', '>=', iso(due - EARLY_MS)), eb('recorded_at', '<=', iso(due + grace))]),
        ]),
      )
      .executeTakeFirst();
    if (recorded !== undefined) return false;
    const alarmId = await this.#raise(siteId, schedule.sensorId, id, 'self-test-missed', {
      since: iso(due),
      setting: { time: schedule.at, minutes: schedule.graceMinutes },
    });
    const inserted = await this.db
      .insertInto('self_test_log')
      .values({
        id,
        site_id: siteId,
        at: iso(due),
        recorded_at: iso(now),
        result: 'missed',
        late: 0,
        stages: '[]',
        failure: `no self-test result by ${schedule.at} + ${schedule.graceMinutes} min`,
        alarm_id: alarmId,
        device: null,
        reported_by: 'server',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted !== undefined) this.logger.warn({ siteId, due: iso(due), ...(alarmId ? { alarmId } : {}) }, 'self-test missed');
    return inserted !== undefined;
  }

  /** Raises a server-decided technical alarm on the self-test sensor; null when that sensor is not in the site. */
  async #raise(
    siteId: string,
    sensorId: string | undefined,
    id: string,
    rule: 'self-test-missed' | 'self-test-failed',
    evidence: { since: string; setting?: AlarmDecision['evidence']['setting'] },
  ): Promise<string | null> {
    const sensor = this.sites.get(siteId)?.sensors.find((s) => s.id === sensorId);
    if (sensor === undefined) {
      this.logger.error({ siteId, sensorId, rule }, 'self-test alarm not raised: the self-test sensor is not in the site configuration');
      return null;
    }
    const now = iso(this.clock.now());
    const decision: AlarmDecision = {
      id,
      siteId,
      roomId: sensor.roomId,
      sensorId: sensor.id,
      rule,
      priority: 'technical',
      raisedAt: now,
      decidedAt: now,
      evidence: {
        eventIds: [],
        since: evidence.since,
        sensorKind: sensor.kind,
        ...(evidence.setting ? { setting: evidence.setting } : {}),
      },
    };
    await this.alarms.raise(decision, siteId);
    return id;
  }

  #zone(siteId: string): string {
    return this.sites.get(siteId)?.site.timezone ?? 'Europe/Oslo';
  }
}
