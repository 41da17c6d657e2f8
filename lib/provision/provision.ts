/**
 * Provisioning by the cloud (protocol §8.3): fetching an endpoint's configuration with a
 * provisioning token (`GET /api/v1/provision/<token>`), by default for a key pair generated
 * here, and checking that the answer is what was asked for.
 *
 * @module
 */

import { certificateMatchesKey } from "../adapters/deno_certificates.ts";
import { isRecord } from "../_record.ts";
import { ConfigError, ConnectionError } from "../errors.ts";
import { parseProvisioningZip } from "./archive.ts";
import { parseProvisioningJson } from "./json.ts";
import { generateKeyPair } from "./keys.ts";
import type { Provisioned } from "./provisioned.ts";

/**
 * The provisioning API could not be reached or refused the request: a network failure
 * (`status` undefined), a timeout, or an HTTP error status with the server's message.
 *
 * @example Telling a used token from a network failure
 * ```ts
 * import { ProvisioningError } from "./provision.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ProvisioningError("Forbidden", { status: 403, serverMessage: "Forbidden" });
 * assert.ok(error instanceof ConnectionError);
 * assert.equal(error.status, 403);
 * ```
 */
export class ProvisioningError extends ConnectionError {
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /** What the server said (its error message or the start of its body), when it said anything. */
  readonly serverMessage?: string;

  /**
   * Creates a provisioning error.
   *
   * @param message What failed.
   * @param options The URL (token redacted), the status, the server's message and the cause.
   */
  constructor(
    message: string,
    options: ErrorOptions & { url?: string; status?: number; serverMessage?: string } = {},
  ) {
    super(message, options);
    this.name = "ProvisioningError";
    this.status = options.status;
    this.serverMessage = options.serverMessage;
  }
}

/** Options of {@linkcode provision}. */
export interface ProvisionOptions {
  /**
   * Generate the key pair here ({@linkcode generateKeyPair}) and send only the public key, so
   * that the private key never leaves the device. With `false`, the cloud generates the key pair
   * (or reuses the endpoint's existing certificate and key) and sends the private key.
   *
   * @default {true}
   */
  generateKey?: boolean;
  /**
   * The format to ask for: the JSON document or the ZIP archive (same content). Whatever the
   * server actually sends, JSON or ZIP, is read.
   *
   * @default {"json"}
   */
  format?: "json" | "zip";
  /**
   * The `fetch` to use, for tests or proxies.
   *
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /** Aborts the request; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How long the request may take, in milliseconds.
   *
   * @default {30000}
   */
  timeout?: number;
  /**
   * Allow plain `http:` to a host other than the loopback interface. The answer carries the
   * private key when the cloud generates it, and the token is in the URL: never over a network.
   *
   * @default {false}
   */
  allowInsecureHttp?: boolean;
}

/** The largest answer accepted, in bytes. */
const MAX_RESPONSE_BYTES = 1 << 20;
const TOKEN = /^[A-Za-z0-9]{64}$/;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The request URL and the same URL with the token redacted, for messages. */
function requestUrl(
  apiUrl: string,
  token: string,
  allowInsecureHttp: boolean,
): { url: URL; shown: string } {
  if (typeof token !== "string" || !TOKEN.test(token)) {
    const problem = typeof token !== "string"
      ? "it is not a string"
      : token.length !== 64
      ? `it has ${token.length} characters, not 64`
      : "it contains characters other than letters and digits";
    throw new ConfigError(`Cannot use the provisioning token: ${problem}`, { key: "token" });
  }
  let base: URL;
  try {
    base = new URL(apiUrl);
  } catch (error) {
    throw new ConfigError(
      `Cannot use API URL ${JSON.stringify(apiUrl)}: it is not an absolute URL`,
      {
        key: "apiUrl",
        cause: error,
      },
    );
  }
  const where = `Cannot use API URL "${base.origin}${base.pathname}"`;
  if (base.username !== "" || base.password !== "") {
    throw new ConfigError("Cannot use the API URL: it contains credentials", { key: "apiUrl" });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new ConfigError(`${where}: only https (or http to this machine) is supported`, {
      key: "apiUrl",
    });
  }
  if (base.search !== "" || base.hash !== "") {
    throw new ConfigError(`${where}: a query or fragment is not supported`, { key: "apiUrl" });
  }
  if (base.protocol === "http:" && !isLoopback(base.hostname) && !allowInsecureHttp) {
    throw new ConfigError(
      `${where}: plain http would expose the token and the private key on the network; use https`,
      { key: "apiUrl" },
    );
  }
  const path = base.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  const url = new URL(`${base.origin}${path}/api/v1/provision/${token}`);
  return { url, shown: `${base.origin}${path}/api/v1/provision/${token.slice(0, 4)}…` };
}

