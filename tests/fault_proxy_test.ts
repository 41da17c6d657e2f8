// Proves the fault proxy (tests/_fault_proxy.ts) itself, against a plain echo server, so that the
// network fault tests can trust what it does to a connection.

import assert from "node:assert/strict";
import net from "node:net";
import { within } from "./_deadline.ts";
import { type FaultProxy, heldSocket, startFaultProxy } from "./_fault_proxy.ts";

/** An echo server that counts and records its connections. */
async function echoServer() {
  const sockets: net.Socket[] = [];
  const events: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", (error: Error & { code?: string }) => events.push(`error ${error.code}`));
    socket.on("end", () => events.push("end"));
    socket.on("data", (chunk: Uint8Array) => socket.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    sockets,
    events,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Client {
  socket: net.Socket;
  received: string[];
  events: string[];
  closed: Promise<void>;
}

async function connectClient(proxy: FaultProxy): Promise<Client> {
  const socket = net.connect({ host: "127.0.0.1", port: proxy.port });
  const received: string[] = [];
  const events: string[] = [];
  socket.on("data", (chunk: Uint8Array) => received.push(new TextDecoder().decode(chunk)));
  socket.on("error", (error: Error & { code?: string }) => events.push(`error ${error.code}`));
  socket.on("end", () => events.push("end"));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await within(
    new Promise((resolve) => socket.once("connect", resolve)),
    2000,
    "the connection to the proxy",
  );
  return { socket, received, events, closed };
}

async function echoed(client: Client, text: string, timeout = 2000): Promise<void> {
  client.socket.write(text);
  const deadline = Date.now() + timeout;
  while (!client.received.join("").includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" was not echoed within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the fault proxy forwards both ways, with latency when asked", async () => {
  await using echo = await echoServer();
  await using proxy = await startFaultProxy(echo.url);
  assert.equal(proxy.url, `mqtt://127.0.0.1:${proxy.port}`);
  const client = await connectClient(proxy);
  await echoed(client, "hello");
  proxy.latency = 150;
  const began = performance.now();
  await echoed(client, "slow");
  const took = performance.now() - began;
  assert.ok(took >= 290, `an echo through 150 ms each way took ${took.toFixed(0)} ms`);
  proxy.latency = 0;
  await echoed(client, "fast again");
  assert.equal(proxy.connections.length, 1);
  assert.equal(proxy.connections[0].mode, "pass");
  assert.equal(proxy.connections[0].clientPort, client.socket.localPort);
  client.socket.destroy();
  await within(client.closed, 2000, "the client socket to close");
});

Deno.test("the fault proxy black-holes: nothing passes, closes are swallowed, new connections pass", async () => {
  await using echo = await echoServer();
  await using proxy = await startFaultProxy(echo.url);
  const client = await connectClient(proxy);
  await echoed(client, "before");
  assert.equal(proxy.blackhole(), 1);
  await assert.rejects(echoed(client, "after", 300), /was not echoed/);
  assert.equal(echo.sockets[0].bytesRead, "before".length, "nothing reached the broker side");
  // The broker side closes: the endpoint must not hear of it.
  echo.sockets[0].destroy();
  await pause(300);
  assert.deepEqual(client.events, []);
  assert.equal(client.socket.destroyed, false);
  const clientPort = client.socket.localPort!;
  assert.equal(heldSocket(clientPort, proxy.port), "ESTABLISHED");
  assert.ok(proxy.connections[0].upstreamGoneAt !== undefined, "the proxy saw the broker go");
  assert.equal(proxy.connections[0].mode, "blackhole");
  // A new connection goes through.
  const second = await connectClient(proxy);
  await echoed(second, "second");
  // The endpoint side closing is swallowed too: the broker side is not told.
  second.socket.destroy();
  client.socket.destroy();
  await within(client.closed, 2000, "the client socket to close");
  await within(second.closed, 2000, "the second client socket to close");
  assert.equal(heldSocket(clientPort, proxy.port), undefined);
});

Deno.test("the fault proxy resets both sides", async () => {
  await using echo = await echoServer();
  await using proxy = await startFaultProxy(echo.url);
  const client = await connectClient(proxy);
  await echoed(client, "x");
  assert.equal(proxy.reset(), 1);
  await within(client.closed, 2000, "the reset to reach the client");
  assert.deepEqual(client.events, ["error ECONNRESET"]);
  const deadline = Date.now() + 2000;
  while (!echo.events.includes("error ECONNRESET") && Date.now() < deadline) await pause(10);
  assert.ok(echo.events.includes("error ECONNRESET"), `broker side saw ${echo.events}`);
  assert.equal(proxy.connections[0].mode, "reset");
});

Deno.test("the fault proxy can accept and never answer, without a connection upstream", async () => {
  await using echo = await echoServer();
  await using proxy = await startFaultProxy(echo.url);
  proxy.accept = "silent";
  const client = await connectClient(proxy);
  await assert.rejects(echoed(client, "anyone?", 300), /was not echoed/);
  assert.equal(echo.sockets.length, 0, "no connection to the broker");
  assert.equal(proxy.connections[0].mode, "silent");
  assert.equal(proxy.connections[0].fromClient, "anyone?".length);
  proxy.accept = "pass";
  const second = await connectClient(proxy);
  await echoed(second, "now");
  client.socket.destroy();
  second.socket.destroy();
  await within(Promise.all([client.closed, second.closed]), 2000, "the sockets to close");
});

Deno.test("the fault proxy can lose only what the broker sends back", async () => {
  await using echo = await echoServer();
  await using proxy = await startFaultProxy(echo.url);
  const client = await connectClient(proxy);
  await echoed(client, "both ways");
  assert.equal(proxy.dropReturn(), 1);
  await assert.rejects(echoed(client, "up only", 300), /was not echoed/);
  assert.equal(echo.sockets[0].bytesRead, "both ways".length + "up only".length, "it arrived");
  echo.sockets[0].destroy();
  await pause(200);
  assert.deepEqual(client.events, [], "the broker's close is swallowed");
  assert.equal(proxy.connections[0].mode, "one-way");
  client.socket.destroy();
  await within(client.closed, 2000, "the client socket to close");
});
