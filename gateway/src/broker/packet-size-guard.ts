import type { Duplex } from 'node:stream';

/**
 * Follows the MQTT fixed headers (MQTT 3.1.1 §2.2: one byte of type and flags, then the
 * Remaining Length in 1–4 bytes, §2.2.3) of the bytes read from one connection and reports the
 * first packet larger than `maxBytes` as soon as its header arrives, before its body is read.
 *
 * aedes has no packet size option: its parser (mqtt-packet, built in lib/client.js without
 * options) buffers a whole packet, up to 256 MiB, before anything can look at it. So the guard
 * watches the connection instead. aedes reads the socket in paused mode (`readable` +
 * `read()`), and Node emits `data` for every chunk `read()` returns, before aedes parses it.
 */
export class PacketSizeTracker {
  /** Body bytes of the current packet still to skip. */
  #skip = 0;
  /** Bytes of the current fixed header seen so far (0 = expecting a packet type byte). */
  #headerBytes = 0;
  #remaining = 0;
  #multiplier = 1;

  constructor(private readonly maxBytes: number) {}

  /** Feeds the next chunk; returns the announced size of the first oversize or malformed packet, else null. */
  feed(chunk: Buffer): number | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (this.#headerBytes === 0) {
        this.#headerBytes = 1;
        this.#remaining = 0;
        this.#multiplier = 1;
        continue;
      }
      this.#remaining += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#headerBytes++;
      if (byte & 0x80) {
        // A fifth length byte is malformed (§2.2.3): treat it as oversize, the parser would refuse it too.
        if (this.#headerBytes > 4) return Number.POSITIVE_INFINITY;
        continue;
      }
      const total = this.#headerBytes + this.#remaining;
      if (total > this.maxBytes) return total;
      this.#skip = this.#remaining;
      this.#headerBytes = 0;
    }
    return null;
  }
}

/**
 * Destroys `conn` the moment it announces a packet over `maxBytes`. Call after `aedes.handle(conn)`,
 * so the `data` listener joins aedes' `readable` one and does not switch the socket to flowing.
 */
export function guardPacketSize(conn: Duplex, maxBytes: number, onOversize: (size: number) => void): void {
  const tracker = new PacketSizeTracker(maxBytes);
  const watch = (chunk: Buffer) => {
    const size = tracker.feed(chunk);
    if (size === null) return;
    conn.removeListener('data', watch);
    onOversize(size);
    // MQTT 3.1.1 has no reason code for "packet too large" (MQTT 5 has 0x95, §3.2.2.3.6): closing
    // the network connection is the only answer.
    conn.destroy();
  };
  conn.on('data', watch);
}
