/**
 * QoS 1 PUBLISH packets written straight to an MQTT.js client's socket: encoded without per-packet
 * objects, and all the packets of one turn of the event loop in one write. MQTT.js still connects,
 * keeps the connection alive, subscribes and parses what arrives; a PUBACK of ours reaches
 * {@linkcode PublishFrames.acked} from the socket's filter (`puback_filter.ts`) before MQTT.js's
 * parser. Packet identifiers come from MQTT.js's own provider, so that they never collide with
 * those of its SUBSCRIBEs.
 *
 * Measured (`deno task bench`, publisher CPU per 100,000 `@update`s, memory outbox): MQTT.js's
 * `publish()` costs a packet object, an outgoing-store entry, a callback closure, `mqtt-packet`'s
 * generation and three stream writes per message; this costs one frame in a shared buffer.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** What a PUBLISH frame needs of the client. */
export interface FrameSink {
  /** Writes bytes to the connection. */
  write(bytes: Uint8Array): void;
  /** A packet identifier not in use. */
  allocate(): number;
}

const encoder = new TextEncoder();
/** Topics repeat (one per attribute): their UTF-8 bytes are kept, up to this many. */
const TOPIC_CACHE = 4096;
/**
 * A payload this large (a `@delayed` batch, tens of kilobytes) is written as it is, after its
 * packet's head, not copied into the turn's buffer: the copy grew that buffer to the batch's size,
 * and the next turn's with it, two more large buffers per batch for the collector.
 */
const LARGE = 8 * 1024;

/** The unacknowledged publishes of one connection, and the buffer of the current turn. */
export class PublishFrames {
  #sink: FrameSink;
  #topics = new Map<string, Uint8Array>();
  // What to call for the publishes waiting for their PUBACK, by packet identifier (1 to 65,535).
  // A Map of them lived long, and V8 rebuilt its tables in the old space as publishes came and went.
  #settle: (((error?: Error) => void) | undefined)[] = [];
  #waiting = 0;
  #buffer = new Uint8Array(16 * 1024);
  #length = 0;
  // Where the part of the buffer not yet in #chunks starts; #chunks holds what this turn writes
  // before it (parts of the buffer and large payloads, in order).
  #start = 0;
  #chunks: Uint8Array[] = [];
  #flushing = false;
  #failure: Error | undefined;

  /**
   * Creates the writer of one connection.
   *
   * @param sink The connection's stream and packet identifiers.
   */
  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Publishes waiting for their PUBACK. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Queues a QoS 1 PUBLISH for this turn's write.
   *
   * @param topic The topic.
   * @param payload The payload.
   * @param retain The retain flag.
   * @returns A promise that resolves on the PUBACK and rejects when the connection fails first.
   */
  publish(topic: string, payload: Uint8Array, retain: boolean): Promise<void> {
    return new Promise((done, failed) =>
      this.send(topic, payload, retain, (error) => error ? failed(error) : done())
    );
  }

  /**
   * Queues a QoS 1 PUBLISH for this turn's write, without a promise: the outbox's way, one per
   * value.
   *
   * @param topic The topic.
   * @param payload The payload.
   * @param retain The retain flag.
   * @param settled Called once: without an argument on the PUBACK, with the error when the
   *   connection fails first (at once when it has failed already).
   */
  send(
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    settled: (error?: Error) => void,
  ): void {
    if (this.#failure) return settled(this.#failure);
    let name = this.#topics.get(topic);
    if (name === undefined) {
      if (this.#topics.size >= TOPIC_CACHE) this.#topics.clear();
      name = encoder.encode(topic);
      this.#topics.set(topic, name);
    }
    const id = this.#sink.allocate();
    const remaining = 2 + name.length + 2 + payload.length;
    const large = payload.length >= LARGE;
    this.#reserve(1 + 4 + remaining - (large ? payload.length : 0));
    const b = this.#buffer;
    let at = this.#length;
    b[at++] = retain ? 0x33 : 0x32; // PUBLISH, QoS 1
    let rest = remaining;
    do {
      const digit = rest & 0x7f;
      rest >>>= 7;
      b[at++] = rest > 0 ? digit | 0x80 : digit;
    } while (rest > 0);
    b[at++] = name.length >> 8;
    b[at++] = name.length & 0xff;
    b.set(name, at);
    at += name.length;
    b[at++] = id >> 8;
    b[at++] = id & 0xff;
    if (large) {
      this.#chunks.push(b.subarray(this.#start, at), payload);
      this.#length = this.#start = at;
    } else {
      b.set(payload, at);
      this.#length = at + payload.length;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#settle[id] === undefined) this.#waiting++;
    this.#settle[id] = settled;
  }

  /**
   * A PUBACK arrived.
   *
   * @param id Its packet identifier.
   * @returns Whether it answered a publish of this writer.
   */
  acked(id: number): boolean {
    const settled = this.#settle[id];
    if (settled === undefined) return false;
    this.#settle[id] = undefined;
    this.#waiting--;
    settled();
    return true;
  }

  /**
   * The connection failed: every waiting publish rejects, and later ones at once.
   *
   * @param error Why.
   */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#length = this.#start = 0;
    this.#chunks = [];
    const waiting = this.#settle.filter((settled) => settled !== undefined);
    this.#settle = [];
    this.#waiting = 0;
    for (const settled of waiting) settled(error);
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    // Only what is not in #chunks yet moves: they keep the old buffer while they need it.
    const live = this.#buffer.subarray(this.#start, this.#length);
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, live.length + bytes));
    grown.set(live);
    this.#buffer = grown;
    this.#length = live.length;
    this.#start = 0;
  }

  // The stream keeps what it is given until written: the next turn starts a buffer of its own.
  #flush(): void {
    this.#flushing = false;
    if (this.#length === 0 || this.#failure) return;
    const chunks = this.#chunks;
    if (this.#length > this.#start) chunks.push(this.#buffer.subarray(this.#start, this.#length));
    this.#buffer = new Uint8Array(Math.max(16 * 1024, this.#length - this.#start));
    this.#length = this.#start = 0;
    this.#chunks = [];
    for (const chunk of chunks) this.#sink.write(chunk);
  }
}
