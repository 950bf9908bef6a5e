import { readFileSync } from 'node:fs';
import { Id } from '@nattevakt/protocol/ids';
import { validator } from '@nattevakt/protocol/validation';
import { type Static, Type } from '@sinclair/typebox';

/** The current version of the gateway configuration file; older files are migrated on load. */
export const GATEWAY_CONFIG_VERSION = 1;

// ── zigbee2mqtt ───────────────────────────────────────────────────────────────────────────────
// Zigbee2MQTT devices mapped onto the site's sensors (gateway/README.md, "Zigbee2MQTT").

/** A topic level path without MQTT wildcards, empty levels or control characters (MQTT 3.1.1 §4.7.1). */
const topicPath = '^[^#+/\\u0000-\\u001f]+(/[^#+/\\u0000-\\u001f]+)*$';

/** Which boolean field of a bed device's state carries "someone is in the bed". */
export const Zigbee2mqttBedField = Type.Union([Type.Literal('occupancy'), Type.Literal('presence'), Type.Literal('pressure')], {
  description:
    'occupancy: Tuya TS0601_bed_presence_sensor strap; presence: mmWave presence sensors; pressure: Tuya C3007 pressure pad. ' +
    'Left out: whichever of the three the device sends.',
});
export type Zigbee2mqttBedField = Static<typeof Zigbee2mqttBedField>;

export const Zigbee2mqttDevice = Type.Object(
  {
    friendlyName: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: topicPath,
      description: "the device's friendly_name in Zigbee2MQTT, exactly as on its topic; may contain '/'",
    }),
    sensorId: Id,
    bedField: Type.Optional(Zigbee2mqttBedField),
  },
  { additionalProperties: false },
);
export type Zigbee2mqttDevice = Static<typeof Zigbee2mqttDevice>;

export const Zigbee2mqttConfig = Type.Object(
  {
    baseTopic: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: topicPath,
      default: 'zigbee2mqtt',
      description: "Zigbee2MQTT's mqtt.base_topic",
    }),
    devices: Type.Array(Zigbee2mqttDevice, {
      default: [],
      maxItems: 2000,
      description: 'the devices the gateway decodes; empty: the gateway does not subscribe to Zigbee2MQTT at all',
    }),
  },
  { additionalProperties: false, description: 'Zigbee2MQTT devices publishing to this gateway' },
);
export type Zigbee2mqttConfig = Static<typeof Zigbee2mqttConfig>;

/** Fills the section's defaults; anything that is not an object is left for the schema to name. */
function withZigbee2mqttDefaults(section: unknown): unknown {
  if (section === undefined) return { baseTopic: 'zigbee2mqtt', devices: [] };
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return section;
  return { baseTopic: 'zigbee2mqtt', devices: [], ...section };
}

/** Zigbee2MQTT's own topics below the base topic, which no device name may shadow. */
const reservedFirstLevel = new Set(['bridge']);
const reservedLastLevel = new Set(['set', 'get', 'availability']);

/** What a schema cannot say about the section: names that collide, twice-mapped devices or sensors. */
export function zigbee2mqttConfigErrors(section: Zigbee2mqttConfig): string[] {
  const errors: string[] = [];
  const firstLevel = section.baseTopic.split('/')[0] ?? '';
  if (firstLevel === 'nattevakt' || firstLevel.startsWith('$')) {
    errors.push(`/zigbee2mqtt/baseTopic: "${section.baseTopic}" collides with the native nattevakt/ or the broker's $ topics`);
  }
  const names = new Map<string, number>();
  const sensors = new Map<string, number>();
  section.devices.forEach((device, i) => {
    const at = `/zigbee2mqtt/devices/${i}`;
    const name = device.friendlyName.normalize('NFC');
    const levels = name.split('/');
    if (reservedFirstLevel.has(levels[0] ?? '') || reservedLastLevel.has(levels.at(-1) ?? '')) {
      errors.push(
        `${at}/friendlyName: "${device.friendlyName}" would collide with Zigbee2MQTT's bridge, /set, /get or /availability topics`,
      );
    }
    const sameName = names.get(name);
    if (sameName !== undefined) errors.push(`${at}/friendlyName: "${device.friendlyName}" is already mapped by device ${sameName}`);
    else names.set(name, i);
    const sameSensor = sensors.get(device.sensorId);
    if (sameSensor !== undefined) errors.push(`${at}/sensorId: sensor "${device.sensorId}" is already mapped by device ${sameSensor}`);
    else sensors.set(device.sensorId, i);
  });
  return errors;
}
// ── end zigbee2mqtt ───────────────────────────────────────────────────────────────────────────

