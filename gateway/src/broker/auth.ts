import { timingSafeEqual } from 'node:crypto';
import { TOPIC_ROOT } from '@nattevakt/protocol/topics';
import type { AedesOptions, AuthenticateError } from 'aedes';

export interface BrokerAuthOptions {
  siteId: string;
  users: { username: string; password: string }[];
  /** Only a gateway in simulated-clock mode accepts the simulator's clock topic. */
  acceptClock: boolean;
}

const equal = (a: string, b: Buffer): boolean => {
  const expected = Buffer.from(a, 'utf8');
  return expected.length === b.length && timingSafeEqual(expected, b);
};

/**
 * The broker's access rules, as aedes hooks. Sensors may publish only their own site's sensor
 * topics; nobody but the gateway itself publishes alarms; `$SYS` stays closed (aedes' default
 * authorizePublish does this and a custom one must keep it).
 */
export function brokerAuth(options: BrokerAuthOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const sensorPrefix = `${TOPIC_ROOT}/${options.siteId}/sensors/`;
  const clockTopic = `${TOPIC_ROOT}/${options.siteId}/clock`;
  return {
    authenticate(_client, username, password, done) {
      if (options.users.length === 0) return done(null, true);
      const user = options.users.find((u) => u.username === username);
      if (user !== undefined && password !== undefined && equal(user.password, password)) return done(null, true);
      // CONNACK return code 4: bad user name or password [MQTT-3.2.2.3].
      const error = Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as AuthenticateError;
      return done(error, false);
    },
    authorizePublish(client, packet, done) {
      if (client === null) return done(null); // the gateway's own publications
      const topic = packet.topic;
      if (topic.startsWith('$SYS')) return done(new Error('$SYS is reserved for the broker'));
      if (topic.startsWith(sensorPrefix)) return done(null);
      if (options.acceptClock && topic === clockTopic) return done(null);
      // An error here closes the client's connection, as MQTT 3.1.1 prescribes [MQTT-3.3.5-2].
      return done(new Error(`publishing to ${topic} is not allowed`));
    },
    authorizeSubscribe(_client, subscription, done) {
      // On-site consumers may read the site's topics, never other sites' or the broker's.
      if (subscription.topic.startsWith(`${TOPIC_ROOT}/${options.siteId}/`)) return done(null, subscription);
      return done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
    },
  };
}
