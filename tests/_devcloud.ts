/**
 * Helpers for the devcloud's tests: the whole stack (local broker, DevCloud, web server), real
 * endpoints of this library on it, a reader of the server's event stream, and a way to wait for
 * one item of an async iterator.
 *
 * @module
 */

import { Endpoint, type EndpointModel, modelFromXml } from "../mod.ts";
import { type LocalBroker, startLocalBroker } from "../devcloud/broker.ts";
import { DevCloud } from "../devcloud/cloud.ts";
import {
  type DevCloudServer,
  type DevCloudServerOptions,
  startDevCloudServer,
} from "../devcloud/server.ts";

/** The broker, the devcloud and its web server; closes all three. */
export interface Stack extends AsyncDisposable {
  broker: LocalBroker;
  cloud: DevCloud;
  server: DevCloudServer;
}

/**
 * Starts a local broker, a DevCloud on it and the web server.
 *
 * @param options More options of the web server.
 * @returns The stack.
 */
export async function startStack(
  options: Omit<DevCloudServerOptions, "cloud"> = {},
): Promise<Stack> {
  const broker = await startLocalBroker();
  const cloud = await DevCloud.connect({ url: broker.url });
  const server = await startDevCloudServer({ cloud, brokerUrl: broker.url, ...options });
  return {
    broker,
    cloud,
    server,
    async [Symbol.asyncDispose]() {
      await server.close();
      await cloud.close();
      await broker.close();
    },
  };
}

/**
 * Reads the VacuumCleaner model of the example.
 *
 * @returns The model.
 */
export async function vacuumCleanerModel(): Promise<EndpointModel> {
  const url = new URL("../examples/vacuum_cleaner.xml", import.meta.url);
  return await modelFromXml(await Deno.readTextFile(url), { source: "vacuum_cleaner.xml" });
}

/**
 * Creates (not connects) an endpoint of this library for the local broker, in memory.
 *
 * @param broker The broker.
 * @param uuid Its UUID.
 * @param model The model, if any.
 * @returns The endpoint.
 */
export function localEndpoint(broker: LocalBroker, uuid: string, model?: EndpointModel): Endpoint {
  return new Endpoint(uuid, {
    model,
    config: { hostUri: broker.url, persistence: "memory" },
  });
}

/**
 * Reads an async iterator until an item matches.
 *
 * @param iterator The iterator (left open for more).
 * @param predicate Selects the item.
 * @param timeout How long to wait, in ms.
 * @returns The first matching item.
 * @throws {Error} On timeout or when the iterator ends first, with what was seen.
 */
export async function nextMatching<T, U extends T = T>(
  iterator: AsyncIterator<T>,
  predicate: ((item: T) => item is U) | ((item: T) => boolean),
  timeout = 5000,
): Promise<U> {
  const seen: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `Nothing matched within ${timeout} ms; seen: ${JSON.stringify(seen).slice(0, 2000)}`,
          ),
        ),
      timeout,
    );
  });
  try {
    while (true) {
      const result = await Promise.race([iterator.next(), expired]);
      if (result.done) throw new Error(`Ended before a match; seen: ${JSON.stringify(seen)}`);
      if (predicate(result.value)) return result.value as U;
      seen.push(result.value);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A reader of `GET /api/events`. */
export interface EventStream extends AsyncDisposable {
  /** Every message so far. */
  readonly messages: Record<string, unknown>[];
  /** Waits for a message (already received or to come) that matches. */
  waitFor(
    predicate: (message: Record<string, unknown>) => boolean,
    timeout?: number,
  ): Promise<Record<string, unknown>>;
}

/**
 * Opens the server's Server-Sent Events stream with `fetch` and parses its messages.
 *
 * @param url The server's URL.
 * @returns The stream; dispose of it to cancel the request.
 */
export async function openEvents(url: string): Promise<EventStream> {
  const response = await fetch(new URL("api/events", url));
  if (response.headers.get("content-type")?.startsWith("text/event-stream") !== true) {
    await response.body?.cancel();
    throw new Error(
      `Not an event stream: ${response.status} ${response.headers.get("content-type")}`,
    );
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: Record<string, unknown>[] = [];
  let wake = () => {};
  const pump = (async () => {
    let buffer = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6)).join("\n");
          if (data) messages.push(JSON.parse(data));
        }
        wake();
      }
    } catch {
      // Cancelled.
    }
  })();
  return {
    messages,
    async waitFor(predicate, timeout = 5000) {
      const deadline = Date.now() + timeout;
      let from = 0;
      while (true) {
        for (; from < messages.length; from++) {
          if (predicate(messages[from])) return messages[from];
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `No event matched within ${timeout} ms; seen: ${
              JSON.stringify(messages.map((m) => m.type))
            }`,
          );
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
    },
    async [Symbol.asyncDispose]() {
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
}

/**
 * Posts JSON to the server.
 *
 * @param url The server's URL.
 * @param path The path, e.g. `api/endpoints/<uuid>/set`.
 * @param body The body.
 * @param headers More headers.
 * @returns The status and the parsed reply.
 */
export async function postJson(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(path, url), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
