import { useSyncExternalStore } from 'react';
import type { Me, Role } from '../api/auth.js';

/**
 * Four pages and a login do not need a routing library: the path is state, `navigate` pushes
 * it, and the server answers every non-API path with index.html (server/src/routes/web-app.ts).
 */
export type Page = 'board' | 'relative' | 'technician' | 'admin';

export const PAGE_PATHS: Record<Page, string> = {
  board: '/vakt',
  relative: '/parorende',
  technician: '/tekniker',
  admin: '/admin',
};

/** Who may open which page; the server checks every request again. */
const PAGES_BY_ROLE: Record<Role, readonly Page[]> = {
  nurse: ['board'],
  nurse_in_charge: ['board', 'admin'],
  admin: ['admin', 'board', 'technician'],
  technician: ['technician'],
  relative: ['relative'],
};

export function pagesFor(me: Me): readonly Page[] {
  return PAGES_BY_ROLE[me.role] ?? [];
}

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname) return;
  const url = `${path}${window.location.hash}`;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  notify();
}

/** The page a path names, if this person may see it; otherwise their first page. */
export function pageFor(me: Me, path: string): Page | null {
  const allowed = pagesFor(me);
  const named = (Object.keys(PAGE_PATHS) as Page[]).find((page) => path === PAGE_PATHS[page] || path.startsWith(`${PAGE_PATHS[page]}/`));
  if (named && allowed.includes(named)) return named;
  return allowed[0] ?? null;
}
