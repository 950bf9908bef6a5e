import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { HttpError } from '../routes/http-error.js';
import type { Actor } from '../sites/config-audit.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import type { AuthService, Role } from './auth-service.js';

/** A user as the admin pages show them; never a password or its hash. */
export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  sites: string[];
  createdAt: string;
  /** When the user was disabled; null while they may log in. */
  disabledAt: string | null;
}

export interface UserAuditEntry {
  seq: number;
  userId: string;
  username: string;
  action: string;
  actor: string;
  actorId: string;
  at: string;
  detail: Record<string, unknown> | null;
}

export interface UserFilter {
  /** Only members of these sites (and relatives linked to a resident of one of them). */
  sites?: string[];
  role?: Role;
  status?: 'active' | 'disabled';
  /** Usernames after this one (paging by username). */
  after?: string;
  limit: number;
}

export interface NewUserInput {
  username: string;
  displayName: string;
  role: Role;
  sites: string[];
  password: string;
}

export interface UserPatch {
  displayName?: string;
  role?: Role;
  sites?: string[];
}

type Trx = Transaction<RelationalSchema>;

export const normalizeUsername = (username: string) => username.trim().toLowerCase();

/**
 * People as an admin manages them: create (argon2id password), change name, role and sites,
 * disable and enable, reset a password, each with a `user_audit` row (who, when, what) written in
 * the same transaction as the change. Sessions and live sockets follow: disabling and a password
 * reset end every session of the user; a change of role or sites reconnects their live sockets so
 * they join the rooms their new rights give them.
 */
export class UserAdmin {
  constructor(
    private readonly db: RelationalDb,
    private readonly auth: AuthService,
    /** Whether a site exists (every site a user is given must). */
    private readonly siteExists: (siteId: string) => boolean,
    private readonly now: () => number,
  ) {}

