/** The site clock the rules decide on. */
export interface SiteClock {
  readonly simulated: boolean;
  /** Current site time, epoch ms. */
  now(): number;
  /** Simulation speed (1 for the system clock). */
  readonly speed: number;
}

export class SystemClock implements SiteClock {
  readonly simulated = false;
  readonly speed = 1;
  now(): number {
    return Date.now();
  }
}

/**
 * A clock that only moves when told: by the simulator's clock topic in a demo, or by a test.
 * It never runs backwards, so a late or duplicated clock message cannot undo a decision.
 */
export class ManualClock implements SiteClock {
  readonly simulated = true;
  #now: number;
  #speed = 1;
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  get speed(): number {
    return this.#speed;
  }
  /** Moves the clock forward; returns true when it moved. */
  advanceTo(instant: number, speed?: number): boolean {
    if (speed !== undefined) this.#speed = speed;
    if (instant <= this.#now) return false;
    this.#now = instant;
    return true;
  }
}
