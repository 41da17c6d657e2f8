/**
 * What `connect()` prepares once, before the first connection: the settings (from the properties
 * file, or the `config` option), the transport to the broker with its credentials, and the outbox
 * over the store the settings ask for.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { type EndpointSettings, settingsFromProperties } from "../config/settings.ts";
import type { EndpointConfig } from "../config/keys.ts";
import { ConfigError, StoreError } from "../errors.ts";
import { MemoryStore } from "../outbox/memory_store.ts";
import { type DropPolicy, Outbox, type OutboxLimits } from "../outbox/outbox.ts";
import type { OutboxClass, OutboxStore } from "../outbox/store.ts";
import type { Credentials, CredentialsProvider, Platform } from "../platform.ts";
import type { Reporter } from "../reporter.ts";
import { inspectCredentials } from "./certificate_check.ts";
import type { Transport } from "../transport.ts";

/** The part of the endpoint's options that setup reads (see `EndpointOptions` for each). */
export interface SetupOptions {
  /** Directories searched for the properties file first. */
  locations?: readonly string[];
  /** The configuration as an object instead of a properties file. */
  config?: Readonly<EndpointConfig>;
  /** TLS material, or a function asked on every connection attempt. */
  credentials?: Credentials | CredentialsProvider;
  /** A transport to use instead of the platform's. */
  transport?: Transport;
  /** An outbox store to use instead of the one the settings select. */
  store?: OutboxStore;
  /** What the outbox drops when it is full. */
  dropPolicy?: DropPolicy;
  /** The outbox's limits per class. */
  limits?: { [C in OutboxClass]?: { messages?: number; bytes?: number } };
  /** How long before the client certificate expires a warning is given, in ms. */
  certificateWarning?: number;
}

/** The outbox's limits per class, in memory and in a durable store (see the README, "Limits"). */
const DEFAULT_LIMITS: Record<"memory" | "durable", Record<OutboxClass, OutboxLimits>> = {
  memory: {
    updates: { messages: 100_000, bytes: 32 << 20 },
    logs: { messages: 10_000, bytes: 4 << 20 },
    lifecycle: { messages: 10_000, bytes: 16 << 20 },
  },
  durable: {
    updates: { messages: 1_000_000, bytes: 256 << 20 },
    logs: { messages: 10_000, bytes: 4 << 20 },
    lifecycle: { messages: 10_000, bytes: 16 << 20 },
  },
};

function requirePlatform(platform: Platform | undefined): Platform {
  if (platform) return platform;
  throw new ConfigError(
    "No platform to read files or reach the broker: import mod.ts, or pass transport and store",
  );
}

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}

/**
 * Reads the settings: the `config` option, or the properties file found by the endpoint's name.
 * Keys that are not read are reported.
 *
 * @param name The endpoint's name.
 * @param options The endpoint's options.
 * @param platform The runtime.
 * @param reporter Told of the keys that are not read.
 * @returns The settings.
 * @throws {ConfigError} When the configuration is missing or wrong.
 */
export async function loadSettings(
  name: string,
  options: SetupOptions,
  platform: Platform | undefined,
  reporter: Reporter,
): Promise<EndpointSettings> {
  let settings: EndpointSettings;
  if (options.config) {
    const properties = new Map<string, string>();
    for (const [key, value] of Object.entries(options.config)) properties.set(key, String(value));
    settings = settingsFromProperties(properties, { uuid: name, source: "the config option" });
  } else {
    settings = await requirePlatform(platform).loadSettings(name, options.locations);
  }
  for (const { key, message } of settings.warnings) {
    reporter.report(
      new ConfigError(`${message} (${settings.source ?? "the config option"})`, {
        key,
        path: settings.source,
      }),
    );
  }
  return settings;
}

/**
 * Builds the transports: the one given, or the platform's for each broker of the settings (the
 * nodes of a cluster), with the credentials of every attempt checked.
 *
 * @param settings The settings.
 * @param options The endpoint's options.
 * @param platform The runtime.
 * @param context The clock and the reporter.
 * @returns One transport per broker, in the order they are tried.
 */
export function transportsFor(
  settings: EndpointSettings,
  options: SetupOptions,
  platform: Platform | undefined,
  context: { now(): number; reporter: Reporter },
): Transport[] {
  if (options.transport) return [options.transport];
  const credentials = options.credentials;
  const given: CredentialsProvider | undefined = typeof credentials === "function"
    ? credentials
    : credentials
    ? () => Promise.resolve(credentials)
    : platform?.credentials?.(settings);
  const { reporter } = context;
  const provider = given
    ? inspectCredentials(given, {
      settings,
      now: context.now,
      readCertificate: platform?.readCertificate,
      warnAhead: options.certificateWarning,
      report: (error) => reporter.report(error),
      emit: (event) => reporter.emit(event),
    })
    : undefined;
  const runtime = requirePlatform(platform);
  return settings.brokers.map((broker) =>
    runtime.createTransport({ ...settings, broker }, provider)
  );
}

/**
 * Opens the outbox over the store the settings ask for (or the one given). A store that cannot
 * be opened (unwritable directory, corrupt file) must not keep a device from running: it is
 * reported and the outbox keeps messages in memory for this run.
 *
 * @param settings The settings.
 * @param options The endpoint's options.
 * @param platform The runtime.
 * @param reporter Told of drops and store failures.
 * @returns The outbox.
 */
export async function openOutbox(
  settings: EndpointSettings,
  options: SetupOptions,
  platform: Platform | undefined,
  reporter: Reporter,
): Promise<Outbox> {
  const store = options.store ?? await openStore(settings, platform, reporter);
  const defaults = store.durable ? DEFAULT_LIMITS.durable : DEFAULT_LIMITS.memory;
  const limits = options.limits ?? {};
  const outbox: Outbox = new Outbox({
    store,
    limits: {
      updates: {
        ...defaults.updates,
        ...definedOnly({ messages: settings.updateLimit, bytes: settings.updateBytesLimit }),
        ...limits.updates,
      },
      logs: {
        ...defaults.logs,
        ...definedOnly({ messages: settings.logLimit, bytes: settings.logBytesLimit }),
        ...limits.logs,
      },
      lifecycle: {
        ...defaults.lifecycle,
        ...definedOnly({ messages: settings.lifecycleLimit }),
        ...limits.lifecycle,
      },
    },
    dropPolicy: options.dropPolicy ?? settings.dropPolicy,
    keepOffline: settings.persistence !== "none",
    onDrop: (entry, reason) =>
      reporter.dropped(entry.topic, reason, outbox.stats().dropped[reason]),
    onError: (error) => reporter.report(error),
  });
  return outbox;
}

async function openStore(
  settings: EndpointSettings,
  platform: Platform | undefined,
  reporter: Reporter,
): Promise<OutboxStore> {
  if (settings.persistence === "none") return new MemoryStore();
  try {
    return await requirePlatform(platform).openStore(settings);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    reporter.report(
      new StoreError(`${error.message}; buffering in memory for this run instead`, {
        path: error.path,
        cause: error,
      }),
    );
    return new MemoryStore();
  }
}
