#!/usr/bin/env node
/**
 * Fan-out: a gateway's batch with one alarm → the server → 500 logged-in `/staff` sockets, and in
 * the same run the floor: a bare Socket.IO server relaying the same alarm to 500 sockets, with
 * the same process layout (server in its own process; the sender and all 500 clients in this one).
 * Each round one nurse then resolves the alarm and every nurse gets that too; by default every
 * nurse sends a delivery receipt for each version, as the web app does. The floor sees the same
 * traffic (relay, resolve, receipts acknowledged) without the application's work.
 *
 *   npm run build && node bench/dist/src/fanout.js            # --help for options
 *
 * Prints progress on stderr and the result as JSON on stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import type {
  GatewayClientToServer,
  GatewayServerToClient,
  StaffClientToServer,
  StaffServerToClient,
} from '@nattevakt/protocol/socket-events';
import { demoWard } from '@nattevakt/simulator/demo-ward';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { summarizeProfile } from './cpu-profile.js';
import { cpuSeconds, freePort, machine, memoryMb, percentile, serverArgs, startNode, stop, waitHealthy } from './processes.js';

const usage = `Usage: node bench/dist/src/fanout.js [options]

Alarm fan-out from a gateway's batch to every logged-in /staff socket, against a bare Socket.IO
broadcast to the same number of sockets (the floor). The two run in alternating blocks, so load
from anything else on the machine falls on both alike.

  --clients N      sockets listening on each server (default 500)
  --rounds N       measured alarms per server, one at a time (default 200)
  --blocks N       alternating blocks the rounds are split into (default 4)
  --warmup N       unmeasured rounds per server first (default 20)
  --gap-ms MS      pause after each round (default 20)
  --no-receipts    the nurses do not answer; by default each sends a delivery receipt for every
                   alarm version it gets, as the web app does (to the bare server too, which only acks)
  --profile DIR    run both servers with node --cpu-prof into DIR and print where their CPU went
  --server-node-args "…"  V8/Node flags for the Nattevakt server only (e.g. the image's NODE_OPTIONS);
                   the floor always runs with Node's defaults
  --help           this text
`;

const { values } = parseArgs({
  allowNegative: true,
  options: {
    clients: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '200' },
    blocks: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
    'gap-ms': { type: 'string', default: '20' },
    receipts: { type: 'boolean', default: true },
    'server-node-args': { type: 'string', default: '' },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
    'floor-server': { type: 'boolean', default: false },
  },
});

const SITE = 'bench';
const ROOMS = 24;
const ROUND_TIMEOUT_MS = 15_000;

const log = (line: string) => process.stderr.write(`[fanout] ${line}\n`);
const wholeNumber = (name: string, text: string | undefined, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number ≥ ${min}, got ${text}\n\n${usage}`);
    process.exit(2);
  }
  return n;
};

// ── The floor: a bare Socket.IO server, run as its own process by `main` ─────────────────────────

/**
 * `/staff` sockets join the site's room; a `batch` on `/gateway` (one alarm) is broadcast to it as
 * `alarm` and acknowledged; a nurse's `resolve` broadcasts that alarm again as resolved.
 */
