import { TOPIC_ROOT, topics } from '@nattevakt/protocol/topics';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { CredentialCheckOverload, type Credentials, type MqttIdentity } from './credentials.js';

export interface BrokerAuthOptions {
  siteId: string;
  /**
   * The gateway's own subscription filters (one per sensor format). Anonymous demo clients and
   * the deprecated plain-password users may publish to what they match, as before roles existed.
   */
  demoFilters: readonly string[];
  credentials: Credentials;
  /** Only a gateway in simulated-clock mode accepts the simulator's clock topic. */
  acceptClock: boolean;
  /** Told about every refusal, for the counters and a log line. */
  onRefused(
    reason: 'bad-credentials' | 'no-credentials' | 'auth-overload' | 'publish-denied' | 'subscribe-denied',
    detail: RefusalDetail,
  ): void;
}

export interface RefusalDetail {
  clientId: string;
  username?: string | undefined;
  topic?: string;
}

/** What the access rules see of a connection. */
export type IdentityOf = (client: Client) => MqttIdentity | undefined;

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 (Table 3.1). */
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

const refuse = (returnCode: 3 | 4 | 5, message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/** True when `topic` is `base` or lies below it: what the filter `base/#` matches (MQTT 3.1.1 §4.7.1.2). */
const within = (topic: string, base: string): boolean => topic === base || topic.startsWith(`${base}/`);

/** Whether `a[aFrom, aTo)` and `b[bFrom, bTo)` are the same characters. */
function sameLevel(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let i = 0; i < aTo - aFrom; i++) if (a.charCodeAt(aFrom + i) !== b.charCodeAt(bFrom + i)) return false;
  return true;
}

/**
 * Whether a topic filter matches a topic name (MQTT 3.1.1 §4.7.1); `$` topics are refused before this.
 * Walks the levels in place: it runs for every message, and splitting both strings allocated two arrays
 * and their strings each time.
 */
export function topicMatches(filter: string, topic: string): boolean {
  let f = 0; // where the filter's current level starts
  let t = 0; // where the topic's current level starts; past its end once the topic has no level left
  for (;;) {
    let fEnd = filter.indexOf('/', f);
    if (fEnd < 0) fEnd = filter.length;
    const single = fEnd - f === 1;
    if (single && filter.charCodeAt(f) === 0x23) return true; // '#' also matches the parent level (§4.7.1.2)
    if (t > topic.length) return false;
    let tEnd = topic.indexOf('/', t);
    if (tEnd < 0) tEnd = topic.length;
    if (!(single && filter.charCodeAt(f) === 0x2b) && !sameLevel(filter, f, fEnd, topic, t, tEnd)) return false; // '+': any one level
    if (fEnd === filter.length) return tEnd === topic.length;
    f = fEnd + 1;
    t = tEnd === topic.length ? topic.length + 1 : tEnd + 1;
  }
}

/** The topics and prefixes `mayPublish` compares with, made once per site instead of on every message. */
const siteTopics = new Map<string, { alarms: string; alarmsBelow: string; prefix: string; sensors: string; clock: string }>();
function topicsOfSite(siteId: string) {
  let known = siteTopics.get(siteId);
  if (known === undefined) {
    const alarms = topics.alarms(siteId);
    const prefix = `${TOPIC_ROOT}/${siteId}/`;
    known = { alarms, alarmsBelow: `${alarms}/`, prefix, sensors: `${prefix}sensors/`, clock: topics.clock(siteId) };
    siteTopics.set(siteId, known);
  }
  return known;
}

/**
 * Which topics a connection may publish to. Nobody but the gateway itself publishes alarms (the
 * gateway publishes through aedes.publish, which never reaches this check), `$SYS` belongs to the
 * broker, and each role publishes only what it is for.
 */
