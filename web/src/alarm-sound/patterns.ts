/**
 * Alarm sound patterns after IEC 60601-1-8: the number of pulses in a burst tells the priority
 * without looking. Times are in seconds from the start of the burst.
 */
export interface Pulse {
  at: number;
  duration: number;
}

export interface SoundPattern {
  name: 'high' | 'medium' | 'low' | 'technical';
  /** Fundamental frequency; a square wave adds the harmonics the standard asks for. */
  frequency: number;
  pulses: readonly Pulse[];
  /** Seconds from one burst's start to the next while the condition lasts; null plays once. */
  repeatEvery: number | null;
}

function pulseGroup(start: number, count: number, spacing: number, duration: number): Pulse[] {
  return Array.from({ length: count }, (_, i) => ({ at: start + i * spacing, duration }));
}

/** High priority: 10 pulses as 3 + 2, a pause, 3 + 2. */
const HIGH_PULSE = 0.15;
const HIGH_SPACING = 0.25;
function highBurst(): Pulse[] {
  const first = [...pulseGroup(0, 3, HIGH_SPACING, HIGH_PULSE), ...pulseGroup(0.95, 2, HIGH_SPACING, HIGH_PULSE)];
  const secondStart = 2.05;
  return [...first, ...first.map((pulse) => ({ ...pulse, at: pulse.at + secondStart }))];
}

export const HIGH: SoundPattern = { name: 'high', frequency: 880, pulses: highBurst(), repeatEvery: 6 };
export const MEDIUM: SoundPattern = { name: 'medium', frequency: 660, pulses: pulseGroup(0, 3, 0.3, 0.2), repeatEvery: 8 };
export const LOW: SoundPattern = { name: 'low', frequency: 523, pulses: pulseGroup(0, 1, 0, 0.25), repeatEvery: null };
/** Lost connection and similar: lower and slower than any patient alarm, so it is not mistaken for one. */
export const TECHNICAL: SoundPattern = { name: 'technical', frequency: 392, pulses: pulseGroup(0, 2, 0.45, 0.3), repeatEvery: 20 };
