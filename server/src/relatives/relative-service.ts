import { randomUUID } from 'node:crypto';
import type { AccessLogEntry, ConsentInput, RelativeLink, SharingConsent } from '@nattevakt/protocol/relatives';
import type { SessionUser } from '../auth/auth-service.js';
import { HttpError } from '../routes/http-error.js';
import type { RelationalDb } from '../stores/relational/database.js';
import { localDate } from '../supervision/dates.js';

/** What a relative reads, as written to the access log. */
export type RelativeRead = 'residents' | 'last-night' | 'trend';

type ConsentRow = {
  id: string;
  given_by: string;
  guardian_name: string | null;
  given_on: string;
  note: string | null;
  recorded_by: string;
  recorded_at: string;
  withdrawn_at: string | null;
  withdrawn_by: string | null;
};

const toConsent = (r: ConsentRow): SharingConsent => ({
  id: r.id,
  givenBy: r.given_by as SharingConsent['givenBy'],
  guardianName: r.guardian_name,
  givenOn: r.given_on,
  note: r.note,
  recordedBy: r.recorded_by,
  recordedAt: r.recorded_at,
  withdrawnAt: r.withdrawn_at,
  withdrawnBy: r.withdrawn_by,
});

/**
 * Relatives and what they may see: links from relative users to residents, the resident's (or
 * guardian's) consent to share with relatives (recorded with who and when, withdrawn but never
 * deleted), and the access log of every read by a relative. A relative sees a resident only while
 * linked and while a consent is in force.
 */
export class RelativeService {
  constructor(
    private readonly db: RelationalDb,
    private readonly now: () => number,
    /** The site's time zone: "today" for a consent's date is the site's day, not UTC's. */
    private readonly zoneOf: (siteId: string) => string = () => 'Europe/Oslo',
  ) {}

