import type { SoundPattern } from './patterns.js';

type AudioContextConstructor = typeof AudioContext;

interface WindowWithWebkitAudio {
  webkitAudioContext?: AudioContextConstructor;
}

interface NavigatorWithAudioSession {
  audioSession?: { type: string };
}

const LEVEL = 0.25;
/** Rise and fall of each pulse: a hard edge clicks, and the standard asks for a shaped pulse. */
const RAMP = 0.02;

/**
 * Plays sound patterns through WebAudio. Browsers start an AudioContext suspended until it is
 * resumed inside a user gesture, so `unlock()` must be called from a tap ("Start vakt").
 */
export class AlarmSoundPlayer {
  private context: AudioContext | null = null;
  private readonly listeners = new Set<() => void>();
  private loop: SoundPattern | null = null;
  private loopTimer: ReturnType<typeof setInterval> | undefined;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** True when sound can actually be heard (the context is running). */
  readonly isReady = (): boolean => this.context?.state === 'running';

  /** Call from inside a user gesture. Resolves to whether sound is now on. */
  async unlock(): Promise<boolean> {
    const Context = window.AudioContext ?? (window as WindowWithWebkitAudio).webkitAudioContext;
    if (!Context) return false;
    try {
      // Safari: treat the tablet as a media player, which may let alarms through the silent switch.
      const session = (navigator as NavigatorWithAudioSession).audioSession;
      if (session) session.type = 'playback';
    } catch {
      // Experimental API; harmless to lack.
    }
    if (!this.context) {
      this.context = new Context();
      this.context.addEventListener('statechange', () => this.notify());
      // iOS suspends the context after calls and Siri; only a later gesture may resume it.
      document.addEventListener('pointerdown', () => this.resumeIfSuspended(), { capture: true, passive: true });
    }
    try {
      await this.context.resume();
    } catch {
      return false;
    } finally {
      this.notify();
    }
    return this.isReady();
  }

  /** Repeats `pattern` until told otherwise; the same pattern again keeps the running rhythm. */
  setLoop(pattern: SoundPattern | null): void {
    if (pattern === this.loop) return;
    clearInterval(this.loopTimer);
    this.loop = pattern;
    if (!pattern) return;
    this.play(pattern);
    if (pattern.repeatEvery !== null) this.loopTimer = setInterval(() => this.play(pattern), pattern.repeatEvery * 1000);
  }

  play(pattern: SoundPattern): void {
    const context = this.context;
    if (context?.state !== 'running') return;
    const start = context.currentTime + 0.05;
    for (const pulse of pattern.pulses) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = pattern.frequency;
      const on = start + pulse.at;
      const off = on + pulse.duration;
      gain.gain.setValueAtTime(0, on);
      gain.gain.linearRampToValueAtTime(LEVEL, on + RAMP);
      gain.gain.setValueAtTime(LEVEL, off - RAMP);
      gain.gain.linearRampToValueAtTime(0, off);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(on);
      oscillator.stop(off + 0.01);
    }
  }

  private resumeIfSuspended(): void {
    if (this.context && this.context.state !== 'running' && this.context.state !== 'closed') {
      this.context.resume().catch(() => undefined);
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** One player per tablet: the start screen unlocks it, the board plays on it. */
export const alarmSound = new AlarmSoundPlayer();
