import { randomBytes } from 'node:crypto';
import { sha256 } from '../auth/auth-service.js';
import type { RelationalDb } from '../stores/relational/database.js';
import { type Actor, writeConfigAudit } from './config-audit.js';
import { SiteNotFoundError, type SiteService } from './site-service.js';

/** A new gateway token: 32 random bytes, base64url (43 characters); only its SHA-256 is stored. */
const newToken = () => randomBytes(32).toString('base64url');

export interface NewSite {
  id: string;
  name: string;
  timezone: string;
}

/**
 * Sites as an admin manages them: creating one (empty, with a gateway token given once) and
 * rotating a site's gateway token. Each writes its `config_audit` row (entity `site`) in the same
 * transaction; the token itself is never stored, logged or audited.
 */
export class SiteAdmin {
  constructor(
    private readonly db: RelationalDb,
    private readonly sites: SiteService,
    private readonly now: () => number,
    /** Called after a token is replaced: the gateway connected with the old one is disconnected. */
    private readonly onTokenReplaced: (siteId: string) => void,
  ) {}

  /** Creates an empty site; the creating admin becomes a member. Resolves with the gateway token (shown once). */
  async create(input: NewSite, actor: Actor): Promise<{ site: NewSite; revision: number; gatewayToken: string }> {
    const token = newToken();
    const at = new Date(this.now()).toISOString();
    const config = await this.sites.create(
      { version: 1, site: { id: input.id, name: input.name, timezone: input.timezone }, rooms: [], residents: [], sensors: [] },
      async (created, trx) => {
        await trx
          .insertInto('gateways')
          .values({ site_id: created.site.id, token_sha256: sha256(token), created_at: at })
          .execute();
        // Without a member nobody could configure the site; the admin who made it is the first.
        if (actor.id !== 'system')
          await trx
            .insertInto('user_sites')
            .values({ user_id: actor.id, site_id: created.site.id })
            .onConflict((oc) => oc.doNothing())
            .execute();
        await writeConfigAudit(trx, {
          siteId: created.site.id,
          entity: 'site',
          entityId: created.site.id,
          action: 'created',
          actor,
          at,
          revision: created.revision ?? 1,
          detail: { site: created.site, gatewayToken: 'issued', creatorMember: actor.id !== 'system' },
        });
      },
    );
    return { site: config.site, revision: config.revision ?? 1, gatewayToken: token };
  }

  /** Replaces a site's gateway token (or gives it its first); the old token stops working at once. */
  async rotateGatewayToken(siteId: string, actor: Actor): Promise<{ gatewayToken: string; rotatedAt: string }> {
    const token = newToken();
    const at = new Date(this.now()).toISOString();
    await this.db.transaction().execute(async (trx) => {
      const site = await trx.selectFrom('sites').select('id').where('id', '=', siteId).executeTakeFirst();
      if (site === undefined) throw new SiteNotFoundError(siteId);
      const previous = await trx.selectFrom('gateways').select('site_id').where('site_id', '=', siteId).executeTakeFirst();
      await trx
        .insertInto('gateways')
        .values({ site_id: siteId, token_sha256: sha256(token), created_at: at })
        .onConflict((oc) => oc.column('site_id').doUpdateSet({ token_sha256: sha256(token), created_at: at }))
        .execute();
      await writeConfigAudit(trx, {
        siteId,
        entity: 'site',
        entityId: siteId,
        action: 'gateway-token-rotated',
        actor,
        at,
        revision: null,
        detail: { previousToken: previous === undefined ? 'none' : 'revoked' },
      });
    });
    this.onTokenReplaced(siteId);
    return { gatewayToken: token, rotatedAt: at };
  }
}
