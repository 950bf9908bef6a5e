import { createHash, timingSafeEqual } from 'node:crypto';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import { validator } from '@nattevakt/protocol/validation';
import { LocalFeedAnnouncement } from '@nattevakt/protocol/ward';
import type { Transaction } from 'kysely';
import { engineOf, type RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';

const localFeedAnnouncement = validator(LocalFeedAnnouncement);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export type SiteChangeListener = (config: SiteConfig, origin: 'here' | 'elsewhere') => void;

export type SiteTransaction = Transaction<RelationalSchema>;

/** Sets each resident's `plan.armed` from records outside the configuration (legal basis, plan status). */
export type ArmingPolicy = (trx: SiteTransaction, config: SiteConfig) => Promise<SiteConfig>;

/** A refused configuration change: the message names the field (a JSON path) and what is wrong. */
export class SiteConfigError extends Error {
  /** The central error handler answers 400 with the message. */
  readonly statusCode = 400;
  constructor(readonly errors: string[]) {
    super(`invalid site configuration: ${errors.join('; ')}`);
  }
}

/** What one `change` does inside its transaction. */
export interface SiteChange<T> {
  /** The configuration to save; absent: the configuration stays as it is (arming is still re-derived). */
  next?: SiteConfig;
  value: T;
  /** Runs in the same transaction after the save, with the new revision (null when nothing changed). */
  audit?: (revision: number | null) => Promise<void>;
}

/** Key order does not make two configurations different. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
const withoutRevision = ({ revision: _revision, ...rest }: SiteConfig) => rest;

/**
 * Sites and their configuration (rooms, residents, sensors, supervision plans), owned by the
 * server and pushed down to each site's gateway. Gateway tokens are stored only as hashes.
 */
export class SiteService {
  readonly #sites = new Map<string, SiteConfig>();
  /** Site id → the `updated_at` of the row this instance last read, to notice saves made elsewhere. */
  readonly #updatedAt = new Map<string, string>();
  readonly #listeners = new Set<SiteChangeListener>();
  #arming: ArmingPolicy = async (_trx, config) => config;

  constructor(private readonly db: RelationalDb) {}

  /** Every save passes through `policy`, so no configuration reaches a gateway with `armed` set by hand. */
  setArmingPolicy(policy: ArmingPolicy): void {
    this.#arming = policy;
  }

  async load(): Promise<void> {
    for (const row of await this.db.selectFrom('sites').selectAll().execute()) this.#remember(row);
  }

  list(): SiteConfig[] {
    return [...this.#sites.values()];
  }

  get(siteId: string): SiteConfig | undefined {
    return this.#sites.get(siteId);
  }

  /**
   * Called with every configuration this instance learns: saved here (`origin` 'here') or saved
   * by another instance and reloaded ('elsewhere'), so each instance pushes it to its own gateways.
   */
  onChange(listener: SiteChangeListener): void {
    this.#listeners.add(listener);
  }

  /**
   * Creates or replaces a site's configuration; each save gets the next revision. The revision
   * comes from the stored row, locked for the transaction on PostgreSQL, so two instances saving
   * at once cannot hand out the same revision.
   */
  async save(input: SiteConfig): Promise<SiteConfig> {
    const checked = checkSiteConfig(input);
    if (!checked.ok) throw new Error(`invalid site configuration: ${checked.errors.join('; ')}`);
    const row = await this.db.transaction().execute(async (trx) => {
      let current = trx.selectFrom('sites').select('config').where('id', '=', input.site.id);
      if (engineOf(trx) === 'postgres') current = current.forUpdate();
      const stored = await current.executeTakeFirst();
      const revision = (stored === undefined ? 0 : ((JSON.parse(stored.config) as { revision?: number }).revision ?? 0)) + 1;
      // Each resident's `plan.armed` comes from the arming policy, whatever the input says.
      const config: SiteConfig = { ...(await this.#arming(trx, checked.value)), revision };
      const values = { id: config.site.id, config: JSON.stringify(config), updated_at: new Date().toISOString() };
      await trx
        .insertInto('sites')
        .values(values)
        .onConflict((oc) => oc.column('id').doUpdateSet({ config: values.config, updated_at: values.updated_at }))
        .execute();
      return values;
    });
    const config = this.#remember(row);
    this.#notify(config, 'here');
    return config;
  }

  /**
   * Creates a new site with revision 1; `work` runs in the same transaction (its gateway token,
   * its audit row), so nothing is half-written. `SiteExistsError` (409) when the id is taken, also
   * when two requests create it at once; `SiteConfigError` (400) when the configuration is invalid.
   */
  async create(input: SiteConfig, work: (config: SiteConfig, trx: SiteTransaction) => Promise<void>): Promise<SiteConfig> {
    const checked = checkSiteConfig(input);
    if (!checked.ok) throw new SiteConfigError(checked.errors);
    const row = await this.db.transaction().execute(async (trx) => {
      const config: SiteConfig = { ...(await this.#arming(trx, checked.value)), revision: 1 };
      const values = { id: config.site.id, config: JSON.stringify(config), updated_at: new Date().toISOString() };
      const inserted = await trx
        .insertInto('sites')
        .values(values)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted === undefined) throw new SiteExistsError(config.site.id);
      await work(config, trx);
      return values;
    });
    const config = this.#remember(row);
    this.#notify(config, 'here');
    return config;
  }

  /**
   * Changes one site's configuration in a transaction that holds the site's row: `work` gets the
   * stored configuration (never a stale copy, so two editors cannot lose each other's change) and
   * may write other tables in the same transaction. The result is checked, armed by the policy and
   * saved with the next revision only if it differs from what is stored; then it is pushed.
   * Nothing is written when the result is invalid (`SiteConfigError`), the site does not exist
   * (`SiteNotFoundError`) or `work` throws.
   */
  async change<T>(
    siteId: string,
    work: (current: SiteConfig, trx: SiteTransaction) => Promise<SiteChange<T>>,
  ): Promise<{ value: T; config: SiteConfig; revision: number | null }> {
    const outcome = await this.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('sites').selectAll().where('id', '=', siteId);
      if (engineOf(trx) === 'postgres') query = query.forUpdate();
      const stored = await query.executeTakeFirst();
      if (stored === undefined) throw new SiteNotFoundError(siteId);
      const current = JSON.parse(stored.config) as SiteConfig;
      const change = await work(current, trx);
      const checked = checkSiteConfig(change.next ?? current);
      if (!checked.ok) throw new SiteConfigError(checked.errors);
      const armed = await this.#arming(trx, checked.value);
      const differs = canonical(withoutRevision(armed)) !== canonical(withoutRevision(current));
      let row = stored;
      if (differs) {
        const config: SiteConfig = { ...armed, revision: (current.revision ?? 0) + 1 };
        row = { id: siteId, config: JSON.stringify(config), updated_at: new Date().toISOString() };
        await trx.updateTable('sites').set({ config: row.config, updated_at: row.updated_at }).where('id', '=', siteId).execute();
      }
      await change.audit?.(differs ? (current.revision ?? 0) + 1 : null);
      return { value: change.value, row, differs };
    });
    const config = this.#remember(outcome.row);
    if (outcome.differs) this.#notify(config, 'here');
    return { value: outcome.value, config, revision: outcome.differs ? (config.revision ?? null) : null };
  }

  /** Reads one site again from the database (another instance saved it); tells the listeners when it changed. */
  async reload(siteId: string): Promise<SiteConfig | undefined> {
    const row = await this.db.selectFrom('sites').selectAll().where('id', '=', siteId).executeTakeFirst();
    if (row === undefined) return this.#sites.get(siteId);
    const known = this.#sites.get(siteId);
    const config = this.#remember(row);
    if (known?.revision !== config.revision) this.#notify(config, 'elsewhere');
    return config;
  }

  /** Reloads every site saved since this instance last read it: the safety net when a message between instances was lost. */
  async refresh(): Promise<number> {
    const rows = await this.db.selectFrom('sites').select(['id', 'updated_at']).execute();
    let changed = 0;
    for (const row of rows) {
      if (this.#updatedAt.get(row.id) === row.updated_at) continue;
      await this.reload(row.id);
      changed++;
    }
    return changed;
  }

  #remember(row: { id: string; config: string; updated_at: string }): SiteConfig {
    const checked = checkSiteConfig(JSON.parse(row.config));
    if (!checked.ok) throw new Error(`stored configuration of site ${row.id} is invalid: ${checked.errors.join('; ')}`);
    this.#sites.set(row.id, checked.value);
    this.#updatedAt.set(row.id, row.updated_at);
    return checked.value;
  }

  #notify(config: SiteConfig, origin: 'here' | 'elsewhere'): void {
    for (const listener of this.#listeners) listener(config, origin);
  }

  /**
   * Records where the site's tablets reach its gateway's local alarm feed, as the authenticated
   * gateway announced it. A malformed announcement is refused with the reason and changes nothing.
   */
  async announceLocalFeed(siteId: string, announcement: unknown): Promise<{ ok: true } | { ok: false; errors: string[] }> {
    const checked = localFeedAnnouncement.check(announcement);
    if (!checked.ok) return checked;
    const row = { site_id: siteId, url: checked.value.url, token: checked.value.token, updated_at: new Date().toISOString() };
    await this.db
      .insertInto('gateway_local_feeds')
      .values(row)
      .onConflict((oc) => oc.column('site_id').doUpdateSet({ url: row.url, token: row.token, updated_at: row.updated_at }))
      .execute();
    return { ok: true };
  }

  /** The site's local feed as last announced by its gateway, if any. */
  async localFeed(siteId: string): Promise<LocalFeedAnnouncement | undefined> {
    const row = await this.db.selectFrom('gateway_local_feeds').select(['url', 'token']).where('site_id', '=', siteId).executeTakeFirst();
    return row;
  }

  /** Registers (or replaces) the token a site's gateway authenticates with. */
  async setGatewayToken(siteId: string, token: string): Promise<void> {
    const row = { site_id: siteId, token_sha256: sha256(token), created_at: new Date().toISOString() };
    await this.db
      .insertInto('gateways')
      .values(row)
      .onConflict((oc) => oc.column('site_id').doUpdateSet({ token_sha256: row.token_sha256, created_at: row.created_at }))
      .execute();
  }

  /** The site a gateway token belongs to, or null. */
  async authenticateGateway(token: unknown): Promise<string | null> {
    if (typeof token !== 'string' || token.length < 16 || token.length > 200) return null;
    const hash = sha256(token);
    const row = await this.db
      .selectFrom('gateways')
      .select(['site_id', 'token_sha256'])
      .where('token_sha256', '=', hash)
      .executeTakeFirst();
    if (row === undefined || !timingSafeEqual(Buffer.from(row.token_sha256), Buffer.from(hash))) return null;
    return row.site_id;
  }
}

/** `create` with the id of a site that exists. */
export class SiteExistsError extends Error {
  readonly statusCode = 409;
  constructor(readonly siteId: string) {
    super(`body/id: a site "${siteId}" exists already`);
  }
}

/** `change` on a site that is not configured. */
export class SiteNotFoundError extends Error {
  readonly statusCode = 404;
  constructor(readonly siteId: string) {
    super(`no site "${siteId}"`);
  }
}
