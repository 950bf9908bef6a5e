import { createHash, timingSafeEqual } from 'node:crypto';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';
import type { RelationalDb } from '../stores/relational/database.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Sites and their configuration (rooms, residents, sensors, supervision plans), owned by the
 * server and pushed down to each site's gateway. Gateway tokens are stored only as hashes.
 */
export class SiteService {
  readonly #sites = new Map<string, SiteConfig>();
  readonly #listeners = new Set<(config: SiteConfig) => void>();

  constructor(private readonly db: RelationalDb) {}

  async load(): Promise<void> {
    for (const row of await this.db.selectFrom('sites').selectAll().execute()) {
      const checked = checkSiteConfig(JSON.parse(row.config));
      if (!checked.ok) throw new Error(`stored configuration of site ${row.id} is invalid: ${checked.errors.join('; ')}`);
      this.#sites.set(row.id, checked.value);
    }
  }

  list(): SiteConfig[] {
    return [...this.#sites.values()];
  }

  get(siteId: string): SiteConfig | undefined {
    return this.#sites.get(siteId);
  }

  /** Called with every saved configuration (to push it to the site's gateway). */
  onChange(listener: (config: SiteConfig) => void): void {
    this.#listeners.add(listener);
  }

  /** Creates or replaces a site's configuration; each save gets the next revision. */
  async save(input: SiteConfig): Promise<SiteConfig> {
    const checked = checkSiteConfig(input);
    if (!checked.ok) throw new Error(`invalid site configuration: ${checked.errors.join('; ')}`);
    const config: SiteConfig = { ...checked.value, revision: (this.#sites.get(input.site.id)?.revision ?? 0) + 1 };
    const row = { id: config.site.id, config: JSON.stringify(config), updated_at: new Date().toISOString() };
    await this.db
      .insertInto('sites')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ config: row.config, updated_at: row.updated_at }))
      .execute();
    this.#sites.set(config.site.id, config);
    for (const listener of this.#listeners) listener(config);
    return config;
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
