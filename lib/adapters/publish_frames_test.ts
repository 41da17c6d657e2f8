import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import mqttPacket from "npm:mqtt-packet@9.0.2";
import { PublishFrames } from "./publish_frames.ts";

/** A sink that keeps what is written, with identifiers from 1 up. */
function sink() {
  const writes: Uint8Array[] = [];
  let next = 0;
  return { writes, write: (bytes: Uint8Array) => writes.push(bytes), allocate: () => ++next };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) all.set(chunk, (at += chunk.length) - chunk.length);
  return all;
}

/** Parses frames with MQTT.js's own parser: what a broker would read. */
function parse(bytes: Uint8Array) {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.IPublishPacket[] = [];
  parser.on("packet", (packet) => packets.push(packet as mqttPacket.IPublishPacket));
  parser.on("error", (error) => {
    throw error;
  });
  parser.parse(Buffer.from(bytes));
  return packets;
}

Deno.test("PublishFrames writes what mqtt-packet parses: topic, id, QoS 1, retain, payload", async () => {
  const out = sink();
  const frames = new PublishFrames(out);
  const big = new Uint8Array(200_000).map((_, i) => i % 251); // a 3-byte remaining length
  const done = [
    frames.publish("@update/u/a/b", new TextEncoder().encode('{"value":1}'), false),
    frames.publish("@online/u", new Uint8Array(), true),
    frames.publish("@update/u/ü", big, false),
  ];
  assert.equal(out.writes.length, 0, "nothing is written before the turn ends");
  await Promise.resolve();
  // The frames in one buffer, but the large payload as it is, after its packet's head.
  assert.equal(out.writes.length, 2, "a buffer of frames, then the large payload");
  assert.equal(out.writes[1], big, "the large payload is not copied");
  const packets = parse(concat(out.writes));
  assert.deepEqual(
    packets.map((p) => [p.cmd, p.topic, p.messageId, p.qos, p.retain, p.payload.length]),
    [
      ["publish", "@update/u/a/b", 1, 1, false, 11],
      ["publish", "@online/u", 2, 1, true, 0],
      ["publish", "@update/u/ü", 3, 1, false, 200_000],
    ],
  );
  assert.deepEqual(new Uint8Array(packets[2].payload as Buffer), big);
  assert.equal(frames.waiting, 3);
  assert.equal(frames.acked(2), true);
  assert.equal(frames.acked(2), false, "an ack counts once");
  assert.equal(frames.acked(99), false, "not ours");
  frames.acked(1);
  frames.acked(3);
  await Promise.all(done);
  assert.equal(frames.waiting, 0);
});

Deno.test("PublishFrames rejects what waits when the connection fails, and later publishes at once", async () => {
  const out = sink();
  const frames = new PublishFrames(out);
  const first = frames.publish("t", new Uint8Array([1]), false);
  const failure = new Error("gone");
  frames.fail(failure);
  await assert.rejects(first, (error) => error === failure);
  await assert.rejects(
    frames.publish("t", new Uint8Array([2]), false),
    (error) => error === failure,
  );
  await Promise.resolve();
  assert.equal(out.writes.length, 0, "nothing is written after the failure");
});

Deno.test("PublishFrames keeps the order of frames around large payloads, across turns", async () => {
  const out = sink();
  const frames = new PublishFrames(out);
  const large = (n: number) => new Uint8Array(8 * 1024 + n).fill(n);
  const sent: [string, number][] = [];
  const publish = (topic: string, payload: Uint8Array) => {
    sent.push([topic, payload.length]);
    return frames.publish(topic, payload, false);
  };
  // Small, large, large, small, many small (the buffer grows with parts already cut off), large.
  const done = [publish("a", new Uint8Array([1])), publish("b", large(1)), publish("c", large(2))];
  done.push(publish("d", new Uint8Array(100)));
  for (let i = 0; i < 400; i++) done.push(publish(`e${i}`, new Uint8Array(60)));
  done.push(publish("f", large(3)));
  await Promise.resolve();
  const firstTurn = out.writes.length;
  done.push(publish("g", new Uint8Array([7])), publish("h", large(4)));
  await Promise.resolve();
  assert.ok(out.writes.length > firstTurn, "the second turn writes after the first");
  const packets = parse(concat(out.writes));
  assert.deepEqual(packets.map((p) => [p.topic, p.payload.length]), sent);
  assert.deepEqual(packets.map((p) => p.messageId), sent.map((_, i) => i + 1));
  assert.deepEqual(new Uint8Array(packets[2].payload as Buffer), large(2));
  for (let id = 1; id <= sent.length; id++) frames.acked(id);
  await Promise.all(done);
});
