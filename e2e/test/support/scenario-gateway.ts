import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@nattevakt/gateway/broker/credentials';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { Gateway } from '@nattevakt/gateway/gateway';
import type { CompiledScenario } from '@nattevakt/simulator/scenario/load-scenario';
import { pino } from 'pino';

export const SIMULATOR_USER = { username: 'simulator', password: 'simulator password for tests' };
export const BRIDGE_USER = { username: 'zigbee2mqtt', password: 'bridge password for tests' };

let hashes: Promise<[string, string]> | undefined;

/**
 * A real gateway on port 0 for one scenario: its site, its Zigbee2MQTT devices, a simulated clock
 * (unset until the scenario's first clock message), and a secured broker with a simulator and a
 * bridge device, as a technician would set one up for `verify`.
 */
export async function startScenarioGateway(scenario: CompiledScenario): Promise<{ gateway: Gateway; url: string; stop(): Promise<void> }> {
  hashes ??= Promise.all([hashPassword(SIMULATOR_USER.password), hashPassword(BRIDGE_USER.password)]);
  const [simulatorHash, bridgeHash] = await hashes;
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-scenario-'));
  const gateway = new Gateway({
    config: parseGatewayConfig({
      version: 1,
      siteId: scenario.site.site.id,
      mqtt: {
        host: '127.0.0.1',
        port: 0,
        devices: [
          { role: 'simulator', username: SIMULATOR_USER.username, passwordHash: simulatorHash },
          { role: 'bridge', username: BRIDGE_USER.username, passwordHash: bridgeHash, prefix: scenario.zigbee2mqtt.baseTopic },
        ],
      },
      http: { host: '127.0.0.1', port: 0 },
      stateDir: join(dir, 'gateway'),
      clock: 'simulated',
      zigbee2mqtt: scenario.zigbee2mqtt,
    }),
    siteConfig: scenario.site,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
  });
  await gateway.start();
  return {
    gateway,
    url: `mqtt://127.0.0.1:${gateway.mqttPort}`,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
