/**
 * Locations as written in a cloud.iO properties file (`home:/x`, `file:/x`, `path:x`, `~/x`, a
 * relative or an absolute path) turned into file paths (protocol §8.2).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** Joins POSIX paths and removes `.`, `..` and repeated slashes. */
function joinPath(base: string, rest: string): string {
  const path = rest.startsWith("/") || base === "" ? rest : `${base}/${rest}`;
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

/** Decodes `%XX` escapes of a URI path, or returns it unchanged when it has malformed ones. */
function decodeUriPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The path, or what went wrong without the text that was given (the caller shows it). */
type Outcome = { ok: string } | { problem: string };

/**
 * Resolves a location as {@linkcode resolveLocation} does, but tells the problem instead of
 * throwing, so that a caller can name the property key in its own error.
 *
 * @param location The location as written.
 * @param options `baseDir` for relative locations, `home` for `home:` and `~`.
 * @returns `{ ok: path }`, or `{ problem }`: what is wrong, without the location itself.
 */
export function tryResolveLocation(
  location: string,
  options: { baseDir?: string; home?: string },
): Outcome {
  const fromHome = (rest: string): Outcome =>
    options.home === undefined || options.home === ""
      ? { problem: "the home directory is unknown" }
      : { ok: joinPath(options.home, rest.replace(/^\/+/, "")) };
  const relative = (rest: string): Outcome => ({
    ok: rest.startsWith("/") || options.baseDir === undefined
      ? rest
      : joinPath(options.baseDir, rest),
  });

  if (location === "") return { problem: "it is empty" };
  if (/^home:/i.test(location)) return fromHome(decodeUriPath(location.slice(5)));
  if (/^file:/i.test(location)) {
    const rest = location.slice(5);
    const authority = /^\/\/([^/]*)(.*)$/.exec(rest);
    let path = rest;
    if (authority) {
      if (authority[1] !== "" && authority[1].toLowerCase() !== "localhost") {
        return { problem: `a file URI on another host ("${authority[1]}") is not supported` };
      }
      path = authority[2];
    }
    if (!path.startsWith("/")) {
      return {
        problem: 'a "file:" URI needs an absolute path, such as "file:/etc/cloud.io/ca.pem"',
      };
    }
    const decoded = decodeUriPath(path);
    // "file:/C:/Users/…" (written on Windows, as in the Python example endpoint) names "C:/Users/…".
    if (/^\/[A-Za-z]:\//.test(decoded)) return { ok: decoded.slice(1) };
    return { ok: joinPath("", decoded) };
  }
  if (/^path:/i.test(location)) return relative(location.slice(5));
  if (location === "~" || location.startsWith("~/")) return fromHome(location.slice(1));
  if (/^[A-Za-z]:[\\/]/.test(location)) return { ok: location }; // A Windows absolute path.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location);
  if (scheme) {
    return {
      problem: `scheme "${scheme[1]}:" is not supported (use home:, file:, path:, ~/ or a path)`,
    };
  }
  return relative(location);
}

/**
 * Turns a location as written in a cloud.iO properties file into a file path.
 *
 * - `home:/x` and `home:x` → `<home>/x`; `~/x` → `<home>/x`.
 * - `file:/abs/path`, `file:///abs/path` and `file://localhost/abs/path` → `/abs/path`, with
 *   `%XX` escapes decoded (as for `home:`); `file:/C:/x` → `C:/x`.
 * - `path:x` and plain relative paths → `<baseDir>/x`, or `x` unchanged when there is no
 *   `baseDir`.
 * - Absolute paths, POSIX or Windows (`C:/x`, `C:\x`), are returned unchanged.
 *
 * `.` and `..` are resolved in the paths this function builds; paths are POSIX paths.
 *
 * @param location The location, e.g. `home:/.config/cloud.io/ca-cert.pem`.
 * @param options `baseDir` for relative locations, `home` for `home:` and `~`.
 * @returns The path.
 * @throws {ConfigError} When the location needs the home directory and none is given, uses a
 * scheme other than `home:`, `file:` or `path:` (`classpath:` and `http:` are Java-only), or is a
 * `file:` URI without an absolute path or on another host.
 *
 * @example Resolving the locations the references use
 * ```ts
 * import { resolveLocation } from "./locations.ts";
 * import assert from "node:assert/strict";
 *
 * const options = { baseDir: "/etc/cloud.io", home: "/home/pi" };
 * assert.equal(resolveLocation("home:/.config/cloud.io", options), "/home/pi/.config/cloud.io");
 * assert.equal(resolveLocation("file:/etc/ssl/ca.pem", options), "/etc/ssl/ca.pem");
 * assert.equal(resolveLocation("~/certs/key.pem", options), "/home/pi/certs/key.pem");
 * assert.equal(resolveLocation("ca-cert.pem", options), "/etc/cloud.io/ca-cert.pem");
 * ```
 *
 * @example A location that cannot be resolved
 * ```ts
 * import { resolveLocation } from "./locations.ts";
 * import { ConfigError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => resolveLocation("home:/x.pem", {}), ConfigError);
 * assert.throws(() => resolveLocation("classpath:authority.jks", {}), /not supported/);
 * ```
 */
export function resolveLocation(
  location: string,
  options: { baseDir?: string; home?: string },
): string {
  const outcome = tryResolveLocation(location, options);
  if ("problem" in outcome) {
    throw new ConfigError(`Cannot resolve location "${location}": ${outcome.problem}`);
  }
  return outcome.ok;
}
