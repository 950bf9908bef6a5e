/**
 * Keeps the screen on during the shift where the browser allows it. iOS drops the lock when
 * the page is hidden and refuses to take it back without a new gesture (WebKit bug 255363),
 * so after the first request every later tap tries again. Failure is not an error: Guided
 * Access with Auto-Lock off is the real guarantee on the ward's tablets.
 */
let sentinel: WakeLockSentinel | null = null;
let pending = false;
let listening = false;

export function wakeLockSupported(): boolean {
  return typeof navigator !== 'undefined' && 'wakeLock' in navigator;
}

export function isScreenKeptOn(): boolean {
  return sentinel !== null && !sentinel.released;
}

/** Call from a user gesture. */
export async function keepScreenOn(): Promise<boolean> {
  startRetryingOnTap();
  if (!wakeLockSupported() || isScreenKeptOn() || pending || document.visibilityState !== 'visible') return isScreenKeptOn();
  pending = true;
  try {
    sentinel = await navigator.wakeLock.request('screen');
    return true;
  } catch {
    sentinel = null;
    return false;
  } finally {
    pending = false;
  }
}

function startRetryingOnTap(): void {
  if (listening) return;
  listening = true;
  document.addEventListener(
    'pointerdown',
    () => {
      if (!isScreenKeptOn()) void keepScreenOn();
    },
    { capture: true, passive: true },
  );
}