/**
 * Reads at most `limit` bytes of a body: `undefined` when it is longer, or with `truncate` its
 * first `limit` bytes.
 */
async function readBody(
  response: Response,
  limit: number,
  truncate = false,
): Promise<Uint8Array | undefined> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (length + value.length > limit) {
      await reader.cancel().catch(() => {});
      if (!truncate) return undefined;
      chunks.push(value.subarray(0, limit - length));
      length = limit;
      break;
    }
    length += value.length;
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/** The server's message from an error body: Spring's `message`/`error`, or the text itself. */
function serverMessage(body: Uint8Array | undefined, token: string): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  let text = new TextDecoder().decode(body);
  try {
    const data = JSON.parse(text);
    if (isRecord(data)) {
      const message = [data.message, data.error, data.detail, data.title].find((value) =>
        typeof value === "string" && value.trim() !== ""
      );
      if (typeof message === "string") text = message;
    }
  } catch {
    // Not JSON: the text itself.
  }
  // deno-lint-ignore no-control-regex
  text = text.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim().split(token).join("…");
  if (text === "") return undefined;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

const HINTS: Record<number, string> = {
  400: "the server refused the request",
  401: "the token is unknown or was already used (tokens are single-use)",
  403: "the token is unknown or was already used (tokens are single-use)",
  404: "there is no provisioning API at this URL, or the endpoint no longer exists",
};

/**
 * Fetches an endpoint's configuration from the cloud with a provisioning token
 * (`GET <apiUrl>/api/v1/provision/<token>`, protocol §8.3) and checks it.
 *
 * By default the key pair is generated here and only the public key is sent (query parameter
 * `publicKey`, URL-encoded PEM); the cloud returns a certificate for it, which must certify
 * exactly that key, and the result carries the private key generated here. The `Endpoint`
 * response header, when present, must name the UUID of the body. Tokens are single-use: a second
 * call with the same token fails with status 403.
 *
 * @param apiUrl The cloud's base URL, such as `https://cloudio.example.com` (a trailing `/api/v1`
 * is accepted). Plain `http:` only to the loopback interface, unless `allowInsecureHttp`.
 * @param token The provisioning token: 64 letters and digits. It never appears in messages.
 * @param options Key generation, format, `fetch`, signal, timeout.
 * @returns The checked configuration, ready to install.
 * @throws {ConfigError} When the token or URL is malformed (key `token` or `apiUrl`, nothing is
 * sent), the answer is not valid provisioning data, its `Endpoint` header names another endpoint,
 * or its certificate does not certify the public key sent.
 * @throws {ProvisioningError} (a `ConnectionError`) When the server cannot be reached, times out,
 * redirects, answers with an error status (`status` and `serverMessage` set), or sends more than
 * 1 MiB or an unknown content type.
 *
 * @example Provisioning, then installing with the Deno adapter
 * ```ts ignore
 * import { provision } from "./provision.ts";
 * import { installProvisioned } from "./install.ts";
 *
 * const provisioned = await provision("https://cloudio.example.com", Deno.env.get("TOKEN")!);
 * const files = await installProvisioned(provisioned);
 * console.log(`Installed ${files.properties}`);
 * ```
 *
 * @example A malformed token is refused before any request
 * ```ts
 * import { provision } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Promise.reject(new Error("no request expected"));
 * await assert.rejects(provision("https://cloudio.example.com", "abc", { fetch }), {
 *   name: "ConfigError",
 *   key: "token",
 * });
 * ```
 */
