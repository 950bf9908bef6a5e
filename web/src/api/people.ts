import type { AccessLogEntry, ConsentInput, Relatives } from '@nattevakt/protocol/relatives';
import type { Role } from './auth.js';
import { getJson, sendJson } from './rest.js';

/** People and relatives over REST (server/src/routes/users.ts, relatives.ts). */
export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  sites: string[];
  createdAt: string;
  disabledAt: string | null;
}

export const ROLES: readonly Role[] = ['nurse', 'nurse_in_charge', 'technician', 'admin', 'relative'];
/** The server's rule: at least 12 characters. */
export const MIN_PASSWORD = 12;
/** The server's username pattern: 2–100 letters, digits, dots, dashes, underscores or @. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$/;

const user = (userId: string) => `/api/users/${encodeURIComponent(userId)}`;

/** One page of users by username; `nextAfter` continues. */
export const fetchUsers = (query: { after?: string; status?: 'active' | 'disabled'; role?: Role } = {}) => {
  const params = new URLSearchParams({ limit: '200' });
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
  return getJson<{ users: UserView[]; nextAfter: string | null }>(`/api/users?${params}`);
};
export const createUser = (body: { username: string; displayName: string; role: Role; sites: string[]; password: string }) =>
  sendJson<{ user: UserView }>('POST', '/api/users', body).then((r) => r.user);
export const updateUser = (userId: string, body: { displayName?: string; role?: Role; sites?: string[] }) =>
  sendJson<{ user: UserView }>('PATCH', user(userId), body).then((r) => r.user);
export const disableUser = (userId: string) => sendJson<{ user: UserView }>('POST', `${user(userId)}/disable`).then((r) => r.user);
export const enableUser = (userId: string) => sendJson<{ user: UserView }>('POST', `${user(userId)}/enable`).then((r) => r.user);
export const resetPassword = (userId: string, password: string) =>
  sendJson<{ user: UserView }>('POST', `${user(userId)}/password`, { password }).then((r) => r.user);

const resident = (siteId: string, residentId: string) =>
  `/api/sites/${encodeURIComponent(siteId)}/residents/${encodeURIComponent(residentId)}`;

export const fetchRelatives = (siteId: string, residentId: string) => getJson<Relatives>(`${resident(siteId, residentId)}/relatives`);
export const linkRelative = (siteId: string, residentId: string, username: string) =>
  sendJson<Relatives>('PUT', `${resident(siteId, residentId)}/relatives/${encodeURIComponent(username)}`);
export const unlinkRelative = (siteId: string, residentId: string, username: string) =>
  sendJson<Relatives>('DELETE', `${resident(siteId, residentId)}/relatives/${encodeURIComponent(username)}`);
export const recordSharingConsent = (siteId: string, residentId: string, body: ConsentInput) =>
  sendJson<Relatives>('POST', `${resident(siteId, residentId)}/sharing-consent`, body);
export const withdrawSharingConsent = (siteId: string, residentId: string) =>
  sendJson<Relatives>('DELETE', `${resident(siteId, residentId)}/sharing-consent`);
export const fetchAccessLog = (siteId: string, residentId: string) =>
  getJson<{ entries: AccessLogEntry[] }>(
    `/api/sites/${encodeURIComponent(siteId)}/relative-access-log?residentId=${encodeURIComponent(residentId)}&limit=50`,
  ).then((r) => r.entries);
