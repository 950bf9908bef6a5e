import type { AddressInfo, Socket as NetSocket } from 'node:net';
import type { Alarm } from '@nattevakt/protocol/alarm';
import { io, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { loginAs } from './support/login.js';

/** How many times Node handed the TCP socket's data to the kernel (one `write` or `writev` each). */
function countWrites(tcp: NetSocket): { readonly count: number } {
  const counter = { count: 0 };
  const stream = tcp as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = stream._write.bind(tcp);
  const writev = stream._writev.bind(tcp);
  stream._write = (...args) => {
    counter.count++;
    write(...args);
  };
  stream._writev = (...args) => {
    counter.count++;
    writev(...args);
  };
  return counter;
}

describe('WebSocket writes coalesced per run of code', () => {
  let server: NattevaktServer;
  let url: string;
  const sockets: Socket[] = [];
  beforeEach(async () => {
    server = await buildApp({ dataDir: ':memory:', databaseUrl: ':memory:' });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server.app.close();
  });

  it('a burst of 50 alarms to a tablet leaves in at most two writes, and all 50 arrive in order', async () => {
    const cookie = await loginAs(server, { username: 'nurse-burst' });
    const staff: Socket = io(`${url}/staff`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
    sockets.push(staff);
    const received: string[] = [];
    staff.on('alarm', (alarm: Alarm) => received.push(alarm.id));
    await new Promise<void>((resolve, reject) => {
      staff.once('connect', () => resolve());
      staff.once('connect_error', reject);
    });
    // Let the connection's own first packets (handshake, snapshot) go out first.
    await new Promise((r) => setTimeout(r, 200));
    const engine = server.io.engine as unknown as { clients: Record<string, { transport: { socket: { _socket: NetSocket } } }> };
    const [engineSocket] = Object.values(engine.clients);
    expect(engineSocket).toBeDefined();
    const writes = countWrites(engineSocket?.transport.socket._socket as NetSocket);
    const ids = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
    const nsp = server.io.of('/staff');
    for (const id of ids) nsp.local.emit('alarm', { id, siteId: 'demo', seq: 1, status: 'active' });
    for (let waited = 0; received.length < ids.length && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual(ids);
    // engine.io writes the first frame at once and the rest when that write is done: two writes
    // (one each, 50, without coalescing).
    expect(writes.count).toBeGreaterThanOrEqual(1);
    expect(writes.count).toBeLessThanOrEqual(2);
  });
});
