const KEY = 'nattevakt.nurseName';
/** The protocol's StaffName allows 1–60 characters. */
export const MAX_NAME_LENGTH = 60;

export function loadNurseName(): string {
  try {
    return localStorage.getItem(KEY) ?? '';
  } catch {
    // Private browsing or storage disabled: the nurse types the name each time.
    return '';
  }
}

export function saveNurseName(name: string): void {
  try {
    localStorage.setItem(KEY, name);
  } catch {
    // See loadNurseName.
  }
}

export function cleanNurseName(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ').slice(0, MAX_NAME_LENGTH);
}
