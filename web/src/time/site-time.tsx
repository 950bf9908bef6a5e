import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { formatClock } from './format.js';
import { type ClockReading, siteNow } from './site-clock.js';

export interface SiteTime {
  /** Now on the site clock, in epoch milliseconds. */
  now: number;
  timeZone: string | undefined;
  /**
   * The site clock is a simulation, so instants stamped by the server's own clock
   * (receivedAt, acknowledgedAt, resolvedAt) are on another timeline and must not be shown
   * as times of the night.
   */
  simulated: boolean;
  /** "HH:MM" in the site's time zone. */
  format: (instant: string | number) => string;
}

const SiteTimeContext = createContext<SiteTime>({
  now: Date.now(),
  timeZone: undefined,
  simulated: false,
  format: (instant) => formatClock(instant, undefined),
});

/** One display second per tick at real speed; a fast simulation ticks more often, within reason. */
function tickMs(speed: number): number {
  return Math.min(1000, Math.max(250, 1000 / Math.max(speed, 1)));
}

export function SiteTimeProvider({
  clock,
  timeZone,
  children,
}: {
  clock: ClockReading | null;
  timeZone: string | undefined;
  children: ReactNode;
}) {
  const [monotonic, setMonotonic] = useState(() => performance.now());
  const speed = clock?.clock.speed ?? 1;
  useEffect(() => {
    const timer = setInterval(() => setMonotonic(performance.now()), tickMs(speed));
    return () => clearInterval(timer);
  }, [speed]);
  // A fresh reading should show at once, not at the next tick.
  const now = siteNow(clock, Math.max(monotonic, clock?.receivedAt ?? 0));
  const simulated = clock?.clock.simulated ?? false;
  // A new value re-renders every reader of the clock (each room tile and alarm card): only when the time moves.
  const value = useMemo<SiteTime>(
    () => ({ now, timeZone, simulated, format: (instant) => formatClock(instant, timeZone) }),
    [now, timeZone, simulated],
  );
  return <SiteTimeContext value={value}>{children}</SiteTimeContext>;
}

export function useSiteTime(): SiteTime {
  return useContext(SiteTimeContext);
}
