/**
 * This tablet's own id, kept in localStorage: it names the device in each alarm's delivery
 * timeline until devices are registered with logins. The protocol's DeviceId pattern allows
 * letters, digits and `._:-`.
 */
const KEY = 'nattevakt.device';

function randomId(): string {
  // crypto.randomUUID needs a secure context; a ward tablet on plain http over the LAN has only getRandomValues.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

let cached: string | null = null;

export function deviceId(): string {
  if (cached) return cached;
  try {
    const stored = localStorage.getItem(KEY);
    if (stored && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(stored)) {
      cached = stored;
      return stored;
    }
    cached = `tablet-${randomId()}`;
    localStorage.setItem(KEY, cached);
  } catch {
    // Private mode: a new id per load still confirms delivery, just under another name.
    cached = `tablet-${randomId()}`;
  }
  return cached;
}
