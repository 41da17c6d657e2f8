/**
 * The broker address of a cloud.iO properties file (property `hostUri`), in the forms the Java
 * and Python references take, normalized to one URL.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** A broker address, normalized from a `hostUri` property. */
export interface BrokerAddress {
  /**
   * The normalized URL, with the scheme, the host (IPv6 in brackets), the port and, for
   * WebSockets, the path: `mqtts://host:8883` or `wss://host:443/mqtt`.
   */
  url: string;
  /** The transport: MQTT over TCP or TLS, or over plain or secure WebSockets. */
  protocol: "mqtt" | "mqtts" | "ws" | "wss";
  /** The host name or IP address, in lower case; an IPv6 address comes without brackets. */
  host: string;
  /** The TCP port. */
  port: number;
  /** The WebSocket path, such as `/mqtt`; only for `ws` and `wss`. */
  path?: string;
}

const SCHEMES: Record<string, { protocol: BrokerAddress["protocol"]; port: number }> = {
  ssl: { protocol: "mqtts", port: 8883 },
  mqtts: { protocol: "mqtts", port: 8883 },
  tcp: { protocol: "mqtt", port: 1883 },
  mqtt: { protocol: "mqtt", port: 1883 },
  wss: { protocol: "wss", port: 443 },
  ws: { protocol: "ws", port: 80 },
};

/**
 * Parses a broker address as {@linkcode parseBrokerUri} does, but tells the problem instead of
 * throwing, so that a caller can name the property key and the file in its own error.
 *
 * @param uri The address as written.
 * @returns `{ ok: address }`, or `{ problem }`: what is wrong, without the URI itself; with
 * `secret: true` when the URI carries credentials and must not be shown.
 */
export function tryParseBrokerUri(
  uri: string,
): { ok: BrokerAddress } | { problem: string; secret?: boolean } {
  const text = uri.trim();
  if (text === "") return { problem: "it is empty" };
  const schemed = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text);
  let rest = text;
  let kind = SCHEMES.ssl; // A bare host, as the Python reference takes it, means MQTT over TLS.
  if (schemed) {
    const scheme = schemed[1].toLowerCase();
    if (!(scheme in SCHEMES)) {
      return {
        problem: `scheme "${schemed[1]}" is not supported (use ssl, tcp, mqtts, mqtt, wss or ws)`,
      };
    }
    kind = SCHEMES[scheme];
    rest = schemed[2];
  }
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? "" : rest.slice(end);
  if (authority.includes("@")) {
    return {
      problem: "it contains credentials; cloud.iO endpoints must not send a user name or " +
        "password, they log in with their client certificate",
      secret: true,
    };
  }

  let host: string;
  let portText: string | undefined;
  const ipv6 = /^\[([^\]]*)\](.*)$/.exec(authority);
  if (ipv6) {
    host = ipv6[1].toLowerCase();
    if (!/^[0-9a-f:.]+$/.test(host) || !host.includes(":")) {
      return { problem: `"[${ipv6[1]}]" is not an IPv6 address` };
    }
    if (ipv6[2] !== "") {
      if (!ipv6[2].startsWith(":")) return { problem: `"${ipv6[2]}" follows the IPv6 address` };
      portText = ipv6[2].slice(1);
    }
  } else {
    const colon = authority.indexOf(":");
    if (colon >= 0 && authority.indexOf(":", colon + 1) >= 0) {
      return { problem: "an IPv6 address must be written in brackets, such as [::1]" };
    }
    host = (colon < 0 ? authority : authority.slice(0, colon)).toLowerCase();
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
    if (host === "") return { problem: "it names no host" };
    if (!/^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?$/.test(host)) {
      return { problem: `"${host}" is not a host name` };
    }
  }

  let port = kind.port;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      return { problem: `port "${portText}" is not a number from 1 to 65535` };
    }
  }

  if (/[?#]/.test(tail)) {
    return { problem: "a query or fragment is not supported" };
  }
  const websocket = kind.protocol === "ws" || kind.protocol === "wss";
  if (!websocket && tail !== "" && tail !== "/") {
    return { problem: `a path ("${tail}") is only allowed with ws and wss` };
  }
  const path = websocket ? (tail === "" ? "/mqtt" : tail) : undefined;
  const urlHost = ipv6 ? `[${host}]` : host;
  const url = `${kind.protocol}://${urlHost}:${port}${path ?? ""}`;
  return {
    ok: path === undefined
      ? { url, protocol: kind.protocol, host, port }
      : { url, protocol: kind.protocol, host, port, path },
  };
}

/**
 * Parses the broker address of property `hostUri`.
 *
 * | Given | Protocol | Default port |
 * |---|---|---|
 * | `ssl://host`, `mqtts://host`, or a bare `host` (Python style) | `mqtts` | 8883 |
 * | `tcp://host`, `mqtt://host` | `mqtt` | 1883 |
 * | `wss://host[/path]` | `wss` | 443, path `/mqtt` |
 * | `ws://host[/path]` | `ws` | 80, path `/mqtt` |
 *
 * Schemes and host names are case-insensitive; IPv6 addresses go in brackets (`ssl://[::1]:8883`).
 *
 * @param uri The address, such as `ssl://cloudio.example.com:8883`.
 * @returns The normalized address.
 * @throws {ConfigError} With key `hostUri`, when the scheme is unknown, the host or port is
 * invalid, an MQTT URI has a path, any URI has a query or fragment, or the URI carries a user
 * name or password (endpoints log in with their client certificate only; the URI is then left
 * out of the message).
 *
 * @example Java and Python forms
 * ```ts
 * import { parseBrokerUri } from "./broker_uri.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseBrokerUri("ssl://cloudio.example.com"), {
 *   url: "mqtts://cloudio.example.com:8883",
 *   protocol: "mqtts",
 *   host: "cloudio.example.com",
 *   port: 8883,
 * });
 * assert.equal(parseBrokerUri("cloudio.example.com").url, "mqtts://cloudio.example.com:8883");
 * assert.equal(parseBrokerUri("wss://example.com").url, "wss://example.com:443/mqtt");
 * assert.equal(parseBrokerUri("tcp://[::1]").url, "mqtt://[::1]:1883");
 * ```
 *
 * @example Credentials are refused
 * ```ts
 * import { parseBrokerUri } from "./broker_uri.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseBrokerUri("ssl://me:secret@example.com"), (error: Error) => {
 *   assert.doesNotMatch(error.message, /secret/);
 *   return true;
 * });
 * ```
 */
export function parseBrokerUri(uri: string): BrokerAddress {
  const outcome = tryParseBrokerUri(uri);
  if ("problem" in outcome) {
    const shown = outcome.secret ? "" : ` "${uri}"`;
    throw new ConfigError(`Cannot parse broker URI${shown}: ${outcome.problem}`, {
      key: "hostUri",
    });
  }
  return outcome.ok;
}
