/**
 * The devcloud's web page and HTTP API, served on loopback with `Deno.serve`.
 *
 * - `GET /` the page (plain HTML, CSS and ES modules from `devcloud/ui/`, no build step);
 * - `GET /api/state` every endpoint the {@linkcode DevCloud} follows, as JSON;
 * - `GET /api/events` Server-Sent Events: first a `snapshot` (the same state), then every
 *   {@linkcode CloudEvent} as it happens, each with `at` (ms, the server's clock);
 * - `POST /api/endpoints/<uuid>/set` `{path, value, timeout?}` → `@set`, answered with the
 *   {@linkcode SetResult} once the `@didSet` came (or the timeout passed);
 * - `POST /api/endpoints/<uuid>/logsLevel` `{level}` → `@logsLevel`;
 * - `POST /api/endpoints/<uuid>/exec` `{jobURI, data?, sendOutput?}` → `@exec`, answered with
 *   the correlation ID; the output lines come as `execOutput` events.
 *
 * The API has no authentication, so it listens on loopback only, and refuses requests whose
 * `Host` is not the loopback address (DNS rebinding), whose `Origin` is another site, or whose
 * body is not `application/json` (so that a web page elsewhere cannot post to it).
 *
 * @module
 */

import { LOG_LEVELS, type LogLevel } from "../lib/logs/levels.ts";
import type { AttributeValue } from "../lib/model/types.ts";
import type { CloudEvent, DevCloud, EndpointView, SetResult } from "./cloud.ts";

/** Options of {@linkcode startDevCloudServer}. */
export interface DevCloudServerOptions {
  /** The devcloud to show and to drive. */
  cloud: DevCloud;
  /**
   * The TCP port; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * The loopback address to listen on: `127.0.0.1`, `::1` or `localhost`.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The broker's address, shown on the page so that endpoints can be pointed at it. */
  brokerUrl?: string;
  /**
   * How long a set waits for the `@didSet` when the request does not say, in ms.
   *
   * @default {5000}
   */
  didSetTimeout?: number;
}

/** A running devcloud web server. */
export interface DevCloudServer extends AsyncDisposable {
  /** The page's address, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Its TCP port. */
  readonly port: number;
  /** Ends every event stream and stops the server. */
  close(): Promise<void>;
}

/** What `GET /api/state` answers, and the `snapshot` event carries. */
export interface DevCloudState {
  /** The server's clock, in ms. */
  now: number;
  /** The broker's address, when the server was told it. */
  brokerUrl?: string;
  /** Every endpoint seen. */
  endpoints: EndpointView[];
}

const LOOPBACK = ["127.0.0.1", "::1", "localhost"];
const MAX_BODY = 64 * 1024;
const HEARTBEAT = 15_000;
const ASSETS: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/favicon.svg": ["favicon.svg", "image/svg+xml"],
};
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** An error answered with its status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * Serves the devcloud's page and API on loopback.
 *
 * @param options The devcloud, the port and the loopback address.
 * @returns The running server.
 * @throws {RangeError} When the address is not a loopback address.
 *
 * @example
 * ```ts ignore
 * import { DevCloud, startDevCloudServer, startLocalBroker } from "@cloudio/endpoint/devcloud";
 *
 * await using broker = await startLocalBroker();
 * await using cloud = await DevCloud.connect({ url: broker.url });
 * await using server = await startDevCloudServer({ cloud });
 * console.log(`Open ${server.url}`);
 * ```
 */
