import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { MAX_SENSOR_SUBSCRIPTIONS, type SubscriptionResult, sensorSubscription } from '@nattevakt/protocol/socket-events';
import type { Logger } from 'pino';
import { memberOf, type Role } from '../auth/auth-service.js';
import type { SiteService } from '../sites/site-service.js';
import type { StaffNamespace } from './socket-types.js';

/** Roles that may follow a sensor's raw events: technicians look after the sensors, admins install them. Never relatives or nurses. */
export const SENSOR_STREAM_ROLES: readonly Role[] = ['technician', 'admin'];

/** The room of one sensor's live events. */
export const sensorRoom = (siteId: string, sensorId: string) => `sensor:${siteId}:${sensorId}`;
/** The room of one person's sockets (scenario progress and verdicts go there). */
export const userRoom = (userId: string) => `user:${userId}`;

/**
 * Live sensor events on `/staff`: a technician or admin of the site subscribes to one sensor
 * (`subscribeSensor`, acknowledged) and gets each event the server ingests for it (`sensorEvent`).
 * Relatives never reach `/staff` (its handshake refuses them), and nurses are refused here: the
 * raw stream is for the people who look after the sensors. Each socket also joins its person's
 * room, where scenario progress goes.
 */
export function attachSensorStream(nsp: StaffNamespace, deps: { sites: SiteService; logger: Logger }): (events: SensorEvent[]) => void {
  nsp.on('connection', (socket) => {
    const user = socket.data.user;
    void socket.join(userRoom(user.id));
    const subscribed = () => [...socket.rooms].filter((r) => r.startsWith('sensor:')).length;
    const answer = (done: unknown, result: SubscriptionResult) => {
      if (typeof done === 'function') done(result);
    };
    socket.on('subscribeSensor', (subscription, done) => {
      const checked = sensorSubscription.check(subscription);
      if (!checked.ok) return answer(done, { ok: false, error: `invalid: ${checked.errors.join('; ')}` });
      const { siteId, sensorId } = checked.value;
      if (!SENSOR_STREAM_ROLES.includes(user.role) || !memberOf(user, siteId)) {
        deps.logger.warn({ userId: user.id, role: user.role, siteId, sensorId }, 'sensor stream refused');
        return answer(done, { ok: false, error: 'forbidden' });
      }
      if (!deps.sites.get(siteId)?.sensors.some((s) => s.id === sensorId))
        return answer(done, { ok: false, error: `no sensor "${sensorId}" at site "${siteId}"` });
      const room = sensorRoom(siteId, sensorId);
      if (!socket.rooms.has(room) && subscribed() >= MAX_SENSOR_SUBSCRIPTIONS)
        return answer(done, { ok: false, error: `at most ${MAX_SENSOR_SUBSCRIPTIONS} sensors at once` });
      void socket.join(room);
      answer(done, { ok: true });
    });
    socket.on('unsubscribeSensor', (subscription, done) => {
      const checked = sensorSubscription.check(subscription);
      if (!checked.ok) return answer(done, { ok: false, error: `invalid: ${checked.errors.join('; ')}` });
      void socket.leave(sensorRoom(checked.value.siteId, checked.value.sensorId));
      answer(done, { ok: true });
    });
  });
  // The events ingested here go to the subscribers on this instance; with several instances the
  // caller passes the other instances' events in too (see Cluster `sensorEvents`).
  return (events) => {
    for (const event of events) nsp.local.to(sensorRoom(event.siteId, event.sensorId)).emit('sensorEvent', event);
  };
}