  async list(filter: UserFilter): Promise<UserView[]> {
    let query = this.db.selectFrom('users').select(['id', 'username', 'display_name', 'role', 'created_at', 'disabled_at']);
    if (filter.sites !== undefined) {
      const sites = filter.sites;
      if (sites.length === 0) return [];
      query = query.where((eb) =>
        eb.or([
          eb('id', 'in', eb.selectFrom('user_sites').select('user_id').where('site_id', 'in', sites)),
          eb('id', 'in', eb.selectFrom('relative_links').select('user_id').where('site_id', 'in', sites)),
        ]),
      );
    }
    if (filter.role !== undefined) query = query.where('role', '=', filter.role);
    if (filter.status === 'active') query = query.where('disabled_at', 'is', null);
    if (filter.status === 'disabled') query = query.where('disabled_at', 'is not', null);
    if (filter.after !== undefined) query = query.where('username', '>', normalizeUsername(filter.after));
    const rows = await query.orderBy('username').limit(filter.limit).execute();
    if (rows.length === 0) return [];
    const memberships = await this.db
      .selectFrom('user_sites')
      .select(['user_id', 'site_id'])
      .where(
        'user_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('site_id')
      .execute();
    const sitesOf = new Map<string, string[]>();
    for (const m of memberships) sitesOf.set(m.user_id, [...(sitesOf.get(m.user_id) ?? []), m.site_id]);
    return rows.map((r) => ({
      id: r.id,
      username: r.username,
      displayName: r.display_name,
      role: r.role as Role,
      sites: sitesOf.get(r.id) ?? [],
      createdAt: r.created_at,
      disabledAt: r.disabled_at,
    }));
  }

  async get(userId: string): Promise<UserView | null> {
    return this.#read(this.db, userId);
  }

  /** Creates a user; 409 when the username is taken, 400 for a site that does not exist. */
  async create(input: NewUserInput, actor: Actor): Promise<UserView> {
    const username = normalizeUsername(input.username);
    const sites = this.#checkSites(input.role, input.sites);
    const passwordHash = await this.auth.hashPassword(input.password);
    const id = randomUUID();
    const at = this.#at();
    return this.db.transaction().execute(async (trx) => {
      const user = { id, username, displayName: input.displayName, role: input.role, passwordHash, sites };
      if (!(await insertUser(trx, user, actor, at))) throw new HttpError(409, `body/username: "${username}" is taken`);
      return this.#readOrThrow(trx, id);
    });
  }

  /** Changes name, role or sites; the user's live sockets reconnect with their new rights. */
  async update(userId: string, patch: UserPatch, actor: Actor): Promise<UserView> {
    const at = this.#at();
    const { view, changed } = await this.db.transaction().execute(async (trx) => {
      const before = await this.#readOrThrow(trx, userId);
      if (patch.role !== undefined && patch.role !== before.role && userId === actor.id)
        throw new HttpError(409, 'body/role: you cannot change your own role (ask another admin)');
      const role = patch.role ?? before.role;
      const sites = patch.sites === undefined ? before.sites : this.#checkSites(role, patch.sites);
      if (patch.sites === undefined && role === 'relative' && before.sites.length > 0)
        throw new HttpError(400, 'body/sites: a relative belongs to no site; send "sites": [] with the role');
      const after = { displayName: patch.displayName ?? before.displayName, role, sites };
      const diff: Record<string, { before: unknown; after: unknown }> = {};
      if (after.displayName !== before.displayName) diff.displayName = { before: before.displayName, after: after.displayName };
      if (after.role !== before.role) diff.role = { before: before.role, after: after.role };
      if (after.sites.join('\n') !== before.sites.join('\n')) diff.sites = { before: before.sites, after: after.sites };
      if (Object.keys(diff).length === 0) return { view: before, changed: false };
      await trx.updateTable('users').set({ display_name: after.displayName, role: after.role }).where('id', '=', userId).execute();
      if (diff.sites !== undefined) {
        await trx.deleteFrom('user_sites').where('user_id', '=', userId).execute();
        for (const siteId of after.sites) await trx.insertInto('user_sites').values({ user_id: userId, site_id: siteId }).execute();
      }
      await writeUserAudit(trx, before, 'updated', actor, at, diff);
      return { view: await this.#readOrThrow(trx, userId), changed: diff.role !== undefined || diff.sites !== undefined };
    });
    if (changed) await this.auth.reconnectLive(userId);
    return view;
  }

  /** Disables a user (no logins, sessions and live sockets ended); an admin cannot disable themselves. */
  async disable(userId: string, actor: Actor): Promise<UserView> {
    if (userId === actor.id) throw new HttpError(409, 'you cannot disable yourself (ask another admin)');
    const before = await this.#readOrThrow(this.db, userId);
    if (before.disabledAt !== null) return before;
    await this.auth.disableUser(userId, (trx) => writeUserAudit(trx, before, 'disabled', actor, this.#at(), null));
    return this.#readOrThrow(this.db, userId);
  }

  async enable(userId: string, actor: Actor): Promise<UserView> {
    const before = await this.#readOrThrow(this.db, userId);
    if (before.disabledAt === null) return before;
    await this.auth.enableUser(userId, (trx) => writeUserAudit(trx, before, 'enabled', actor, this.#at(), null));
    return this.#readOrThrow(this.db, userId);
  }

  /** Sets a new password (argon2id) and ends the user's sessions. The password is never audited or logged. */
  async resetPassword(userId: string, password: string, actor: Actor): Promise<UserView> {
    const before = await this.#readOrThrow(this.db, userId);
    if (!(await this.auth.setPassword(userId, password, (trx) => writeUserAudit(trx, before, 'password-reset', actor, this.#at(), null))))
      throw new HttpError(404, `no user "${userId}"`);
    return this.#readOrThrow(this.db, userId);
  }

  /** A user's audit trail, newest first (page with `before` = seq). */
  async audit(userId: string, options: { before?: number; limit: number }): Promise<UserAuditEntry[]> {
    let query = this.db.selectFrom('user_audit').selectAll().where('user_id', '=', userId);
    if (options.before !== undefined) query = query.where('seq', '<', options.before);
    const rows = await query.orderBy('seq', 'desc').limit(options.limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      userId: r.user_id,
      username: r.username,
      action: r.action,
      actor: r.actor,
      actorId: r.actor_id,
      at: r.at,
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    }));
  }

  #at(): string {
    return new Date(this.now()).toISOString();
  }

  /** The sites, each existing, without repeats, in order; a relative gets none (they are linked to residents instead). */
  #checkSites(role: Role, sites: string[]): string[] {
    if (role === 'relative' && sites.length > 0)
      throw new HttpError(400, 'body/sites: a relative belongs to no site; link them to a resident instead');
    sites.forEach((siteId, i) => {
      if (!this.siteExists(siteId)) throw new HttpError(400, `body/sites/${i}: no site "${siteId}"`);
    });
    return [...new Set(sites)].sort();
  }

  async #read(db: RelationalDb | Trx, userId: string): Promise<UserView | null> {
    const row = await db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'role', 'created_at', 'disabled_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (row === undefined) return null;
    const sites = await db.selectFrom('user_sites').select('site_id').where('user_id', '=', userId).orderBy('site_id').execute();
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      role: row.role as Role,
      sites: sites.map((s) => s.site_id),
      createdAt: row.created_at,
      disabledAt: row.disabled_at,
    };
  }

  async #readOrThrow(db: RelationalDb | Trx, userId: string): Promise<UserView> {
    const user = await this.#read(db, userId);
    if (user === null) throw new HttpError(404, `no user "${userId}"`);
    return user;
  }
}

/**
 * Inserts a user with their sites and the `created` audit row, in the caller's transaction (the
 * admin pages' create, and the first admin of an installation); false when the username is taken.
 */
export async function insertUser(
  trx: Trx,
  user: { id: string; username: string; displayName: string; role: Role; passwordHash: string; sites: string[] },
  actor: Actor,
  at: string,
): Promise<boolean> {
  const { id, username, displayName, role, sites } = user;
  // The unique username decides between two creating the same one at once.
  const inserted = await trx
    .insertInto('users')
    .values({ id, username, display_name: displayName, role, password_hash: user.passwordHash, created_at: at })
    .onConflict((oc) => oc.column('username').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted === undefined) return false;
  for (const siteId of sites) await trx.insertInto('user_sites').values({ user_id: id, site_id: siteId }).execute();
  await writeUserAudit(trx, user, 'created', actor, at, { displayName, role, sites });
  return true;
}

/** One `user_audit` row, written in the transaction of the change it records. */
async function writeUserAudit(
  trx: Trx,
  user: { id: string; username: string },
  action: string,
  actor: Actor,
  at: string,
  detail: object | null,
): Promise<void> {
  await trx
    .insertInto('user_audit')
    .values({
      user_id: user.id,
      username: user.username,
      action,
      actor: actor.name,
      actor_id: actor.id,
      at,
      detail: detail === null ? null : JSON.stringify(detail),
    })
    .execute();
}