export function mayPublish(
  identity: MqttIdentity,
  topic: string,
  site: { siteId: string; acceptClock: boolean; demoFilters: readonly string[] },
): boolean {
  if (topic.startsWith('$')) return false; // MQTT 3.1.1 §4.7.2: topics beginning with `$` are the server's
  const known = topicsOfSite(site.siteId);
  if (topic === known.alarms || topic.startsWith(known.alarmsBelow)) return false;
  const sitePrefix = known.prefix;
  const isClock = topic === known.clock;
  const clock = site.acceptClock && isClock;
  switch (identity.role) {
    case 'anonymous':
    case 'legacy':
      // Demo mode and the deprecated plain-password users keep the rules of before: whatever the
      // gateway listens to (any sensor topic of this site, Zigbee2MQTT's base topic), and the clock.
      if (isClock) return clock;
      return topic.startsWith(known.sensors) || site.demoFilters.some((filter) => topicMatches(filter, topic));
    case 'sensor': {
      const levels = topic.slice(sitePrefix.length).split('/');
      return (
        topic.startsWith(known.sensors) &&
        levels.length === 3 &&
        identity.sensorIds.has(levels[1] ?? '') &&
        (levels[2] === 'state' || levels[2] === 'availability')
      );
    }
    case 'bridge':
      return within(topic, identity.prefix);
    case 'simulator': {
      // The simulator plays a whole ward: every sensor's state and availability, and the clock.
      const levels = topic.slice(sitePrefix.length).split('/');
      return clock || (topic.startsWith(known.sensors) && levels.length === 3 && (levels[2] === 'state' || levels[2] === 'availability'));
    }
    case 'consumer':
      return false;
    default: {
      const exhaustive: never = identity;
      throw new Error(`unknown identity ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * Which topic filters a connection may subscribe to. A filter is allowed only when everything
 * it can match is allowed, so wildcards cannot widen it: `+` or `#` before the end of the
 * allowed prefix makes the filter differ from the prefix and it is refused.
 */
export function maySubscribe(identity: MqttIdentity, filter: string, site: { siteId: string; demoFilters: readonly string[] }): boolean {
  if (filter.startsWith('$')) return false; // MQTT 3.1.1 §4.7.2
  const { siteId } = site;
  const alarms = topics.alarms(siteId);
  switch (identity.role) {
    case 'anonymous':
    case 'legacy':
      // On-site consumers may read the site's topics, never other sites' or the broker's; a
      // demo bridge may read below its base topic (`zigbee2mqtt/#`).
      return (
        filter.startsWith(`${TOPIC_ROOT}/${siteId}/`) ||
        site.demoFilters.some((demo) => demo.endsWith('/#') && !/[+#]/.test(demo.slice(0, -2)) && within(filter, demo.slice(0, -2)))
      );
    case 'sensor':
      // Its own command topics: nattevakt/v1/{site}/sensors/{id}/#.
      return [...identity.sensorIds].some((id) => within(filter, `${TOPIC_ROOT}/${siteId}/sensors/${id}`));
    case 'bridge':
      return within(filter, identity.prefix);
    case 'consumer':
    case 'simulator':
      return within(filter, alarms);
    default: {
      const exhaustive: never = identity;
      throw new Error(`unknown identity ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * The broker's access rules as aedes hooks. Passwords are checked with argon2id at CONNECT, and
 * the identity found is kept per connection for the publish and subscribe checks.
 */
export function brokerAuth(
  options: BrokerAuthOptions,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> & { identityOf: IdentityOf } {
  const identities = new WeakMap<Client, MqttIdentity>();
  const site = { siteId: options.siteId, acceptClock: options.acceptClock, demoFilters: options.demoFilters };
  const anonymous: MqttIdentity = { role: 'anonymous' };
  return {
    identityOf: (client) => identities.get(client),
    authenticate(client, username, password, done) {
      if (options.credentials.anonymous) {
        identities.set(client, anonymous);
        return done(null, true);
      }
      if (username === undefined || password === undefined) {
        options.onRefused('no-credentials', { clientId: client.id, username });
        return done(refuse(NOT_AUTHORIZED, 'not authorized: this broker requires a user name and password'), false);
      }
      options.credentials.check(username, password).then(
        (identity) => {
          if (identity === null) {
            options.onRefused('bad-credentials', { clientId: client.id, username });
            return done(refuse(BAD_USERNAME_OR_PASSWORD, 'bad user name or password'), false);
          }
          identities.set(client, identity);
          return done(null, true);
        },
        (error: unknown) => {
          options.onRefused('auth-overload', { clientId: client.id, username });
          const message = error instanceof CredentialCheckOverload ? error.message : `credential check failed: ${String(error)}`;
          return done(refuse(SERVER_UNAVAILABLE, message), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // aedes calls this with no client only for the will of a connection it no longer knows
      // (another broker instance's): we cannot say whose it is, so it is not published.
      const identity = client === null ? undefined : identities.get(client);
      if (client === null || identity === undefined || !mayPublish(identity, packet.topic, site)) {
        options.onRefused('publish-denied', {
          clientId: client?.id ?? '(none)',
          username: identity !== undefined && 'username' in identity ? identity.username : undefined,
          topic: packet.topic,
        });
        // An error closes the connection without an answer, as MQTT 3.1.1 prescribes [MQTT-3.3.5-2].
        return done(new Error(`publishing to ${packet.topic} is not allowed`));
      }
      return done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity !== undefined && maySubscribe(identity, subscription.topic, site)) return done(null, subscription);
      options.onRefused('subscribe-denied', {
        clientId: client.id,
        username: identity !== undefined && 'username' in identity ? identity.username : undefined,
        topic: subscription.topic,
      });
      return done(null, null); // SUBACK return code 0x80, Failure, for this filter (MQTT 3.1.1 §3.9.3)
    },
  };
}