async function floorServer(): Promise<void> {
  const http = createServer();
  const server = new Server(http, { serveClient: false });
  const staff = server.of('/staff');
  const alarms = new Map<string, object>();
  staff.on('connection', (socket) => {
    socket.on('resolve', (command: { alarmId?: unknown }, ack: unknown) => {
      const alarm = alarms.get(String(command?.alarmId));
      alarms.delete(String(command?.alarmId));
      if (alarm) staff.local.to(`site:${SITE}`).emit('alarm', { ...alarm, status: 'resolved' });
      if (typeof ack === 'function') ack(alarm ? { ok: true } : { ok: false, error: 'not-found' });
    });
    void socket.join(`site:${SITE}`);
    // The same receipts the nurses send the real server, answered without any work.
    socket.on('delivered', (_receipt: unknown, ack: unknown) => {
      if (typeof ack === 'function') ack({ ok: true });
    });
  });
  server.of('/gateway').on('connection', (socket) => {
    socket.on('batch', (alarm: { id: string }, ack: unknown) => {
      alarms.set(alarm.id, alarm);
      staff.local.to(`site:${SITE}`).emit('alarm', alarm);
      if (typeof ack === 'function') ack({ ok: true, accepted: 1, rejected: [] });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  process.stdout.write(`${JSON.stringify({ port: (http.address() as AddressInfo).port })}\n`);
  process.once('SIGTERM', () => {
    // Exits (rather than dying of the signal) so that --cpu-prof writes its profile.
    void server.close().finally(() => process.exit(0));
  });
}

// ── Processes ───────────────────────────────────────────────────────────────────────────────────

/** The built server with the site and its demo users, logged in as the demo nurse (like `startServerAsNurse`, with node flags). */
async function startServer(options: {
  dir: string;
  wardFile: string;
  token: string;
  nodeArgs: string[];
}): Promise<{ child: ChildProcess; url: string; cookie: string }> {
  const port = await freePort();
  const child = startNode(
    [...serverArgs({ port, dataDir: join(options.dir, 'server'), wardFile: options.wardFile, token: options.token }), '--seed-demo-users'],
    {
      nodeArgs: options.nodeArgs,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let seen = '';
  const password = new Promise<string>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-16_384);
      const match = /\[demo-login\]\s+sykepleier\s+(\S+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/api/health`, child);
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username: 'sykepleier', password: await password }),
  });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('nattevakt_session='))
    ?.split(';', 1)[0];
  if (!login.ok || cookie === undefined) throw new Error(`cannot log in as the demo nurse: HTTP ${login.status}`);
  return { child, url, cookie };
}

async function startFloor(nodeArgs: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), '--floor-server'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`floor server exited (code ${code}) before listening`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

// ── Listeners ───────────────────────────────────────────────────────────────────────────────────

type Staff = Socket<StaffServerToClient, StaffClientToServer>;

/** N sockets on one server; resolves when every one of them has a given version of an alarm. */
class Audience {
  readonly sockets: Staff[] = [];
  #want: { id: string; status: Alarm['status']; at: Float64Array; count: number; done: () => void } | null = null;
  /** A real alarm as the server sends it (the floor broadcasts copies of it). */
  sample: Alarm | null = null;

  constructor(
    private readonly name: string,
    private readonly receipts: boolean,
  ) {}

  async connect(url: string, count: number, cookie?: string): Promise<void> {
    for (let first = 0; first < count; first += 50) {
      const chunk: Promise<void>[] = [];
      for (let i = first; i < Math.min(count, first + 50); i++) {
        // forceNew: a connection of its own per socket, as 500 tablets have (not one multiplexed manager).
        const socket: Staff = io(`${url}/staff`, {
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          ...(cookie ? { extraHeaders: { cookie } } : {}),
        });
        socket.on('alarm', (alarm) => this.#received(i, alarm));
        this.sockets.push(socket);
        chunk.push(
          new Promise((resolve, reject) => {
            socket.once('connect', () => resolve());
            socket.once('connect_error', (error) => reject(new Error(`${this.name} socket ${i}: ${error.message}`)));
          }),
        );
      }
      await Promise.all(chunk);
    }
    log(`${count} sockets connected to ${this.name}`);
  }

  #received(index: number, alarm: Alarm): void {
    const now = performance.now();
    const want = this.#want;
    if (this.receipts) {
      this.sockets[index]?.emit('delivered', { alarmId: alarm.id, seq: alarm.seq, device: `bench-${index}` }, () => {});
    }
    if (want === null || alarm.id !== want.id || alarm.status !== want.status || want.at[index] !== 0) return;
    if (this.sample === null && alarm.status === 'active') this.sample = alarm;
    want.at[index] = now;
    if (++want.count === this.sockets.length) want.done();
  }

  /** Arrival times (performance.now()) of `id` in `status` at every socket. */
  expect(id: string, status: Alarm['status']): Promise<Float64Array> {
    const at = new Float64Array(this.sockets.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const want = this.#want;
        this.#want = null;
        reject(
          new Error(
            `${this.name}: ${want?.count ?? 0} of ${this.sockets.length} sockets got alarm ${id} (${status}) within ${ROUND_TIMEOUT_MS} ms`,
          ),
        );
      }, ROUND_TIMEOUT_MS);
      this.#want = {
        id,
        status,
        at,
        count: 0,
        done: () => {
          clearTimeout(timer);
          this.#want = null;
          resolve(at);
        },
      };
    });
  }

  close(): void {
    for (const socket of this.sockets) socket.disconnect();
  }
}

// ── Rounds ──────────────────────────────────────────────────────────────────────────────────────

type Gateway = Socket<GatewayServerToClient, GatewayClientToServer>;

async function connectGateway(url: string, token?: string): Promise<Gateway> {
  const socket: Gateway = io(`${url}/gateway`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: token ? { token } : {},
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`gateway socket: ${error.message}`)));
  });
  return socket;
}

interface Samples {
  /** Batch sent → each socket has it, ms. */
  each: number[];
  /** Batch sent → the first socket has it, ms, one per round: the server's work before the broadcast, and one hop. */
  first: number[];
  /** Batch sent → the last socket has it, ms, one per round. */
  last: number[];
}
const samples = (): Samples => ({ each: [], first: [], last: [] });

function record(into: Samples, sentAt: number, at: Float64Array): void {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const t of at) {
    into.each.push(t - sentAt);
    first = Math.min(first, t - sentAt);
    last = Math.max(last, t - sentAt);
  }
  into.first.push(first);
  into.last.push(last);
}

let alarmCounter = 0;

/** One alarm through the server: the gateway's batch, every nurse has it; then the nurse resolves it and every nurse has that. */
async function serverRound(gateway: Gateway, audience: Audience, raised: Samples, resolved: Samples): Promise<void> {
  const n = alarmCounter++;
  const room = (n % ROOMS) + 1;
  const now = new Date().toISOString();
  const decision: AlarmDecision = {
    id: `bench-${process.pid}-${n}`,
    siteId: SITE,
    residentId: `res-${room}`,
    roomId: `room-${room}`,
    sensorId: `door-${room}`,
    rule: 'door-open-at-night',
    priority: 'high',
    raisedAt: now,
    decidedAt: now,
    evidence: { eventIds: [`bench-event-${n}`], since: now },
  };
  const arrived = audience.expect(decision.id, 'active');
  const sentAt = performance.now();
  const ack = await gateway.timeout(ROUND_TIMEOUT_MS).emitWithAck('batch', [{ type: 'alarm', alarm: decision }]);
  if (!ack.ok || ack.accepted !== 1) throw new Error(`the server did not take the batch: ${JSON.stringify(ack)}`);
  record(raised, sentAt, await arrived);

  // Resolve it, so open alarms stay few and nothing escalates; a nurse's command fanned out to her colleagues.
  const nurse = audience.sockets[0];
  if (!nurse) throw new Error('no nurse');
  const done = audience.expect(decision.id, 'resolved');
  const commandAt = performance.now();
  const result = await nurse
    .timeout(ROUND_TIMEOUT_MS)
    .emitWithAck('resolve', { alarmId: decision.id, by: 'bench', outcome: 'false-alarm' });
  if (!result.ok) throw new Error(`resolve refused: ${result.error}`);
  record(resolved, commandAt, await done);
}

/** The same alarm payload relayed by the bare server, then the same resolve: the same traffic, without the application. */
async function floorRound(trigger: Gateway, audience: Audience, sample: Alarm, into: Samples, resolved: Samples): Promise<void> {
  const alarm = { ...sample, id: `floor-${process.pid}-${alarmCounter++}` };
  const arrived = audience.expect(alarm.id, 'active');
  const sentAt = performance.now();
  await (trigger as unknown as Socket).timeout(ROUND_TIMEOUT_MS).emitWithAck('batch', alarm);
  record(into, sentAt, await arrived);

  const nurse = audience.sockets[0];
  if (!nurse) throw new Error('no nurse');
  const done = audience.expect(alarm.id, 'resolved');
  const commandAt = performance.now();
  await nurse.timeout(ROUND_TIMEOUT_MS).emitWithAck('resolve', { alarmId: alarm.id, by: 'bench', outcome: 'false-alarm' });
  record(resolved, commandAt, await done);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(s: Samples) {
  const each = Float64Array.from(s.each).sort();
  const first = Float64Array.from(s.first).sort();
  const last = Float64Array.from(s.last).sort();
  const ms = (v: number) => Math.round(v * 100) / 100;
  const p = (a: Float64Array, q: number) => ms(percentile(a as unknown as number[], q));
  return {
    receipts: each.length,
    p50_ms: p(each, 50),
    p90_ms: p(each, 90),
    p99_ms: p(each, 99),
    max_ms: ms(each[each.length - 1] ?? Number.NaN),
    first_socket_p50_ms: p(first, 50),
    first_socket_p99_ms: p(first, 99),
    last_socket_p50_ms: p(last, 50),
    last_socket_p99_ms: p(last, 99),
  };
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const clients = wholeNumber('clients', values.clients, 1);
  const rounds = wholeNumber('rounds', values.rounds, 1);
  const blocks = wholeNumber('blocks', values.blocks, 1);
  const warmup = wholeNumber('warmup', values.warmup, 1);
  const gapMs = wholeNumber('gap-ms', values['gap-ms'], 0);
  const profileDir = values.profile;
  const profileArgs = (name: string) => {
    if (profileDir === undefined) return [];
    mkdirSync(join(profileDir, name), { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)];
  };

  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-fanout-'));
  const children: ChildProcess[] = [];
  const audiences: Audience[] = [];
  const sockets: Gateway[] = [];
  try {
    const wardFile = join(dir, 'ward.json');
    writeFileSync(wardFile, JSON.stringify(demoWard({ residents: ROOMS, siteId: SITE })));
    const token = randomBytes(24).toString('hex');
    log(
      `machine: ${machine()}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    log('starting the server and the bare Socket.IO server …');
    const serverNodeArgs = values['server-node-args'].split(/\s+/).filter(Boolean);
    const server = await startServer({ dir, wardFile, token, nodeArgs: [...serverNodeArgs, ...profileArgs('server')] });
    children.push(server.child);
    const floor = await startFloor(profileArgs('floor'));
    children.push(floor.child);

    const nurses = new Audience('server', values.receipts);
    const bare = new Audience('floor', values.receipts);
    audiences.push(nurses, bare);
    await nurses.connect(server.url, clients, server.cookie);
    await bare.connect(floor.url, clients);
    const gateway = await connectGateway(server.url, token);
    const trigger = await connectGateway(floor.url);
    sockets.push(gateway, trigger);

    log(`warm-up: ${warmup} alarms through each …`);
    for (let i = 0; i < warmup; i++) await serverRound(gateway, nurses, samples(), samples());
    const sample = nurses.sample;
    if (sample === null) throw new Error('no alarm sample from the server');
    for (let i = 0; i < warmup; i++) await floorRound(trigger, bare, sample, samples(), samples());

    const raised = samples();
    const resolved = samples();
    const floorSamples = samples();
    const floorResolved = samples();
    const cpu = { server: 0, floor: 0, serverMs: 0, floorMs: 0 };
    // p99 of each block: a server block and the floor block next to it saw about the same machine.
    const blockP99 = { server: [] as number[], floor: [] as number[] };
    const serverPid = server.child.pid ?? 0;
    const floorPid = floor.child.pid ?? 0;
    for (let block = 0; block < blocks; block++) {
      const count = Math.floor(rounds / blocks) + (block < rounds % blocks ? 1 : 0);
      for (const target of block % 2 === 0 ? (['floor', 'server'] as const) : (['server', 'floor'] as const)) {
        const started = performance.now();
        const cpuBefore = cpuSeconds(target === 'server' ? serverPid : floorPid);
        const into = target === 'server' ? raised : floorSamples;
        const before = into.each.length;
        for (let i = 0; i < count; i++) {
          if (target === 'server') await serverRound(gateway, nurses, raised, resolved);
          else await floorRound(trigger, bare, sample, floorSamples, floorResolved);
          await pause(gapMs);
        }
        const seconds = cpuSeconds(target === 'server' ? serverPid : floorPid) - cpuBefore;
        cpu[target] += seconds;
        blockP99[target].push(stats({ each: into.each.slice(before), first: [], last: [] }).p99_ms);
        cpu[`${target}Ms`] += performance.now() - started;
        const block_ = stats({ each: into.each.slice(before), first: into.first.slice(-count), last: into.last.slice(-count) });
        log(
          `block ${block + 1}/${blocks} ${target.padEnd(6)}: ${count} alarms × ${clients} sockets, p50 ${block_.p50_ms} ms, p99 ${block_.p99_ms} ms (first socket p99 ${block_.first_socket_p99_ms} ms), ` +
            `load ${loadavg()[0]?.toFixed(2)}`,
        );
      }
    }

    const fanout = stats(raised);
    const bareStats = stats(floorSamples);
    const ratio = fanout.p99_ms / bareStats.p99_ms;
    const blockRatios = blockP99.server.map((p99, i) => Math.round((p99 / (blockP99.floor[i] ?? Number.NaN)) * 100) / 100);
    const result = {
      machine: machine(),
      load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))),
      clients,
      alarms_per_server: rounds,
      server_node_args: values['server-node-args'] || null,
      receipts: values.receipts,
      fanout_gateway_batch_to_nurse: fanout,
      floor_bare_socketio_broadcast: bareStats,
      floor_resolve_relayed_to_every_nurse: stats(floorResolved),
      resolve_command_to_every_nurse: stats(resolved),
      p99_ratio: Math.round(ratio * 100) / 100,
      block_p99_ratios: blockRatios,
      median_block_p99_ratio:
        blockRatios.length > 0
          ? percentile(
              [...blockRatios].sort((a, b) => a - b),
              50,
            )
          : null,
      target_p99_ratio_at_most: 1.5,
      met: ratio <= 1.5,
      server_cpu_percent_while_measured: Math.round((100 * cpu.server) / (cpu.serverMs / 1000)),
      floor_cpu_percent_while_measured: Math.round((100 * cpu.floor) / (cpu.floorMs / 1000)),
      server_cpu_ms_per_alarm_raised_and_resolved: Math.round((1000 * cpu.server * 100) / rounds) / 100,
      floor_cpu_ms_per_alarm_raised_and_resolved: Math.round((1000 * cpu.floor * 100) / rounds) / 100,
      server_rss_mb: Math.round(memoryMb(serverPid).rss),
      floor_rss_mb: Math.round(memoryMb(floorPid).rss),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const audience of audiences) audience.close();
    for (const socket of sockets) socket.disconnect();
    await Promise.all(children.map((child) => stop(child)));
    rmSync(dir, { recursive: true, force: true });
  }
  if (profileDir !== undefined) {
    log(`server ${summarizeProfile(join(profileDir, 'server'))}`);
    log(`floor ${summarizeProfile(join(profileDir, 'floor'))}`);
  }
}

if (values['floor-server']) {
  floorServer().catch((error: unknown) => {
    process.stderr.write(`[fanout floor] failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`[fanout] failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
