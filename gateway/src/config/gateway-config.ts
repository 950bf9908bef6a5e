import { readFileSync } from 'node:fs';
import { Id } from '@nattevakt/protocol/ids';
import { validator } from '@nattevakt/protocol/validation';
import { type Static, Type } from '@sinclair/typebox';

/** The current version of the gateway configuration file; older files are migrated on load. */
export const GATEWAY_CONFIG_VERSION = 1;

export const GatewayConfig = Type.Object(
  {
    version: Type.Literal(GATEWAY_CONFIG_VERSION),
    siteId: Id,
    mqtt: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'address the embedded broker listens on' }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 1883,
          description: 'TCP port of the embedded MQTT broker (0 = any free port)',
        }),
        users: Type.Array(Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 8 }) }), {
          default: [],
          description: 'sensor credentials; empty allows anonymous sensors (demo only)',
        }),
      },
      { additionalProperties: false },
    ),
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
    localFeed: Type.Optional(
      Type.Object(
        {
          token: Type.String({ minLength: 16, description: 'tablets present it to read the feed' }),
          allowedOrigins: Type.Array(Type.String(), { default: [], description: 'web origins allowed to connect (the server that serves the web app)' }),
        },
        {
          additionalProperties: false,
          description: 'read-only Socket.IO feed of open alarms on the health port (namespace /local), for tablets that cannot reach the server',
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
    ...migrated,
    mqtt: { host: '127.0.0.1', port: 1883, users: [], ...(migrated.mqtt as object | undefined) },
    http: { host: '127.0.0.1', port: 9101, ...(migrated.http as object | undefined) },
  };
  const checked = gatewayConfig.check(withDefaults);
  if (!checked.ok) throw new ConfigError(`invalid gateway configuration:\n  ${checked.errors.join('\n  ')}`);
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
