import type { SelfTestSchedule, SimulatorConnectionInput, TestSettingsView } from '@nattevakt/protocol/commissioning';
import type { Selectable } from 'kysely';
import { type Actor, writeConfigAudit } from '../sites/config-audit.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import type { SecretBox } from './secret-box.js';

type Row = Selectable<RelationalSchema['site_test_settings']>;

/** The gateway broker's simulator device as the scenario runner uses it (passwords decrypted). */
export interface SimulatorConnection {
  url: string;
  username: string;
  password: string;
  bridge?: { username: string; password: string };
}

/** A site's daily self-test schedule, with when it was set (days before it never count as missed). */
export interface ScheduledSelfTest extends SelfTestSchedule {
  siteId: string;
  since: string;
}

/**
 * Per-site settings for testing: how the server reaches the gateway's broker as its simulator
 * device (for scenario runs), and when the daily self-test is due. Passwords are sealed with the
 * server's secret key before they are stored and are never part of any view.
 */
export class TestSettings {
  constructor(
    private readonly db: RelationalDb,
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {}

  async view(siteId: string): Promise<TestSettingsView> {
    const row = await this.#row(siteId);
    return {
      siteId,
      simulator:
        row?.mqtt_url && row.mqtt_username
          ? {
              url: row.mqtt_url,
              username: row.mqtt_username,
              passwordSet: row.mqtt_password !== null,
              bridgeUsername: row.bridge_username,
              bridgePasswordSet: row.bridge_password !== null,
            }
          : null,
      selfTest: scheduleOf(row),
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
  }

  /** Stores the connection; a password left out keeps the one stored (an error when there is none). */
  async setSimulator(siteId: string, input: SimulatorConnectionInput, by: Actor): Promise<TestSettingsView> {
    const row = await this.#row(siteId);
    const password = input.password !== undefined ? this.box.seal(input.password) : (row?.mqtt_password ?? null);
    if (password === null) throw new SettingsError('body/password is required: no password is stored for this site yet');
    const bridgeUsername = input.bridgeUsername === undefined ? (row?.bridge_username ?? null) : input.bridgeUsername;
    const bridgePassword =
      bridgeUsername === null
        ? null
        : input.bridgePassword !== undefined
          ? this.box.seal(input.bridgePassword)
          : (row?.bridge_password ?? null);
    if (bridgeUsername !== null && bridgePassword === null) throw new SettingsError('body/bridgePassword is required with bridgeUsername');
    await this.#upsert(
      siteId,
      by,
      'simulator-connection-set',
      { url: input.url, username: input.username, bridgeUsername, passwordChanged: input.password !== undefined },
      {
        mqtt_url: input.url,
        mqtt_username: input.username,
        mqtt_password: password,
        bridge_username: bridgeUsername,
        bridge_password: bridgePassword,
      },
    );
    return this.view(siteId);
  }

  async clearSimulator(siteId: string, by: Actor): Promise<TestSettingsView> {
    await this.#upsert(siteId, by, 'simulator-connection-removed', null, {
      mqtt_url: null,
      mqtt_username: null,
      mqtt_password: null,
      bridge_username: null,
      bridge_password: null,
    });
    return this.view(siteId);
  }

  async setSelfTest(siteId: string, schedule: SelfTestSchedule | null, by: Actor): Promise<TestSettingsView> {
    const iso = new Date(this.now()).toISOString();
    await this.#upsert(
      siteId,
      by,
      'self-test-schedule-set',
      { schedule },
      {
        self_test_at: schedule?.at ?? null,
        self_test_grace_minutes: schedule?.graceMinutes ?? null,
        self_test_sensor_id: schedule?.sensorId ?? null,
        self_test_since: schedule === null ? null : iso,
      },
    );
    return this.view(siteId);
  }

  /** The connection with its passwords, for the scenario runner only; null when none is set. */
  async simulatorConnection(siteId: string): Promise<SimulatorConnection | null> {
    const row = await this.#row(siteId);
    if (!row?.mqtt_url || !row.mqtt_username || !row.mqtt_password) return null;
    const open = (sealed: string) => {
      try {
        return this.box.open(sealed);
      } catch {
        throw new SettingsError(
          `the stored simulator password of site "${siteId}" cannot be decrypted (the server's secret key changed?): an admin must set it again`,
        );
      }
    };
    return {
      url: row.mqtt_url,
      username: row.mqtt_username,
      password: open(row.mqtt_password),
      ...(row.bridge_username && row.bridge_password
        ? { bridge: { username: row.bridge_username, password: open(row.bridge_password) } }
        : {}),
    };
  }

  /** Every site with a self-test schedule. */
  async schedules(): Promise<ScheduledSelfTest[]> {
    const rows = await this.db.selectFrom('site_test_settings').selectAll().where('self_test_at', 'is not', null).execute();
    return rows.flatMap((row) => {
      const schedule = scheduleOf(row);
      return schedule === null || row.self_test_since === null ? [] : [{ ...schedule, siteId: row.site_id, since: row.self_test_since }];
    });
  }

  #row(siteId: string): Promise<Row | undefined> {
    return this.db.selectFrom('site_test_settings').selectAll().where('site_id', '=', siteId).executeTakeFirst();
  }

  /** One change and its audit row (entity `site`, id `test-settings`; never a password), in one transaction. */
  async #upsert(
    siteId: string,
    by: Actor,
    action: string,
    detail: object | null,
    values: Partial<Omit<Row, 'site_id' | 'updated_at' | 'updated_by'>>,
  ): Promise<void> {
    const updated_at = new Date(this.now()).toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('site_test_settings')
        .values({
          site_id: siteId,
          mqtt_url: null,
          mqtt_username: null,
          mqtt_password: null,
          bridge_username: null,
          bridge_password: null,
          self_test_at: null,
          self_test_grace_minutes: null,
          self_test_sensor_id: null,
          self_test_since: null,
          ...values,
          updated_at,
          updated_by: by.name,
        })
        .onConflict((oc) => oc.column('site_id').doUpdateSet({ ...values, updated_at, updated_by: by.name }))
        .execute();
      await writeConfigAudit(trx, {
        siteId,
        entity: 'site',
        entityId: 'test-settings',
        action,
        actor: by,
        at: updated_at,
        revision: null,
        detail,
      });
    });
  }
}

function scheduleOf(row: Row | undefined): SelfTestSchedule | null {
  if (!row?.self_test_at || row.self_test_grace_minutes === null || !row.self_test_sensor_id) return null;
  return { at: row.self_test_at, graceMinutes: row.self_test_grace_minutes, sensorId: row.self_test_sensor_id };
}

/** A setting that cannot be used as asked: a 400 or 409 with this message. */
export class SettingsError extends Error {}