export async function startDevCloudServer(
  options: DevCloudServerOptions,
): Promise<DevCloudServer> {
  const { cloud, port = 0, hostname = "127.0.0.1", brokerUrl, didSetTimeout = 5000 } = options;
  if (!LOOPBACK.includes(hostname)) {
    throw new RangeError(
      `Cannot serve the devcloud on ${hostname}: it has no authentication, so only ${
        LOOPBACK.join(", ")
      } are allowed`,
    );
  }
  const streams = new Set<() => void>();
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname, port, onListen: () => listening.resolve() },
    (request) => handle(request),
  );
  await listening.promise;
  const bound = server.addr.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${bound}/`;
  const hosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`]);

  async function handle(request: Request): Promise<Response> {
    try {
      const target = new URL(request.url);
      if (!hosts.has(request.headers.get("host") ?? "")) {
        throw new HttpError(403, `Host ${request.headers.get("host")} is not this server`);
      }
      const origin = request.headers.get("origin");
      if (origin !== null && !hosts.has(origin.replace(/^http:\/\//, ""))) {
        throw new HttpError(403, `Requests from ${origin} are not allowed`);
      }
      const path = target.pathname;
      if (path in ASSETS) return await asset(request, ...ASSETS[path]);
      if (path === "/api/state") {
        only(request, "GET");
        return json(200, state());
      }
      if (path === "/api/events") {
        only(request, "GET");
        return events();
      }
      const action = path.match(/^\/api\/endpoints\/([^/]+)\/(set|logsLevel|exec)$/);
      if (action) {
        only(request, "POST");
        const uuid = decodePath(action[1]);
        const body = await readBody(request);
        if (!cloud.endpoints.has(uuid)) {
          throw new HttpError(404, `There is no endpoint ${uuid}`);
        }
        if (action[2] === "set") return json(200, await set(uuid, body));
        if (action[2] === "logsLevel") return json(200, await logsLevel(uuid, body));
        return json(200, await exec(uuid, body));
      }
      throw new HttpError(404, `There is nothing at ${path}`);
    } catch (error) {
      if (error instanceof HttpError) {
        return json(error.status, { error: error.message }, error.headers);
      }
      if (error instanceof TypeError || error instanceof RangeError) {
        return json(400, { error: error.message });
      }
      return json(500, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  function state(): DevCloudState {
    return { now: Date.now(), brokerUrl, endpoints: [...cloud.endpoints.values()] };
  }

  function events(): Response {
    const stop = new AbortController();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let end = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            end();
          }
        };
        end = () => {
          if (stop.signal.aborted) return;
          stop.abort();
          clearInterval(heartbeat);
          streams.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed or cancelled.
          }
        };
        streams.add(end);
        // Subscribe before the snapshot, in the same turn: no event falls between the two.
        const iterator = cloud.events({ signal: stop.signal });
        send(`retry: 1000\n\n`);
        send(message({ type: "snapshot", at: Date.now(), state: state() }));
        heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT);
        (async () => {
          for await (const event of iterator) send(message({ at: Date.now(), ...event }));
          end();
        })();
      },
      cancel() {
        end();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        ...SECURITY_HEADERS,
      },
    });
  }

  async function set(uuid: string, body: Record<string, unknown>): Promise<SetReply> {
    keys(body, ["path", "value", "timeout"]);
    const { path, value, timeout = didSetTimeout } = body;
    if (typeof path !== "string" || path === "") {
      throw new HttpError(400, `"path" must be an attribute path such as "node/object/attribute"`);
    }
    if (!["boolean", "number", "string"].includes(typeof value)) {
      throw new HttpError(400, `"value" must be a boolean, a number or a string`);
    }
    if (
      typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 60_000
    ) {
      throw new HttpError(400, `"timeout" must be an integer from 1 to 60000 (ms)`);
    }
    const result = await cloud.set(uuid, path, value as AttributeValue, { timeout });
    return result.confirmed ? result : { ...result, timeout };
  }

  async function logsLevel(uuid: string, body: Record<string, unknown>): Promise<object> {
    keys(body, ["level"]);
    const { level } = body;
    if (typeof level !== "string" || !LOG_LEVELS.includes(level as LogLevel)) {
      throw new HttpError(400, `"level" must be one of ${LOG_LEVELS.join(", ")}`);
    }
    await cloud.logsLevel(uuid, level as LogLevel);
    return { level };
  }

  async function exec(uuid: string, body: Record<string, unknown>): Promise<object> {
    keys(body, ["jobURI", "data", "sendOutput"]);
    const { jobURI, data = "", sendOutput = true } = body;
    if (typeof jobURI !== "string" || jobURI.trim() === "") {
      throw new HttpError(400, `"jobURI" must be a non-empty string such as "cmd://listJobs"`);
    }
    if (typeof data !== "string") throw new HttpError(400, `"data" must be a string`);
    if (typeof sendOutput !== "boolean") {
      throw new HttpError(400, `"sendOutput" must be true or false`);
    }
    const correlationID = await cloud.exec(uuid, { jobURI: jobURI.trim(), data, sendOutput });
    return { correlationID };
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      for (const end of [...streams]) end();
      await server.shutdown();
    })();
  return { url, port: bound, close, [Symbol.asyncDispose]: close };
}

type SetReply = SetResult | (SetResult & { timeout: number });

const encoder = new TextEncoder();

function message(data: { at: number } & (CloudEvent | { type: "snapshot"; state: DevCloudState })) {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...SECURITY_HEADERS,
      ...headers,
    },
  });
}

function only(request: Request, method: "GET" | "POST"): void {
  if (request.method === method || (method === "GET" && request.method === "HEAD")) return;
  throw new HttpError(405, `${request.method} is not allowed here; use ${method}`, {
    allow: method === "GET" ? "GET, HEAD" : method,
  });
}

async function asset(request: Request, file: string, type: string): Promise<Response> {
  only(request, "GET");
  const response = await fetch(new URL(`./ui/${file}`, import.meta.url)).catch((error) => {
    throw new HttpError(500, `Cannot read the page's ${file}: ${error.message}`);
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new HttpError(500, `Cannot read the page's ${file}: ${response.status}`);
  }
  return new Response(request.method === "HEAD" ? null : response.body, {
    headers: { "content-type": type, "cache-control": "no-cache", ...SECURITY_HEADERS },
  });
}

async function readBody(request: Request): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    await request.body?.cancel();
    throw new HttpError(415, `Send the body as application/json, not ${type || "nothing"}`);
  }
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY) {
    await request.body?.cancel();
    throw new HttpError(413, `The body is over ${MAX_BODY} bytes`);
  }
  const text = await request.text();
  if (text.length > MAX_BODY) throw new HttpError(413, `The body is over ${MAX_BODY} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "The body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, `${text} is not a valid URL path segment`);
  }
}

function keys(body: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(body).filter((key) => !allowed.includes(key));
  if (extra.length > 0) {
    throw new HttpError(
      400,
      `Unknown key${extra.length > 1 ? "s" : ""} ${extra.map((k) => `"${k}"`).join(", ")}; ` +
        `expected ${allowed.map((k) => `"${k}"`).join(", ")}`,
    );
  }
}
