/**
 * The socket of an MQTT.js client, with the PUBACKs taken out of what it reads: they answer the
 * endpoint's own PUBLISH frames ({@linkcode PublishFrames}), and each one MQTT.js parsed would
 * cost a packet object, a parser pass with its debug calls, a handler and a tick of its own (20%
 * of the publisher's CPU, measured with `deno task bench --profiles`). Every other packet reaches
 * MQTT.js's parser as it came, split wherever the socket split it.
 *
 * Deno (and Node) only: it is a `node:stream` Duplex over a `node:net` or `node:tls` socket.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import type { Socket } from "node:net";

/** PUBACK: type 4, no flags, remaining length 2 (MQTT 3.1.1 §3.4). */
const PUBACK = 0x40;

/** A socket whose reads lose their PUBACKs to `onPuback`. */
export class PubackFilter extends Duplex {
  #socket: Socket;
  #onPuback: (id: number) => void;
  // A frame split across reads: its bytes so far, and how many it has in all once known.
  #partial: Uint8Array | undefined;

  /**
   * Wraps a socket.
   *
   * @param socket The connected (or connecting) socket.
   * @param onPuback Told of every PUBACK's packet identifier.
   */
  constructor(socket: Socket, onPuback: (id: number) => void) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#onPuback = onPuback;
    socket.on("data", (chunk: Uint8Array) => {
      const rest = this.#filter(chunk);
      if (rest.length > 0 && !this.push(rest)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
  }

  /** The socket, for writes that need no stream machinery (the endpoint's PUBLISH frames). */
  get socket(): Socket {
    return this.#socket;
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    done: (error?: Error | null) => void,
  ): void {
    // A write's failure is the socket's: its own "error" (the TLS alert, the reset) destroys this
    // stream with the cause MQTT.js should report, rather than a later EPIPE of this write.
    if (this.#socket.write(chunk)) done();
    else this.#socket.once("drain", () => done());
  }

  // MQTT.js writes a packet in pieces between cork() and uncork(): they go out as one write, as
  // they would to the socket itself. Written piece by piece, a 20-filter SUBSCRIBE reached the
  // devcloud's aedes broker as 60 segments, and it answered only when the next packet came.
  override _writev(
    chunks: { chunk: Uint8Array }[],
    done: (error?: Error | null) => void,
  ): void {
    this._write(concat(chunks.map(({ chunk }) => chunk)), "buffer", done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#socket.end(() => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#socket.destroy();
    done(error);
  }

  // Walks the frames of a read; returns what is not a PUBACK, in order. A frame cut at the end of
  // a read waits for the next one.
  #filter(chunk: Uint8Array): Uint8Array {
    let bytes = chunk;
    if (this.#partial) {
      bytes = Buffer.concat([this.#partial, chunk]);
      this.#partial = undefined;
    }
    const kept: Uint8Array[] = [];
    let keptFrom = 0; // start of the run of other packets being kept
    let at = 0;
    while (at < bytes.length) {
      // Fixed header: a type byte, then the remaining length in 1 to 4 bytes.
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      while (i < bytes.length && i <= at + 4) {
        const digit = bytes[i++];
        length += (digit & 0x7f) * multiplier;
        multiplier *= 128;
        if ((digit & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete && i > at + 4) {
        // Not MQTT: let MQTT.js's parser say so.
        kept.push(bytes.subarray(keptFrom));
        return concat(kept);
      }
      if (!complete || i + length > bytes.length) {
        this.#partial = bytes.slice(at);
        break;
      }
      const end = i + length;
      if (bytes[at] === PUBACK && length === 2) {
        if (keptFrom < at) kept.push(bytes.subarray(keptFrom, at));
        keptFrom = end;
        this.#onPuback((bytes[i] << 8) | bytes[i + 1]);
      }
      at = end;
    }
    const last = this.#partial ? bytes.length - this.#partial.length : bytes.length;
    if (keptFrom < last) kept.push(bytes.subarray(keptFrom, last));
    return concat(kept);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
