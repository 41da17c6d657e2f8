/**
 * The seam between the web-only core and a runtime. A platform finds the configuration, builds a
 * transport to the broker and opens the outbox store. `mod.ts` registers the Deno platform (files,
 * TLS with client certificates, SQLite); a browser build registers one with WebSocket only. Tests
 * and embedders can pass their own through `EndpointOptions.platform`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { EndpointSettings } from "./config/settings.ts";
import type { OutboxStore } from "./outbox/store.ts";
import type { FileRunner } from "./jobs/jobs.ts";
import type { Transport } from "./transport.ts";
import type { Timers } from "./timers.ts";
import type { CertificateInfo } from "./tls/certificate.ts";

/** TLS material as PEM text. */
export interface Credentials {
  /** The certificate authority that signed the broker's certificate. */
  ca?: string;
  /** The endpoint's client certificate (CN = its UUID). */
  cert?: string;
  /** The private key of the client certificate. */
  key?: string;
  /** Things worth a warning about this material (e.g. a key file others can read). */
  warnings?: string[];
}

/** Supplies credentials; asked again on every connection attempt, so renewed files are picked up. */
export type CredentialsProvider = () => Promise<Credentials>;

/** What a runtime provides. */
export interface Platform {
  /**
   * Finds and reads the configuration of an endpoint.
   *
   * @param name The UUID, or the name of the properties file.
   * @param locations Directories searched first.
   * @returns The settings.
   * @throws {ConfigError} When nothing is found or something is wrong.
   */
  loadSettings(name: string, locations?: readonly string[]): Promise<EndpointSettings>;
  /**
   * Builds a transport to the broker of the settings.
   *
   * @param settings The settings.
   * @param credentials Overrides the certificate files of the settings.
   * @returns The transport.
   */
  createTransport(settings: EndpointSettings, credentials?: CredentialsProvider): Transport;
  /**
   * Reads the certificate files the settings name; asked again on every connection attempt.
   *
   * @param settings The settings.
   * @returns The provider, or `undefined` where there are no files (browsers).
   */
  credentials?(settings: EndpointSettings): CredentialsProvider | undefined;
  /**
   * Opens the outbox store that the settings ask for (`persistence`, `persistenceLocation`).
   *
   * @param settings The settings.
   * @returns The store.
   * @throws {StoreError} When a durable store cannot be opened.
   */
  openStore(settings: EndpointSettings): Promise<OutboxStore>;
  /**
   * Opens the endpoint's outbox as a part of one file shared with other endpoints (a gateway's),
   * committed together; the file is closed with its last store. Absent where stores cannot be
   * shared (browsers).
   *
   * @param settings The endpoint's settings.
   * @param path The shared file; by default `gateway.outbox.sqlite` where the settings would keep
   * the endpoint's own file.
   * @returns The store.
   * @throws {StoreError} When the file cannot be opened.
   */
  openSharedStore?(settings: EndpointSettings, path?: string): Promise<OutboxStore>;
  /** Runs `file://` jobs without a shell; absent where programs cannot run. */
  runFile?: FileRunner;
  /**
   * Reads the first certificate of PEM text, with the runtime's own X.509 support where it has
   * one; the endpoint checks the client certificate with it on every connection attempt. It may
   * answer with a promise (to load that support with the first certificate).
   *
   * @param pem The PEM text.
   * @returns The certificate's common names, validity and serial.
   * @throws {SyntaxError} When there is no certificate or it cannot be read.
   */
  readCertificate?(pem: string): CertificateInfo | Promise<CertificateInfo>;
  /**
   * The timers of reconnect delays and keep-alives (a gateway's shared wheel); the runtime's own
   * when absent.
   */
  timers?: Timers;
}

let registered: Platform | undefined;

/**
 * Registers the platform used by endpoints that are not given one.
 *
 * @param platform The platform.
 */
export function setDefaultPlatform(platform: Platform): void {
  registered = platform;
}

/**
 * Returns the registered platform.
 *
 * @returns The platform, or `undefined` when none was registered.
 */
export function defaultPlatform(): Platform | undefined {
  return registered;
}
