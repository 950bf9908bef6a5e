/** Shared set-up for the alarm suites: a real server on port 0, real Socket.IO clients, a clock moved by hand. */
import type { AddressInfo } from 'node:net';
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type {
  BatchAck,
  GatewayClientToServer,
  GatewayServerToClient,
  StaffClientToServer,
  StaffServerToClient,
} from '@nattevakt/protocol/socket-events';
import { io, type Socket } from 'socket.io-client';
import type { Clock } from '../src/alarms/escalation.js';
import { type AppOptions, buildApp, type NattevaktServer } from '../src/app.js';
import { sqlite, type TestEngine } from './support/databases.js';
import { loginAs } from './support/login.js';

export const TOKEN = 'gateway-token-for-alarm-tests-01';
export const T0 = Date.parse('2026-11-25T02:00:00.000Z');

export const site: SiteConfig = {
  version: 1,
  site: { id: 'demo', name: 'Demo', timezone: 'Europe/Oslo' },
  rooms: [{ id: 'room-1', name: 'Rom 1' }],
  residents: [
    {
      id: 'res-1',
      name: 'Astrid H.',
      roomId: 'room-1',
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
        },
      },
    },
  ],
  sensors: [
    { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
    { id: 'door-1', kind: 'door', roomId: 'room-1' },
  ],
};

/** A server clock that only moves when a test says so. */
export class ManualClock implements Clock {
  constructor(private ms = T0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function decision(id: string, overrides: Partial<AlarmDecision> = {}): AlarmDecision {
  return {
    id,
    siteId: 'demo',
    residentId: 'res-1',
    roomId: 'room-1',
    sensorId: 'door-1',
    rule: 'door-open-at-night',
    priority: 'high',
    raisedAt: '2026-11-25T01:59:59.000Z',
    decidedAt: '2026-11-25T01:59:59.900Z',
    evidence: { eventIds: [`${id}-e1`], since: '2026-11-25T01:59:59.000Z' },
    ...overrides,
  };
}

export type StaffSocket = Socket<StaffServerToClient, StaffClientToServer>;
export type GatewaySocket = Socket<GatewayServerToClient, GatewayClientToServer>;

/** Resolves with the first value `probe` gives that is neither undefined nor false; fails after `ms`. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything one test started, torn down in reverse order by `close()`. */
export class Harness {
  readonly #cleanups: (() => unknown)[] = [];
  readonly #servers = new Map<string, NattevaktServer>();

  /** Servers run on `engine`'s databases, dropped again by `close()`. */
  constructor(readonly engine: TestEngine = sqlite) {}

  /**
   * A real server on 127.0.0.1:0 with the demo site and gateway token: on a fresh database, or
   * on the one shared by every server of this test given the same `dataDir`.
   */
  async server(options: Partial<AppOptions> = {}): Promise<{ server: NattevaktServer; url: string; close: () => Promise<void> }> {
    const server = await buildApp({ ...options, ...(await this.engine.store(options.dataDir)) });
    if (server.sites.get('demo') === undefined) {
      await server.sites.save(site);
      // Armed as the fixture says: arming needs a recorded legal basis.
      await server.supervision.seedConsent('demo', ['res-1'], { id: 'system', name: 'test' });
      await server.sites.setGatewayToken('demo', TOKEN);
    }
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await server.app.close();
    };
    this.#cleanups.push(close);
    this.#servers.set(`http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`, server);
    return { server, url: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`, close };
  }

  /** A nurse's tablet, logged in as the nurse `name` of site demo: every `alarm` broadcast it receives, in order. */
  async staff(url: string, name = 'Kari'): Promise<{ socket: StaffSocket; alarms: Alarm[] }> {
    const server = this.#servers.get(url);
    if (server === undefined) throw new Error(`no server of this harness at ${url}`);
    const cookie = await loginAs(server, { username: name.toLowerCase(), displayName: name });
    const socket: StaffSocket = io(`${url}/staff`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie },
    });
    this.#cleanups.push(() => socket.disconnect());
    const alarms: Alarm[] = [];
    socket.on('alarm', (alarm) => alarms.push(alarm));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, alarms };
  }

  /** The site's gateway, sending alarm decisions through the real ingestion path. */
  async gateway(url: string): Promise<{ socket: GatewaySocket; raise: (d: AlarmDecision) => Promise<BatchAck> }> {
    const socket: GatewaySocket = io(`${url}/gateway`, {
      auth: { token: TOKEN },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.#cleanups.push(() => socket.disconnect());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, raise: (d) => socket.emitWithAck('batch', [{ type: 'alarm', alarm: d }]) };
  }

  onClose(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
    await this.engine.reset();
  }
}
