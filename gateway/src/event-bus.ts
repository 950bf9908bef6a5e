import { EventEmitter } from 'node:events';
import type { Alarm, AlarmDecision, ConditionCleared } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';

/** Everything that happens inside a gateway, by name and payload. */
export interface GatewayEvents {
  sensorEvent: [SensorEvent];
  alarmRaised: [AlarmDecision];
  conditionCleared: [ConditionCleared];
  /** The server changed an alarm (acknowledged, resolved). */
  alarmUpdated: [Alarm];
  siteConfigChanged: [SiteConfig];
  clockAdvanced: [number];
}

type Listener<K extends keyof GatewayEvents> = (...args: GatewayEvents[K]) => void;

/**
 * A typed event bus whose listeners are owned: `removeAllOf(owner)` in an extension's `stop()`
 * removes exactly what it added (the zigbee2mqtt eventBus pattern).
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  readonly #owned = new Map<object, { event: string; listener: (...args: unknown[]) => void }[]>();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  on<K extends keyof GatewayEvents>(event: K, owner: object, listener: Listener<K>): void {
    const untyped = listener as unknown as (...args: unknown[]) => void;
    this.#emitter.on(event, untyped);
    const list = this.#owned.get(owner) ?? [];
    list.push({ event, listener: untyped });
    this.#owned.set(owner, list);
  }

  emit<K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]): void {
    this.#emitter.emit(event, ...args);
  }

  removeAllOf(owner: object): void {
    for (const { event, listener } of this.#owned.get(owner) ?? []) this.#emitter.off(event, listener);
    this.#owned.delete(owner);
  }
}
