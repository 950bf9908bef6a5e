import type { Me } from '../api/auth.js';

export function AdminPage({ me, onLogout }: { me: Me; onLogout: () => void }) {
  return (
    <main>
      <p>{me.displayName}</p>
      <button type="button" onClick={onLogout}>
        logout
      </button>
    </main>
  );
}
