import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Transaction } from 'kysely';
import type { Actor } from '../sites/config-audit.js';
import type { RelationalDb } from '../stores/relational/database.js';
import type { RelationalSchema } from '../stores/relational/schema.js';
import { LoginLimits } from './login-limits.js';
import { insertUser } from './user-admin.js';

export const ROLES = ['nurse', 'nurse_in_charge', 'relative', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that see the ward board and the alarms. */
export const STAFF_ROLES: readonly Role[] = ['nurse', 'nurse_in_charge', 'admin'];
/** Roles that may read the ward and sensor events (technicians look after the sensors). */
export const WARD_READ_ROLES: readonly Role[] = [...STAFF_ROLES, 'technician'];

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  sites: string[];
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  password: string;
  sites: string[];
}

export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Consecutive failures per username before that username is locked for `LOCK_MS`. */
export const MAX_FAILURES = 5;
const LOCK_MS = 15 * 60_000;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Argon2id (the library's default algorithm, stated anyway): 19 MiB, 2 passes, 1 lane (OWASP). */
/** Who the audit says created the first admin. */
const BOOTSTRAP_ACTOR: Actor = { id: 'system', name: 'system (--bootstrap-admin)' };
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Written in the transaction of a user change (its audit row), so there is no change without it. */
export type UserChangeAudit = (trx: Transaction<RelationalSchema>) => Promise<void>;

export type LoginResult = { ok: true; token: string; user: SessionUser; expiresAt: Date } | { ok: false; reason: 'invalid' | 'locked' };

/**
 * People, roles, site membership and login sessions. A session token is 32 random bytes given to
 * the browser once; only its SHA-256 is stored. Passwords are never logged or returned.
 */
export class AuthService {
  /** The lock-out counter and the login rate limit, shared by every instance through the database. */
  readonly limits: LoginLimits;
  readonly #logoutListeners = new Set<(tokenSha256: string) => void>();
  #dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: RelationalDb,
    private readonly now: () => number = Date.now,
  ) {
    this.limits = new LoginLimits(db, now, { maxFailures: MAX_FAILURES, lockMs: LOCK_MS });
  }

  /** Creates a user, or replaces the password, name, role and sites of the one with that username. */
  async upsertUser(input: NewUser): Promise<SessionUser> {
    const username = normalize(input.username);
    const passwordHash = await hash(input.password, ARGON2);
    const existing = await this.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    await this.db.transaction().execute(async (trx) => {
      if (existing === undefined)
        await trx
          .insertInto('users')
          .values({
            id,
            username,
            display_name: input.displayName,
            role: input.role,
            password_hash: passwordHash,
            created_at: new Date(this.now()).toISOString(),
          })
          .execute();
      else
        await trx
          .updateTable('users')
          .set({ display_name: input.displayName, role: input.role, password_hash: passwordHash })
          .where('id', '=', id)
          .execute();
      await trx.deleteFrom('user_sites').where('user_id', '=', id).execute();
      for (const siteId of new Set(input.sites)) await trx.insertInto('user_sites').values({ user_id: id, site_id: siteId }).execute();
    });
    return { id, username, displayName: input.displayName, role: input.role, sites: [...new Set(input.sites)] };
  }

  /**
   * The first admin of a new installation: created only while no enabled admin exists (so running
   * it again, or on every instance, changes nothing), member of every given site, audited as done
   * by "system". Resolves with false when an admin already existed.
   */
  async bootstrapAdmin(input: { username: string; displayName: string; password: string; sites: string[] }): Promise<boolean> {
    const username = normalize(input.username);
    const passwordHash = await hash(input.password, ARGON2);
    const id = randomUUID();
    const at = new Date(this.now()).toISOString();
    return this.db.transaction().execute(async (trx) => {
      const admin = await trx
        .selectFrom('users')
        .select('id')
        .where('role', '=', 'admin')
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (admin !== undefined) return false;
      const user = { id, username, displayName: input.displayName, role: 'admin' as const, passwordHash, sites: [...new Set(input.sites)] };
      if (!(await insertUser(trx, user, BOOTSTRAP_ACTOR, at)))
        throw new Error(`the username "${username}" is taken by a user who is not an enabled admin`);
      return true;
    });
  }

  /** Checks a username and password; the same answer for an unknown user and a wrong password. */
  async login(rawUsername: string, password: string): Promise<LoginResult> {
    const username = normalize(rawUsername);
    const now = this.now();
    // Counted before the password is checked (in the database, so on every instance alike): parallel
    // attempts get no more tries than one after the other.
    if (!(await this.limits.attempt(username))) return { ok: false, reason: 'locked' };
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    // An unknown user costs one hash too, so the answer's timing does not tell who exists.
    let good = false;
    if (row === undefined) await verify(await this.#dummy(), password);
    else good = await verify(row.password_hash, password);
    // A disabled user gets the same answer as a wrong password.
    if (row === undefined || !good || row.disabled_at !== null) return { ok: false, reason: 'invalid' };
    await this.limits.succeeded(username);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now + SESSION_TTL_MS);
    await this.db
      .insertInto('sessions')
      .values({
        token_sha256: sha256(token),
        user_id: row.id,
        created_at: new Date(now).toISOString(),
        expires_at: expiresAt.toISOString(),
      })
      .execute();
    const user = await this.#user(row.id);
    if (user === null) return { ok: false, reason: 'invalid' };
    return { ok: true, token, user, expiresAt };
  }

  /** The user of a live session token, or null (unknown, expired or logged out). */
  async session(token: string | undefined): Promise<SessionUser | null> {
    if (token === undefined || token.length < 20 || token.length > 200) return null;
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'expires_at'])
      .where('token_sha256', '=', sha256(token))
      .executeTakeFirst();
    if (row === undefined || Date.parse(row.expires_at) <= this.now()) return null;
    return this.#user(row.user_id);
  }

  async logout(token: string | undefined): Promise<void> {
    if (token === undefined) return;
    await this.db.deleteFrom('sessions').where('token_sha256', '=', sha256(token)).execute();
    this.#loggedOut(sha256(token));
    // Expired sessions go too, through the same path, so their live sockets are disconnected.
    await this.expireSessions();
  }

  /**
   * Ends every session whose time is up, and tells the logout listeners (their live sockets are
   * disconnected). The DELETE … RETURNING decides which instance reports a session, so each is
   * reported once. Resolves with how many ended here.
   */
  async expireSessions(): Promise<number> {
    const ended = await this.db
      .deleteFrom('sessions')
      .where('expires_at', '<=', new Date(this.now()).toISOString())
      .returning('token_sha256')
      .execute();
    for (const { token_sha256 } of ended) this.#loggedOut(token_sha256);
    return ended.length;
  }

  /**
   * Disables a user: no more logins, every session ends now (live sockets included). `audit` runs
   * in the same transaction. Resolves false for an unknown id.
   */
  async disableUser(userId: string, audit?: UserChangeAudit): Promise<boolean> {
    const ended = await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('users')
        .set({ disabled_at: new Date(this.now()).toISOString() })
        .where('id', '=', userId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return null;
      const sessions = await trx.deleteFrom('sessions').where('user_id', '=', userId).returning('token_sha256').execute();
      await audit?.(trx);
      return sessions;
    });
    if (ended === null) return false;
    for (const { token_sha256 } of ended) this.#loggedOut(token_sha256);
    return true;
  }

  /** Lets a disabled user log in again; `audit` runs in the same transaction. */
  async enableUser(userId: string, audit?: UserChangeAudit): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('users').set({ disabled_at: null }).where('id', '=', userId).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      await audit?.(trx);
      return true;
    });
  }

  /** An argon2id hash of `password`, as logins check it. */
  hashPassword(password: string): Promise<string> {
    return hash(password, ARGON2);
  }

  /**
   * Replaces a user's password and ends every session of theirs (live sockets included): whoever
   * held the old password is out. `audit` runs in the same transaction. Resolves false for an unknown id.
   */
  async setPassword(userId: string, password: string, audit?: UserChangeAudit): Promise<boolean> {
    const passwordHash = await this.hashPassword(password);
    const ended = await this.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return null;
      const sessions = await trx.deleteFrom('sessions').where('user_id', '=', userId).returning('token_sha256').execute();
      await audit?.(trx);
      return sessions;
    });
    if (ended === null) return false;
    for (const { token_sha256 } of ended) this.#loggedOut(token_sha256);
    return true;
  }

  /**
   * Disconnects the live sockets of every session of a user without ending the sessions: after a
   * change of role or sites, the tablet reconnects and joins the rooms its new rights give it.
   */
  async reconnectLive(userId: string): Promise<void> {
    const sessions = await this.db.selectFrom('sessions').select('token_sha256').where('user_id', '=', userId).execute();
    for (const { token_sha256 } of sessions) this.#loggedOut(token_sha256);
  }

  #loggedOut(tokenSha256: string): void {
    for (const listener of this.#logoutListeners) listener(tokenSha256);
  }

  /** What is stored for passwords and sessions (hashes only): for tests and audits. */
  async storedHashes(): Promise<{ passwords: string[]; sessions: string[] }> {
    const users = await this.db.selectFrom('users').select('password_hash').execute();
    const sessions = await this.db.selectFrom('sessions').select('token_sha256').execute();
    return { passwords: users.map((u) => u.password_hash), sessions: sessions.map((s) => s.token_sha256) };
  }

  /** Called with the hash of every session token that is logged out. */
  onLogout(listener: (tokenSha256: string) => void): void {
    this.#logoutListeners.add(listener);
  }

  async #user(id: string): Promise<SessionUser | null> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'role', 'disabled_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined || row.disabled_at !== null) return null;
    const sites = await this.db.selectFrom('user_sites').select('site_id').where('user_id', '=', id).orderBy('site_id').execute();
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      role: row.role as Role,
      sites: sites.map((s) => s.site_id),
    };
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2);
    return this.#dummyHash;
  }
}

const normalize = (username: string) => username.trim().toLowerCase();

/** Whether `user` may act on `siteId`. */
export const memberOf = (user: SessionUser, siteId: string) => user.sites.includes(siteId);
