import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import net from "node:net";
import { PubackFilter } from "./puback_filter.ts";

/** A loopback server that sends `reads` one by one (each its own TCP write) and keeps what it reads. */
async function server(reads: Uint8Array[]) {
  const received: Buffer[] = [];
  let peer: net.Socket | undefined;
  const srv = net.createServer(async (socket) => {
    peer = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    for (const bytes of reads) {
      socket.write(bytes);
      await new Promise((r) => setTimeout(r, 5)); // a read each
    }
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    received,
    close: () => {
      peer?.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

function read(stream: PubackFilter, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) resolve(Buffer.concat(chunks));
    });
  });
}

const puback = (id: number) => [0x40, 0x02, id >> 8, id & 0xff];
const suback = [0x90, 0x03, 0x00, 0x07, 0x01];
// A PUBLISH whose payload holds bytes that look like a PUBACK: they must pass.
const publish = [0x30, 0x09, 0x00, 0x01, 0x74, ...puback(5), 0x40, 0x02];

Deno.test("PubackFilter takes the PUBACKs out, wherever the socket splits them, and passes the rest in order", async () => {
  const wire = [...puback(1), ...suback, ...puback(258), ...publish, ...puback(3), 0xd0, 0x00];
  // Split at every place the frames can be cut: inside a header, an id, a payload.
  const reads = [[0, 1], [1, 3], [3, 9], [9, 13], [13, 14], [14, 24], [24, 27], [27, wire.length]]
    .map(([from, to]) => new Uint8Array(wire.slice(from, to)));
  const srv = await server(reads);
  const socket = net.connect({ host: "127.0.0.1", port: srv.port });
  const ids: number[] = [];
  const filter = new PubackFilter(socket, (id) => ids.push(id));
  try {
    const kept = [...suback, ...publish, 0xd0, 0x00];
    assert.deepEqual([...await read(filter, kept.length)], kept);
    assert.deepEqual(ids, [1, 258, 3]);
  } finally {
    filter.destroy();
    await srv.close();
  }
});

Deno.test("PubackFilter writes a corked packet's pieces as one write, in order", async () => {
  const srv = await server([]);
  const socket = net.connect({ host: "127.0.0.1", port: srv.port });
  const filter = new PubackFilter(socket, () => {});
  try {
    await new Promise((r) => socket.once("connect", r));
    // MQTT.js (mqtt-packet) writes a SUBSCRIBE of 20 filters as 62 pieces between cork() and uncork().
    const pieces = [new Uint8Array([0x82, 0x00, 0x00, 0x01])];
    for (let i = 0; i < 20; i++) {
      pieces.push(new Uint8Array([0x00, 0x03]), new TextEncoder().encode(`f/${i % 10}`));
      pieces.push(new Uint8Array([0x01]));
    }
    filter.cork();
    for (const piece of pieces) filter.write(piece);
    filter.uncork();
    const all = Buffer.concat(pieces);
    const deadline = Date.now() + 5000;
    while (Buffer.concat(srv.received).length < all.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(Buffer.concat(srv.received), all);
    // On loopback, one write arrives as one read; 62 writes arrived as dozens.
    assert.equal(srv.received.length, 1, `${srv.received.length} reads`);
  } finally {
    filter.destroy();
    await srv.close();
  }
});
