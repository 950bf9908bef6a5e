import type { Alarm } from '@nattevakt/protocol/alarm';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { HIGH, LOW, MEDIUM, type SoundPattern, TECHNICAL } from './patterns.js';
import { alarmSound } from './player.js';

export const PAUSE_MS = 2 * 60 * 1000;
/** A short Wi-Fi blip should not sound; a link down this long should. */
const LINK_GRACE_MS = 10_000;

export interface SoundConditions {
  openAlarms: readonly Alarm[];
  linkDown: boolean;
  disconnectedSince: number | null;
  gatewayDown: boolean;
  /** Changes with every escalation alert: an escalation ends a pause at once. */
  escalationAt?: number | null;
}

export interface AlarmSoundState {
  /** Sound can be heard (the audio context runs). */
  ready: boolean;
  /** What would sound now if not paused. */
  demand: SoundPattern | null;
  /** The pattern sounding now (null while paused or quiet); shown to tests and screen readers as state. */
  playing: SoundPattern['name'] | null;
  /** Local time (Date.now()) at which the pause ends by itself, or null. */
  pausedUntil: number | null;
  pause: () => void;
  unpause: () => void;
  unlock: () => void;
}

interface Pause {
  since: number;
  until: number;
  /** The alarms that were active when the nurse paused: a new one ends the pause at once. */
  known: ReadonlySet<string>;
}

/**
 * Decides what the tablet sounds: unanswered high alarms outrank medium ones, which outrank the
 * technical tone for a lost link or gateway; a new low alarm chimes once. "Pause lyd" silences
 * it for two minutes, after which it sounds again by itself.
 */
export function useAlarmSound({
  openAlarms,
  linkDown,
  disconnectedSince,
  gatewayDown,
  escalationAt = null,
}: SoundConditions): AlarmSoundState {
  const ready = useSyncExternalStore(alarmSound.subscribe, alarmSound.isReady);
  const [pause, setPause] = useState<Pause | null>(null);
  const linkLostLong = useElapsed(linkDown ? disconnectedSince : null, LINK_GRACE_MS);

  const active = openAlarms.filter((alarm) => alarm.status === 'active');
  let demand: SoundPattern | null = null;
  if (active.some((alarm) => alarm.priority === 'high')) demand = HIGH;
  else if (active.some((alarm) => alarm.priority === 'medium')) demand = MEDIUM;
  else if (linkLostLong || gatewayDown || active.some((alarm) => alarm.priority === 'technical')) demand = TECHNICAL;

  const activeKey = active
    .map((alarm) => alarm.id)
    .sort()
    .join('\n');

  // A new alarm during a pause ends the pause: the nurse silenced what she knew about.
  useEffect(() => {
    if (!pause) return;
    const ids = activeKey ? activeKey.split('\n') : [];
    if (ids.some((id) => !pause.known.has(id))) setPause(null);
  }, [activeKey, pause]);

  useEffect(() => {
    if (escalationAt !== null) setPause((current) => (current && current.since < escalationAt ? null : current));
  }, [escalationAt]);

  useEffect(() => {
    if (!pause) return;
    const timer = setTimeout(() => setPause(null), Math.max(0, pause.until - Date.now()));
    return () => clearTimeout(timer);
  }, [pause]);

  // Not before sound can be heard: the first burst must come the moment it is switched on, not a repeat later.
  useEffect(() => {
    alarmSound.setLoop(pause || !ready ? null : demand);
  }, [demand, pause, ready]);
  useEffect(() => () => alarmSound.setLoop(null), []);

  // Low alarms chime once each, when first seen.
  const chimed = useRef(new Set<string>());
  const lowKey = active
    .filter((alarm) => alarm.priority === 'low')
    .map((alarm) => alarm.id)
    .join('\n');
  useEffect(() => {
    const fresh = (lowKey ? lowKey.split('\n') : []).filter((id) => !chimed.current.has(id));
    for (const id of fresh) chimed.current.add(id);
    if (fresh.length > 0 && !pause) alarmSound.play(LOW);
  }, [lowKey, pause]);

  const pauseSound = useCallback(() => {
    setPause({ since: Date.now(), until: Date.now() + PAUSE_MS, known: new Set(activeKey ? activeKey.split('\n') : []) });
  }, [activeKey]);
  const unpause = useCallback(() => setPause(null), []);
  const unlock = useCallback(() => void alarmSound.unlock(), []);

  return {
    ready,
    demand,
    playing: pause || !ready ? null : (demand?.name ?? null),
    pausedUntil: pause?.until ?? null,
    pause: pauseSound,
    unpause,
    unlock,
  };
}

/** True once `since` (Date.now() based) is at least `ms` in the past; false while since is null. */
function useElapsed(since: number | null, ms: number): boolean {
  const [elapsed, setElapsed] = useState(false);
  useEffect(() => {
    if (since === null) {
      setElapsed(false);
      return;
    }
    const left = since + ms - Date.now();
    if (left <= 0) {
      setElapsed(true);
      return;
    }
    setElapsed(false);
    const timer = setTimeout(() => setElapsed(true), left);
    return () => clearTimeout(timer);
  }, [since, ms]);
  return elapsed;
}
