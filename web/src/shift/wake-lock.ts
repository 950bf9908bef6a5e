import { useSyncExternalStore } from 'react';

/**
 * Keeps the screen on during the shift where the browser allows it (Screen Wake Lock). The
 * browser drops the lock whenever the page is hidden; it is taken again when the page comes
 * back (visibilitychange), which works in Chrome. iOS refuses that without a new gesture
 * (WebKit bug 255363), so every later tap tries again too. Failure is not an error: Guided
 * Access with Auto-Lock off is the real guarantee on the ward's tablets.
 */
let sentinel: WakeLockSentinel | null = null;
let pending = false;
let wanted = false;
let listening = false;
const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};

export function wakeLockSupported(): boolean {
  return typeof navigator !== 'undefined' && 'wakeLock' in navigator;
}

export function isScreenKeptOn(): boolean {
  return sentinel !== null && !sentinel.released;
}

/** Call from a user gesture: from now on the tablet tries to keep the screen on. */
export async function keepScreenOn(): Promise<boolean> {
  wanted = true;
  startRetrying();
  return acquire();
}

async function acquire(): Promise<boolean> {
  if (!wanted || !wakeLockSupported() || isScreenKeptOn() || pending || document.visibilityState !== 'visible') return isScreenKeptOn();
  pending = true;
  try {
    sentinel = await navigator.wakeLock.request('screen');
    sentinel.addEventListener('release', notify);
    return true;
  } catch {
    sentinel = null;
    return false;
  } finally {
    pending = false;
    notify();
  }
}

function startRetrying(): void {
  if (listening) return;
  listening = true;
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void acquire();
  });
  document.addEventListener(
    'pointerdown',
    () => {
      if (!isScreenKeptOn()) void acquire();
    },
    { capture: true, passive: true },
  );
}

export type WakeLockState = 'on' | 'off' | 'unsupported';

/** For the start screen and the header: is the screen being kept on? */
export function useWakeLock(): WakeLockState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => (!wakeLockSupported() ? 'unsupported' : isScreenKeptOn() ? 'on' : 'off'),
  );
}