export async function provision(
  apiUrl: string,
  token: string,
  options: ProvisionOptions = {},
): Promise<Provisioned> {
  const {
    generateKey = true,
    format = "json",
    fetch: fetchImpl = globalThis.fetch,
    signal,
    timeout = 30_000,
    allowInsecureHttp = false,
  } = options;
  if (!(timeout > 0)) {
    throw new RangeError(
      `Cannot provision: the timeout must be positive: current value is ${timeout}`,
    );
  }
  const { url, shown } = requestUrl(apiUrl, token, allowInsecureHttp);
  signal?.throwIfAborted();
  const keys = generateKey ? await generateKeyPair() : undefined;
  if (keys) url.search = `publicKey=${encodeURIComponent(keys.publicKeyPem)}`;

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException("The provisioning request timed out", "TimeoutError"));
  }, timeout);
  let response: Response;
  let body: Uint8Array | undefined;
  try {
    response = await fetchImpl(url, {
      headers: { Accept: format === "zip" ? "application/zip" : "application/json" },
      redirect: "manual",
      signal: controller.signal,
    });
    const ok = response.status >= 200 && response.status < 300;
    body = await readBody(response, ok ? MAX_RESPONSE_BYTES : 8192, !ok);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw new ProvisioningError(
        `Cannot provision from ${shown}: no answer within ${timeout} ms`,
        {
          url: shown,
          cause: error,
        },
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new ProvisioningError(`Cannot reach the provisioning API at ${shown}: ${detail}`, {
      url: shown,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  const { status } = response;
  if (status >= 300 && status < 400 || response.type === "opaqueredirect") {
    const location = response.headers.get("location");
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the server redirects (${status})` +
        (location ? ` to ${location.split(token).join("…")}; use that URL as the API URL` : ""),
      { url: shown, status },
    );
  }
  if (status < 200 || status >= 300) {
    const message = serverMessage(body, token);
    const hint = HINTS[status] ?? (status >= 500 ? "the server failed" : "the request was refused");
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the server answered ${status} (${hint})` +
        (message ? `: ${message}` : ""),
      message === undefined
        ? { url: shown, status }
        : { url: shown, status, serverMessage: message },
    );
  }
  if (body === undefined) {
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
      { url: shown, status },
    );
  }

  const type = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const isZip = body[0] === 0x50 && body[1] === 0x4b && body[2] === 0x03 && body[3] === 0x04;
  let provisioned: Provisioned;
  if (type === "application/java-archive") {
    throw new ConfigError(
      "Cannot use the provisioning answer: it is the Java archive (JKS and PKCS#12), not JSON or ZIP",
    );
  } else if (type.endsWith("json") || (type !== "application/zip" && !isZip && body[0] === 0x7b)) {
    provisioned = parseProvisioningJson(new TextDecoder().decode(body));
  } else if (type === "application/zip" || type === "application/x-zip-compressed" || isZip) {
    provisioned = await parseProvisioningZip(body);
  } else {
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the answer is ${type || "untyped"}, not JSON or ZIP`,
      { url: shown, status },
    );
  }

  const header = response.headers.get("endpoint");
  if (header !== null && header.trim().toLowerCase() !== provisioned.uuid.toLowerCase()) {
    throw new ConfigError(
      `Cannot use the provisioning answer: its Endpoint header names "${header.trim()}", ` +
        `but its content is for "${provisioned.uuid}"`,
      { key: "uuid" },
    );
  }
  if (keys) {
    if (!certificateMatchesKey(provisioned.certPem, keys.publicKeyPem)) {
      throw new ConfigError(
        "Cannot use the provisioning answer: its certificate does not certify the public key " +
          "that was sent (the cloud may have reused an older certificate)",
        { key: "ssl.clientCert" },
      );
    }
    provisioned = { ...provisioned, keyPem: keys.privateKeyPem };
  }
  return provisioned;
}