// ── mqtt ──────────────────────────────────────────────────────────────────────────────────────
// The embedded broker or the external one (gateway/README.md, "Broker and security").

/** The broker's limits when the configuration names none. */
export const MQTT_LIMIT_DEFAULTS = {
  // Zigbee2MQTT's retained bridge/devices list is about 1 KB per device; native payloads are held to 1 KiB by their adapter.
  maxPacketBytes: 262_144,
  maxTopicLevels: 16,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 10_000,
  messagesPerSecond: 20,
  burst: 100,
  floodDisconnectAfter: 200,
} as const;

export const MqttRateLimit = Type.Object(
  {
    messagesPerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'sustained messages per second' }),
    burst: Type.Integer({ minimum: 1, maximum: 100_000, description: 'messages accepted at once before the sustained rate applies' }),
  },
  { additionalProperties: false },
);
export type MqttRateLimit = Static<typeof MqttRateLimit>;

export const MqttLimits = Type.Object(
  {
    maxPacketBytes: Type.Integer({
      minimum: 1024,
      maximum: 268_435_460,
      description: 'largest MQTT packet accepted, header included; a larger one closes the connection',
    }),
    maxTopicLevels: Type.Integer({ minimum: 6, maximum: 100, description: 'deepest topic accepted (native topics have 6 levels)' }),
    connectTimeoutMs: Type.Integer({ minimum: 1000, maximum: 300_000, description: 'time to complete TLS and send CONNECT' }),
    drainTimeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 300_000,
      description: 'a subscriber that reads nothing for this long is dropped',
    }),
    messagesPerSecond: MqttRateLimit.properties.messagesPerSecond,
    burst: MqttRateLimit.properties.burst,
    floodDisconnectAfter: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: 'a client with this many messages dropped over its rate within 10 s is disconnected',
    }),
  },
  { additionalProperties: false },
);
export type MqttLimits = Static<typeof MqttLimits>;

/** A topic path without wildcards, empty levels or control characters (MQTT 3.1.1 §4.7.1). */
const mqttTopicPath = '^[^#+/\\u0000-\\u001f]+(/[^#+/\\u0000-\\u001f]+)*$';

const deviceCredentials = {
  username: Type.String({ minLength: 1, maxLength: 256, description: 'MQTT user name of this device' }),
  passwordHash: Type.String({
    pattern: '^\\$argon2id\\$v=19\\$m=\\d+,t=\\d+,p=\\d+\\$[A-Za-z0-9+/]+\\$[A-Za-z0-9+/]+$',
    maxLength: 512,
    description: 'argon2id hash of its password, printed by `node gateway/dist/src/main.js hash-password`',
  }),
  rateLimit: Type.Optional(MqttRateLimit),
};

