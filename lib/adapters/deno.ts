/**
 * The Deno platform: properties files from disk, TLS with certificate files that are looked at
 * again on every connection attempt (and read again when they changed), certificates read with
 * `node:crypto`, and the SQLite outbox store.
 * `mod.ts` registers it as the default.
 *
 * @module
 */

import { loadSettings } from "../config/discover.ts";
import type { EndpointSettings } from "../config/settings.ts";
import { StoreError } from "../errors.ts";
import { MemoryStore } from "../outbox/memory_store.ts";
import type { OutboxStore } from "../outbox/store.ts";
import type { Credentials, CredentialsProvider, Platform } from "../platform.ts";
import { denoConfigReader, readPem } from "./deno_config.ts";
import type { Transport } from "../transport.ts";
import type { SqliteFile } from "./sqlite_file.ts";

/**
 * Tells whether a private key file may be read by others than its owner.
 *
 * @param path The key file.
 * @returns A warning, or `undefined` when the file is private (or its mode is unknown).
 */
export async function looseKeyWarning(path: string): Promise<string | undefined> {
  try {
    const { mode } = await Deno.stat(path);
    if (mode !== null && (mode & 0o077) !== 0) {
      return `The private key ${path} can be read by others (mode ${
        (mode & 0o777).toString(8)
      }): chmod 600 it`;
    }
  } catch {
    // Unknown: readPem already said what is wrong with the file itself.
  }
  return undefined;
}

/**
 * Returns a provider that looks at the settings' PEM files on every call and reads those that
 * changed, so that certificates renewed on disk are used at the next reconnect.
 *
 * @param settings The settings with `authorityCert`, `clientCert` and `clientKey` paths.
 * @returns The provider.
 */
export function fileCredentials(settings: EndpointSettings): CredentialsProvider {
  return async () => {
    const credentials: Credentials = {};
    if (settings.authorityCert) {
      credentials.ca = await readPem(settings.authorityCert, "authorityCert");
    }
    if (settings.clientCert) credentials.cert = await readPem(settings.clientCert, "clientCert");
    if (settings.clientKey) {
      credentials.key = await readPem(settings.clientKey, "clientKey");
      const warning = await looseKeyWarning(settings.clientKey);
      if (warning) credentials.warnings = [warning];
    }
    return credentials;
  };
}

