import assert from "node:assert/strict";
import { configError } from "./_helpers_test.ts";
import { resolveLocation } from "./locations.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json, and a `/// <reference lib="deno.ns" />` would apply to every
// file of that check.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

const PLACES = { baseDir: "/etc/cloud.io", home: "/home/pi" };

Deno.test("resolveLocation() resolves home: with and without a slash", () => {
  assert.equal(
    resolveLocation("home:/.config/cloud.io/ca.pem", PLACES),
    "/home/pi/.config/cloud.io/ca.pem",
  );
  assert.equal(
    resolveLocation("home:.config/cloud.io/ca.pem", PLACES),
    "/home/pi/.config/cloud.io/ca.pem",
  );
  assert.equal(resolveLocation("home:/.config/cloud.io/", PLACES), "/home/pi/.config/cloud.io");
});

Deno.test("resolveLocation() resolves ~ against the home directory", () => {
  assert.equal(resolveLocation("~/certs/key.pem", PLACES), "/home/pi/certs/key.pem");
  assert.equal(resolveLocation("~", PLACES), "/home/pi");
});

Deno.test("resolveLocation() refuses home: and ~ without a home directory", () => {
  for (const location of ["home:/x", "~/x", "~"]) {
    const error = configError(() => resolveLocation(location, { baseDir: "/etc" }));
    assert.equal(
      error.message,
      `Cannot resolve location "${location}": the home directory is unknown`,
    );
  }
});

Deno.test("resolveLocation() keeps file: paths absolute", () => {
  // The Python reference made "file:/etc/x.pem" relative (protocol §12 #11).
  assert.equal(resolveLocation("file:/etc/ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("file:///etc/ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("file://localhost/etc/ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("file:/etc/ssl/ca.pem", {}), "/etc/ssl/ca.pem");
});

Deno.test("resolveLocation() decodes %XX escapes in file: and home: URIs", () => {
  assert.equal(resolveLocation("file:/opt/my%20certs/ca.pem", PLACES), "/opt/my certs/ca.pem");
  assert.equal(resolveLocation("home:/my%20certs", PLACES), "/home/pi/my certs");
  assert.equal(resolveLocation("file:/opt/100%/ca.pem", PLACES), "/opt/100%/ca.pem");
});

Deno.test("resolveLocation() reads a Windows file: URI", () => {
  assert.equal(resolveLocation("file:/C:/Users/pi/ca-cert.pem", PLACES), "C:/Users/pi/ca-cert.pem");
});

Deno.test("resolveLocation() refuses file: URIs on other hosts or without an absolute path", () => {
  assert.match(
    configError(() => resolveLocation("file://server/x.pem", PLACES)).message,
    /another host/,
  );
  assert.match(configError(() => resolveLocation("file:x.pem", PLACES)).message, /absolute path/);
});

Deno.test("resolveLocation() resolves path: and relative paths against the base directory", () => {
  assert.equal(resolveLocation("path:certs/ca.pem", PLACES), "/etc/cloud.io/certs/ca.pem");
  assert.equal(resolveLocation("ca.pem", PLACES), "/etc/cloud.io/ca.pem");
  assert.equal(resolveLocation("./ca.pem", PLACES), "/etc/cloud.io/ca.pem");
  assert.equal(resolveLocation("../ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("certs//ca.pem", { baseDir: "conf" }), "conf/certs/ca.pem");
});

Deno.test("resolveLocation() leaves relative paths as given without a base directory", () => {
  assert.equal(resolveLocation("certs/ca.pem", {}), "certs/ca.pem");
  assert.equal(resolveLocation("./ca.pem", {}), "./ca.pem");
  assert.equal(resolveLocation("path:certs/ca.pem", {}), "certs/ca.pem");
});

Deno.test("resolveLocation() leaves absolute paths unchanged", () => {
  assert.equal(resolveLocation("/etc/ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("path:/etc/ssl/ca.pem", PLACES), "/etc/ssl/ca.pem");
  assert.equal(resolveLocation("C:/Users/pi/ca.pem", PLACES), "C:/Users/pi/ca.pem");
  assert.equal(resolveLocation("C:\\Users\\pi\\ca.pem", PLACES), "C:\\Users\\pi\\ca.pem");
});

Deno.test("resolveLocation() refuses Java-only and unknown schemes", () => {
  for (const location of ["classpath:cloud.io/authority.jks", "bundle:x", "https://h/ca.pem"]) {
    const error = configError(() => resolveLocation(location, PLACES));
    assert.match(error.message, /is not supported/, location);
  }
});

Deno.test("resolveLocation() refuses an empty location", () => {
  assert.match(configError(() => resolveLocation("", PLACES)).message, /empty/);
});