  async link(siteId: string, residentId: string, username: string, actor: SessionUser): Promise<RelativeLink> {
    const user = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'role'])
      .where('username', '=', username.trim().toLowerCase())
      .executeTakeFirst();
    if (user === undefined) throw new HttpError(404, `no user "${username}"`);
    if (user.role !== 'relative') throw new HttpError(400, `params/username: "${username}" is not a relative (role ${user.role})`);
    const at = new Date(this.now()).toISOString();
    await this.db
      .insertInto('relative_links')
      .values({
        user_id: user.id,
        site_id: siteId,
        resident_id: residentId,
        linked_by: actor.displayName,
        linked_by_id: actor.id,
        linked_at: at,
      })
      .onConflict((oc) => oc.columns(['user_id', 'site_id', 'resident_id']).doNothing())
      .execute();
    const links = await this.links(siteId, residentId);
    return links.find((l) => l.username === user.username) as RelativeLink;
  }

  /** Removes a link; false when there was none. */
  async unlink(siteId: string, residentId: string, username: string): Promise<boolean> {
    const user = await this.db.selectFrom('users').select('id').where('username', '=', username.trim().toLowerCase()).executeTakeFirst();
    if (user === undefined) return false;
    const result = await this.db
      .deleteFrom('relative_links')
      .where('user_id', '=', user.id)
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async links(siteId: string, residentId: string): Promise<RelativeLink[]> {
    const rows = await this.db
      .selectFrom('relative_links')
      .innerJoin('users', 'users.id', 'relative_links.user_id')
      .select(['users.username', 'users.display_name', 'relative_links.linked_at', 'relative_links.linked_by'])
      .where('relative_links.site_id', '=', siteId)
      .where('relative_links.resident_id', '=', residentId)
      .orderBy('users.username')
      .execute();
    return rows.map((r) => ({ username: r.username, displayName: r.display_name, linkedAt: r.linked_at, linkedBy: r.linked_by }));
  }

  /** Records the consent to share with relatives; 409 while one is already in force (withdraw it first). */
  async recordConsent(siteId: string, residentId: string, input: ConsentInput, actor: SessionUser): Promise<SharingConsent> {
    if (input.givenBy === 'guardian' && !input.guardianName?.trim())
      throw new HttpError(400, 'body/guardianName: the guardian who consents must be named');
    if (input.givenBy === 'resident' && input.guardianName !== undefined)
      throw new HttpError(400, 'body/guardianName: only a consent given by a guardian names one');
    const today = localDate(this.now(), this.zoneOf(siteId));
    if (input.givenOn > today) throw new HttpError(400, `body/givenOn: a consent cannot be given in the future (today is ${today})`);
    const id = randomUUID();
    try {
      await this.db
        .insertInto('sharing_consents')
        .values({
          id,
          site_id: siteId,
          resident_id: residentId,
          given_by: input.givenBy,
          guardian_name: input.guardianName?.trim() ?? null,
          given_on: input.givenOn,
          note: input.note ?? null,
          recorded_by: actor.displayName,
          recorded_by_id: actor.id,
          recorded_at: new Date(this.now()).toISOString(),
          withdrawn_at: null,
          withdrawn_by: null,
          withdrawn_by_id: null,
        })
        .execute();
    } catch (error) {
      // The partial unique index allows one consent in force per resident.
      if ((await this.consent(siteId, residentId)) !== null)
        throw new HttpError(409, 'a consent to share with relatives is already recorded for this resident: withdraw it first');
      throw error;
    }
    return (await this.consent(siteId, residentId)) as SharingConsent;
  }

  /** Withdraws the consent in force; 404 when there is none. Relatives lose access at once. */
  async withdrawConsent(siteId: string, residentId: string, actor: SessionUser): Promise<SharingConsent> {
    const current = await this.consent(siteId, residentId);
    if (current === null) throw new HttpError(404, 'no consent to share with relatives is in force for this resident');
    await this.db
      .updateTable('sharing_consents')
      .set({ withdrawn_at: new Date(this.now()).toISOString(), withdrawn_by: actor.displayName, withdrawn_by_id: actor.id })
      .where('id', '=', current.id)
      .where('withdrawn_at', 'is', null)
      .execute();
    const row = await this.db.selectFrom('sharing_consents').selectAll().where('id', '=', current.id).executeTakeFirstOrThrow();
    return toConsent(row);
  }

  /** The consent in force, or null. */
  async consent(siteId: string, residentId: string): Promise<SharingConsent | null> {
    const row = await this.db
      .selectFrom('sharing_consents')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    return row === undefined ? null : toConsent(row);
  }

  /** Every consent ever recorded for the resident, newest first. */
  async consentHistory(siteId: string, residentId: string): Promise<SharingConsent[]> {
    const rows = await this.db
      .selectFrom('sharing_consents')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('resident_id', '=', residentId)
      .orderBy('recorded_at', 'desc')
      .execute();
    return rows.map(toConsent);
  }

  /** The residents a relative may see now: linked, with a consent in force. */
  async visibleTo(userId: string): Promise<{ siteId: string; residentId: string }[]> {
    const rows = await this.db
      .selectFrom('relative_links')
      .innerJoin('sharing_consents', (join) =>
        join
          .onRef('sharing_consents.site_id', '=', 'relative_links.site_id')
          .onRef('sharing_consents.resident_id', '=', 'relative_links.resident_id')
          .on('sharing_consents.withdrawn_at', 'is', null),
      )
      .select(['relative_links.site_id', 'relative_links.resident_id'])
      .where('relative_links.user_id', '=', userId)
      .orderBy('relative_links.site_id')
      .orderBy('relative_links.resident_id')
      .execute();
    return rows.map((r) => ({ siteId: r.site_id, residentId: r.resident_id }));
  }

  async maySee(userId: string, siteId: string, residentId: string): Promise<boolean> {
    return (await this.visibleTo(userId)).some((r) => r.siteId === siteId && r.residentId === residentId);
  }

  /** Writes one read (or refused read) by a relative to the access log. */
  async logAccess(user: SessionUser, siteId: string, residentId: string, what: string): Promise<void> {
    await this.db
      .insertInto('relative_access_log')
      .values({
        user_id: user.id,
        username: user.username,
        site_id: siteId,
        resident_id: residentId,
        what,
        at: new Date(this.now()).toISOString(),
      })
      .execute();
  }

  /** The access log of a site (one resident's, if given), newest first. */
  async accessLog(siteId: string, options: { residentId?: string; limit: number }): Promise<AccessLogEntry[]> {
    let query = this.db.selectFrom('relative_access_log').selectAll().where('site_id', '=', siteId);
    if (options.residentId !== undefined) query = query.where('resident_id', '=', options.residentId);
    const rows = await query.orderBy('seq', 'desc').limit(options.limit).execute();
    return rows.map((r) => ({ seq: r.seq, username: r.username, siteId: r.site_id, residentId: r.resident_id, what: r.what, at: r.at }));
  }
}