function home(): string | undefined {
  try {
    return Deno.env.get("HOME") ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tells where the durable outbox of an endpoint lives: `persistenceLocation` if set, else
 * `$XDG_STATE_HOME/cloud.io` or `~/.local/state/cloud.io`.
 *
 * @param settings The settings.
 * @returns The directory.
 * @throws {StoreError} When no directory can be derived.
 */
export function storeDirectory(settings: EndpointSettings): string {
  if (settings.persistenceLocation) return settings.persistenceLocation;
  let state: string | undefined;
  try {
    state = Deno.env.get("XDG_STATE_HOME") ?? undefined;
  } catch {
    state = undefined;
  }
  if (state) return `${state}/cloud.io`;
  const dir = home();
  if (!dir) {
    throw new StoreError("Cannot place the outbox store: set persistenceLocation (no HOME)");
  }
  return `${dir}/.local/state/cloud.io`;
}

/**
 * Runs a `file://` job: the program itself, no shell, its arguments as given; stdout and stderr
 * are streamed line by line; the process is killed when the signal aborts.
 *
 * @param path The program.
 * @param args Its arguments.
 * @param signal Aborts the run.
 * @param onLine Receives each output line.
 * @returns The exit code.
 */
export async function runFile(
  path: string,
  args: string[],
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<number> {
  const child = new Deno.Command(path, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const lines = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      const parts = partial.split(/\r?\n/);
      partial = parts.pop()!;
      for (const line of parts) onLine(line);
    }
    if (partial) onLine(partial);
  };
  try {
    const [status] = await Promise.all([child.status, lines(child.stdout), lines(child.stderr)]);
    return status.code;
  } finally {
    signal.removeEventListener("abort", kill);
  }
}

// The shared outbox files open now, with how many stores use each.
const sharedFiles = new Map<string, { file: SqliteFile; stores: number }>();

/**
 * Opens an endpoint's outbox as a table of one SQLite file shared by several endpoints: one file,
 * one connection and one commit for all of them. The file closes when its last store does.
 *
 * @param settings The endpoint's settings.
 * @param path The shared file; by default `gateway.outbox.sqlite` beside where the endpoint would
 * keep its own.
 * @returns The store.
 * @throws {StoreError} When the file cannot be opened or created.
 */
export async function openSharedStore(
  settings: EndpointSettings,
  path?: string,
): Promise<OutboxStore> {
  const file = path ?? `${await storeDirectoryMade(settings)}/gateway.outbox.sqlite`;
  // node:sqlite is loaded only where a file store is asked for.
  const [{ SqliteFile }, { SqliteStore }] = await Promise.all([
    import("./sqlite_file.ts"),
    import("./sqlite_store.ts"),
  ]);
  let shared = sharedFiles.get(file);
  if (!shared) {
    shared = { file: SqliteFile.open(file, { synchronous: settings.persistenceSync }), stores: 0 };
    sharedFiles.set(file, shared);
  }
  const entry = shared;
  const release = async () => {
    if (entry.stores === 0 && sharedFiles.get(file) === entry) {
      sharedFiles.delete(file);
      await entry.file.close();
    }
  };
  let store: OutboxStore;
  try {
    store = SqliteStore.inFile(entry.file, settings.uuid, () => (entry.stores--, release()));
  } catch (error) {
    await release(); // the file's first store failed: nothing else will close it
    throw error;
  }
  entry.stores++;
  return store;
}

async function storeDirectoryMade(settings: EndpointSettings): Promise<string> {
  const dir = storeDirectory(settings);
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new StoreError(`Cannot create the outbox directory ${dir}: ${(cause as Error).message}`, {
      path: dir,
      cause,
    });
  }
  return dir;
}

/**
 * The Deno platform: properties and certificate files, MQTT.js over TCP or TLS, SQLite outboxes
 * (one file per endpoint, or one shared by a gateway's), programs for `file://` jobs, and
 * `node:crypto` for certificates.
 */
export const denoPlatform: Platform = {
  loadSettings(name, locations) {
    return loadSettings(name, {
      locations: locations ? [...locations] : undefined,
      reader: denoConfigReader,
    });
  },
  credentials: fileCredentials,
  createTransport(settings, credentials) {
    // MQTT.js is loaded with the first connection attempt, not with mod.ts: a program that never
    // connects (or brings its own transport) does not load it, and its npm types stay out of the
    // module graph of the API (`deno doc`).
    let transport: Promise<Transport> | undefined;
    return {
      url: settings.broker.url,
      async connect(params, onMessage) {
        transport ??= import("./mqtt.ts").then(({ createMqttTransport }) =>
          createMqttTransport({
            broker: settings.broker,
            credentials: credentials ?? fileCredentials(settings),
            verifyHostname: settings.verifyHostname,
          })
        );
        return (await transport).connect(params, onMessage);
      },
    };
  },
  async openStore(settings): Promise<OutboxStore> {
    if (settings.persistence !== "file") return new MemoryStore();
    const dir = await storeDirectoryMade(settings);
    // node:sqlite is loaded only where a file store is asked for.
    const { SqliteStore } = await import("./sqlite_store.ts");
    return SqliteStore.open(`${dir}/${settings.uuid}.outbox.sqlite`, {
      synchronous: settings.persistenceSync,
    });
  },
  openSharedStore,
  runFile,
  // node:crypto is loaded with the first client certificate (TLS), not with mod.ts: a plain-TCP
  // start-up paid 5 ms for it.
  async readCertificate(pem) {
    return (await import("./deno_certificates.ts")).readCertificate(pem);
  },
};