/** One device allowed on the embedded broker; its role decides what it may publish and read. */
export const MqttDevice = Type.Union([
  Type.Object(
    {
      role: Type.Literal('sensor', { description: 'publishes nattevakt/v1/{site}/sensors/{id}/state|availability for its sensorIds' }),
      ...deviceCredentials,
      sensorIds: Type.Array(Id, { minItems: 1, maxItems: 64, uniqueItems: true }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      role: Type.Literal('bridge', { description: 'publishes and reads under {prefix}/, e.g. Zigbee2MQTT' }),
      ...deviceCredentials,
      prefix: Type.String({ minLength: 1, maxLength: 128, pattern: mqttTopicPath, description: "e.g. 'zigbee2mqtt'" }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { role: Type.Literal('consumer', { description: 'reads nattevakt/v1/{site}/alarms' }), ...deviceCredentials },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      role: Type.Literal('simulator', { description: 'plays every sensor and, with clock "simulated", the clock' }),
      ...deviceCredentials,
    },
    { additionalProperties: false },
  ),
]);
export type MqttDevice = Static<typeof MqttDevice>;

export const MqttConfig = Type.Object(
  {
    mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')], {
      description: 'embedded: the gateway is the broker; external: it is a client of the site broker (mqtt.external)',
    }),
    host: Type.String({ description: 'address the embedded broker listens on' }),
    port: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
      description: 'plain TCP port of the embedded broker (0 = any free port; null = TLS only)',
    }),
    tls: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ description: 'defaults to mqtt.host' })),
          port: Type.Integer({ minimum: 0, maximum: 65535, description: 'MQTT over TLS port, usually 8883' }),
          certFile: Type.String({ minLength: 1, description: 'PEM certificate (chain)' }),
          keyFile: Type.String({ minLength: 1, description: 'PEM private key' }),
        },
        { additionalProperties: false, description: 'MQTT over TLS listener of the embedded broker' },
      ),
    ),
    devices: Type.Array(MqttDevice, {
      maxItems: 5000,
      description: 'who may connect and with which role; empty (and no users) allows anonymous clients (demo only)',
    }),
    users: Type.Array(Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 8 }) }), {
      description: 'DEPRECATED plain-text passwords with the demo rules (any sensor topic of the site): use devices',
    }),
    limits: MqttLimits,
    external: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^(mqtts?|wss?|tcp|ssl)://', description: 'the site broker, e.g. mqtt://127.0.0.1:1883' }),
          username: Type.Optional(Type.String({ minLength: 1 })),
          password: Type.Optional(Type.String()),
          clientId: Type.Optional(
            Type.String({ minLength: 1, maxLength: 128, description: 'stable client id; default nattevakt-gateway-{siteId}' }),
          ),
          caFile: Type.Optional(Type.String({ minLength: 1, description: 'CA certificate of an mqtts:// broker' })),
        },
        { additionalProperties: false, description: 'the site broker in external mode' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MqttConfig = Static<typeof MqttConfig>;

/** Fills the section's defaults; anything that is not an object is left for the schema to name. */
function withMqttDefaults(section: unknown): unknown {
  const raw = section === undefined ? {} : section;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const limits = (raw as { limits?: unknown }).limits;
  return {
    mode: 'embedded',
    host: '127.0.0.1',
    port: 1883,
    devices: [],
    users: [],
    ...raw,
    limits:
      limits === undefined
        ? { ...MQTT_LIMIT_DEFAULTS }
        : typeof limits === 'object' && limits !== null
          ? { ...MQTT_LIMIT_DEFAULTS, ...limits }
          : limits,
  };
}

/** What a schema cannot say about the section: missing listeners, names used twice, prefixes that reach our topics. */
export function mqttConfigErrors(section: MqttConfig): string[] {
  const errors: string[] = [];
  if (section.mode === 'external' && section.external === undefined) {
    errors.push('/mqtt/external: required when mqtt.mode is "external", e.g. { "url": "mqtt://127.0.0.1:1883" }');
  }
  if (section.mode === 'embedded' && section.port === null && section.tls === undefined) {
    errors.push('/mqtt/port: null disables plain MQTT, so mqtt.tls must be set, or no sensor could connect');
  }
  const names = new Map<string, string>();
  const claim = (username: string, at: string) => {
    const first = names.get(username);
    if (first !== undefined) errors.push(`${at}/username: "${username}" is already used by ${first}`);
    else names.set(username, at);
  };
  section.devices.forEach((device, i) => {
    const at = `/mqtt/devices/${i}`;
    claim(device.username, at);
    if (device.role === 'bridge') {
      const first = device.prefix.split('/')[0] ?? '';
      if (first === 'nattevakt' || first.startsWith('$')) {
        errors.push(
          `${at}/prefix: "${device.prefix}" would reach the native nattevakt/ or the broker's $ topics; use the bridge's own base topic`,
        );
      }
    }
  });
  section.users.forEach((user, i) => {
    claim(user.username, `/mqtt/users/${i}`);
  });
  return errors;
}
// ── end mqtt ──────────────────────────────────────────────────────────────────────────────────

/** Report by exception: an unchanged sensor report goes to the server at most this often (docs/adr/0005). */
export const DEFAULT_UNCHANGED_REPORT_SECONDS = 60;

export const GatewayConfig = Type.Object(
  {
    version: Type.Literal(GATEWAY_CONFIG_VERSION),
    siteId: Id,
    mqtt: MqttConfig,
    server: Type.Union(
      [
        Type.Object(
          { url: Type.String({ pattern: '^https?://' }), token: Type.String({ minLength: 16 }) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { default: null, description: 'the Nattevakt server this gateway streams to; null runs the site alone' },
    ),
    stateDir: Type.String({ default: 'data/gateway', description: 'outbox and last known site configuration' }),
    clock: Type.Union([Type.Literal('system'), Type.Literal('simulated')], {
      default: 'system',
      description: 'simulated: the site clock follows the simulator on nattevakt/v1/{siteId}/clock (demo and tests)',
    }),
    http: Type.Object(
      { host: Type.String({ default: '127.0.0.1' }), port: Type.Integer({ minimum: 0, maximum: 65535, default: 9101 }) },
      { additionalProperties: false, description: 'health and Prometheus metrics' },
    ),
    siteConfigFile: Type.Optional(Type.String({ description: 'site configuration to boot with before the server pushes one' })),
    unchangedReportSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600,
        default: DEFAULT_UNCHANGED_REPORT_SECONDS,
        description:
          'report by exception (docs/adr/0005): a sensor report that changes nothing the server keeps (state, online, tamper, battery) is sent to the server at most once per this many seconds per sensor; every change goes at once, and the rules see every report; 0 sends every report',
      }),
    ),
    zigbee2mqtt: Zigbee2mqttConfig,
    localFeed: Type.Optional(
      Type.Object(
        {
          token: Type.String({ minLength: 16, description: 'tablets present it to read the feed' }),
          publicUrl: Type.Optional(
            Type.String({
              pattern: '^https?://[^\\s]+$',
              maxLength: 300,
              description:
                'the feed as tablets on the ward reach it (e.g. http://10.0.4.2:9101); announced to the server, which hands it and the token to the site’s tablets as their fallback',
            }),
          ),
          allowedOrigins: Type.Array(Type.String(), {
            default: [],
            description: 'web origins allowed to connect (the server that serves the web app)',
          }),
        },
        {
          additionalProperties: false,
          description:
            'read-only Socket.IO feed of open alarms on the health port (namespace /local), for tablets that cannot reach the server',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfig>;

const gatewayConfig = validator(GatewayConfig);

/** Thrown with a message that names the setting and what would be right. */
export class ConfigError extends Error {}

/**
 * Migrates a configuration object from an older file version to the current one. Edge devices
 * keep their files across upgrades, so every version ever shipped must keep loading.
 */
export function migrateGatewayConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const version = raw.version ?? 0;
  if (version === 0) {
    // Unversioned drafts named the broker port `mqttPort`.
    const { mqttPort, ...rest } = raw as { mqttPort?: number };
    return { ...rest, version: 1, mqtt: { ...(rest as { mqtt?: object }).mqtt, ...(mqttPort !== undefined ? { port: mqttPort } : {}) } };
  }
  return raw;
}

/** Fills defaults and validates; throws ConfigError listing each wrong setting. */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError('gateway configuration must be a JSON object');
  const migrated = migrateGatewayConfig(input as Record<string, unknown>);
  const withDefaults = {
    server: null,
    stateDir: 'data/gateway',
    clock: 'system',
    unchangedReportSeconds: DEFAULT_UNCHANGED_REPORT_SECONDS,
    ...migrated,
    mqtt: withMqttDefaults(migrated.mqtt),
    http: { host: '127.0.0.1', port: 9101, ...(migrated.http as object | undefined) },
    zigbee2mqtt: withZigbee2mqttDefaults(migrated.zigbee2mqtt),
  };
  const checked = gatewayConfig.check(withDefaults);
  if (!checked.ok) throw new ConfigError(`invalid gateway configuration:\n  ${checked.errors.join('\n  ')}`);
  const mqttErrors = mqttConfigErrors(checked.value.mqtt);
  if (mqttErrors.length > 0) throw new ConfigError(`invalid gateway configuration:\n  ${mqttErrors.join('\n  ')}`);
  const zigbee2mqttErrors = zigbee2mqttConfigErrors(checked.value.zigbee2mqtt);
  if (zigbee2mqttErrors.length > 0) throw new ConfigError(`invalid gateway configuration:\n  ${zigbee2mqttErrors.join('\n  ')}`);
  return checked.value;
}

export function loadGatewayConfigFile(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read gateway configuration ${path}: ${(error as Error).message}`);
  }
  try {
    return parseGatewayConfig(JSON.parse(text));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`);
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}
