import type { ScenarioProgress, ScenarioRun } from '@nattevakt/protocol/commissioning';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { StaffClientToServer, StaffServerToClient } from '@nattevakt/protocol/socket-events';
import { io, type Socket } from 'socket.io-client';

type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;
type Listener<T> = (value: T) => void;

interface Subscription {
  siteId: string;
  sensorId: string;
  listeners: Set<Listener<SensorEvent>>;
  results: Set<Listener<boolean>>;
}

const ACK_TIMEOUT_MS = 5000;
const key = (siteId: string, sensorId: string) => `${siteId}/${sensorId}`;

/**
 * The technician bench's own `/staff` connection (the ward connection beside it carries rooms and
 * clock): live events of the sensors the page follows, re-subscribed after every reconnect, and
 * the progress and verdict of the scenario runs this person starts. While it is down the page
 * falls back to polling the stored events.
 */
export class BenchSocket {
  private socket: StaffSocket | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly linkListeners = new Set<Listener<boolean>>();
  private readonly progressListeners = new Set<Listener<ScenarioProgress>>();
  private readonly finishedListeners = new Set<Listener<ScenarioRun>>();
  connected = false;

  start(): void {
    if (this.socket) return;
    const socket: StaffSocket = io('/staff', { forceNew: true });
    this.socket = socket;
    socket.on('connect', () => {
      this.setLink(true);
      for (const subscription of this.subscriptions.values()) this.send(subscription);
    });
    socket.on('disconnect', (reason) => {
      this.setLink(false);
      if (reason === 'io server disconnect') setTimeout(() => this.socket?.connect(), 5000);
    });
    socket.on('connect_error', () => this.setLink(false));
    socket.on('sensorEvent', (event) => {
      for (const listener of this.subscriptions.get(key(event.siteId, event.sensorId))?.listeners ?? []) listener(event);
    });
    socket.on('scenarioProgress', (progress) => {
      for (const listener of this.progressListeners) listener(progress);
    });
    socket.on('scenarioFinished', (run) => {
      for (const listener of this.finishedListeners) listener(run);
    });
  }

  stop(): void {
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
    this.socket = null;
    this.setLink(false);
  }

  /**
   * Follows one sensor: `onEvent` for each event the server ingests, `onLive` with whether the
   * server accepted the subscription (again after each reconnect; false when the link drops).
   */
  subscribe(siteId: string, sensorId: string, onEvent: Listener<SensorEvent>, onLive: Listener<boolean>): () => void {
    const id = key(siteId, sensorId);
    let subscription = this.subscriptions.get(id);
    if (!subscription) {
      subscription = { siteId, sensorId, listeners: new Set(), results: new Set() };
      this.subscriptions.set(id, subscription);
    }
    subscription.listeners.add(onEvent);
    subscription.results.add(onLive);
    const dropLink = this.onLink((connected) => {
      if (!connected) onLive(false);
    });
    if (this.connected) this.send(subscription);
    return () => {
      dropLink();
      const current = this.subscriptions.get(id);
      if (!current) return;
      current.listeners.delete(onEvent);
      current.results.delete(onLive);
      if (current.listeners.size > 0) return;
      this.subscriptions.delete(id);
      if (this.socket?.connected) this.socket.emit('unsubscribeSensor', { siteId, sensorId }, () => {});
    };
  }

  onLink(listener: Listener<boolean>): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  onProgress(listener: Listener<ScenarioProgress>): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  onFinished(listener: Listener<ScenarioRun>): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  private send(subscription: Subscription): void {
    const socket = this.socket;
    if (!socket) return;
    socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck('subscribeSensor', { siteId: subscription.siteId, sensorId: subscription.sensorId })
      .then(
        (result) => {
          for (const listener of subscription.results) listener(result.ok);
        },
        () => {
          for (const listener of subscription.results) listener(false);
        },
      );
  }

  private setLink(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const listener of this.linkListeners) listener(connected);
  }
}
