import { randomUUID } from 'node:crypto';
import type { RuleOutput } from '@nattevakt/protocol/rules/engine';
import { RuleEngine } from '@nattevakt/protocol/rules/engine';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { Logger } from 'pino';
import type { SiteClock } from '../clock.js';
import type { EventBus } from '../event-bus.js';

/** Longest single timer; deadlines further away are re-checked, so a changed clock is noticed. */
const MAX_TIMER_MS = 60_000;
/** A simulated clock step longer than this is a jump, not time passing (the simulator ticks every few simulated seconds). */
const MAX_SIMULATED_STEP_MS = 60 * 60_000;

/**
 * Runs the pure rule engine live: feeds it events at the site-clock time, and wakes it at its
 * next deadline — by a timer on the system clock, or whenever the simulated clock advances.
 */
export class RuleRuntime {
  readonly #engine: RuleEngine;
  #timer: NodeJS.Timeout | null = null;
  /** Site-clock instant the pending timer wakes at. */
  #timerAt = 0;
  #stopped = false;
  #lastClock = 0;

  constructor(
    config: SiteConfig,
    private readonly clock: SiteClock,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {
    this.#engine = new RuleEngine(config, { newId: randomUUID, wallClock: Date.now });
  }

  get engine(): RuleEngine {
    return this.#engine;
  }

  start(): void {
    this.bus.on('sensorEvent', this, (event) => this.#handle(event));
    this.bus.on('siteConfigChanged', this, (config) => {
      this.#engine.setConfig(config);
      this.#schedule();
    });
    this.bus.on('clockAdvanced', this, (now) => {
      // A simulated clock that jumps (a new night, or the first clock message) skipped that time.
      if (now - this.#lastClock > MAX_SIMULATED_STEP_MS) this.#engine.forgiveSilence(now);
      this.#lastClock = now;
      this.tick();
    });
    this.#lastClock = this.clock.now();
    // The engine counts silence from the first time it sees: a gateway whose sensors are all dead must still tick.
    this.tick();
  }

  stop(): void {
    this.#stopped = true;
    this.bus.removeAllOf(this);
    this.#clearTimer();
  }

  /** Evaluates deadlines now. */
  tick(): void {
    this.#publish(this.#engine.onTick(this.clock.now()));
    this.#schedule();
  }

  #handle(event: SensorEvent): void {
    this.#publish(this.#engine.onEvent(event, Date.parse(event.time)));
    this.#schedule();
  }

  #publish(output: RuleOutput): void {
    // Told first, logged after: the nurses' path does not wait for a log line to be written.
    for (const alarm of output.raised) {
      this.bus.emit('alarmRaised', alarm);
      this.logger.info(
        { alarmId: alarm.id, rule: alarm.rule, residentId: alarm.residentId, roomId: alarm.roomId, raisedAt: alarm.raisedAt },
        'alarm raised',
      );
    }
    for (const cleared of output.cleared) {
      this.logger.info({ alarmId: cleared.alarmId, clearedAt: cleared.clearedAt }, 'alarm condition cleared');
      this.bus.emit('conditionCleared', cleared);
    }
  }

  #schedule(): void {
    // A simulated clock ticks us on every advance.
    const deadline = this.#stopped || this.clock.simulated ? null : this.#engine.nextDeadline();
    if (deadline === null) {
      this.#clearTimer();
      return;
    }
    const wake = Math.min(deadline, this.clock.now() + MAX_TIMER_MS);
    // Most events leave the next wake-up where it was, or later: keep the timer (a timer that fires
    // early ticks for nothing and re-arms). Re-arm only when something is due sooner.
    if (this.#timer !== null && this.#timerAt <= wake) return;
    this.#clearTimer();
    this.#timerAt = wake;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.tick();
      },
      Math.max(wake - this.clock.now(), 0),
    );
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
