import type { Socket as NetSocket } from 'node:net';
import type { Server } from 'socket.io';

/** What this needs of an engine.io socket: its `flush` event and, over WebSocket, the TCP socket under it. */
interface EngineSocket {
  on(event: 'flush', listener: () => void): void;
  transport: { socket?: { _socket?: NetSocket } };
}

/**
 * Writes each WebSocket's frames of one run of JavaScript to the kernel together: one `writev`
 * instead of one per frame.
 *
 * A batch from a gateway ends in a burst of emits to every tablet of the site (each alarm
 * change, each provisional alarm). engine.io sends the first frame at once and queues the rest
 * until that write is done, then writes the queue frame by frame, and ws writes each frame with
 * its own system call. Under a flood of alarms those system calls were a sixth of the server's
 * CPU (bench/src/peers.ts, profiled with BENCH_CPU_PROF), and each woke the tablet for one frame.
 *
 * When engine.io flushes to a WebSocket, its TCP socket is corked until the current run of
 * JavaScript and its promise callbacks are done (`process.nextTick`): the frames written meanwhile
 * leave in one write. Nothing waits for a timer, so a single alarm goes out as soon as the code
 * that emitted it returns. Long-polling clients are left as they are.
 */
export function coalesceWebSocketWrites(io: Server): void {
  io.engine.on('connection', (socket: EngineSocket) => {
    socket.on('flush', () => {
      // ws keeps the TCP socket as `_socket` (ws 8); on another transport there is none.
      const tcp = socket.transport.socket?._socket;
      if (tcp === undefined || typeof tcp.cork !== 'function' || tcp.destroyed) return;
      tcp.cork();
      process.nextTick(() => tcp.uncork());
    });
  });
}
