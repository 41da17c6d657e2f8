/**
 * A stand-in for the cloud's provisioning API (protocol §8.3), and a small ZIP writer for tests.
 *
 * {@linkcode startProvisionServer} serves `GET /api/v1/provision/<token>` on loopback the way
 * cloudio-services does: tokens are 64 alphanumerics and single-use (a used or unknown token gets
 * 403 with a Spring-style JSON error); with `publicKey` the server certifies that key (subject
 * `CN=<uuid>, O=client`, serial = the UUID as a 128-bit integer, 100 years) with the test CA and
 * keeps no private key; without it, it reuses the endpoint's certificate or generates a key pair
 * (RSA 2048) and keeps the key. It answers JSON (`Endpoint` header, `clientPrivateKey` omitted
 * when unknown) or, for `Accept: application/zip`, a ZIP archive of `<name>.properties` (written
 * as `java.util.Properties.store` does, with `ch.hevs.cloudio.endpoint.uuid` added), `ca-cert.pem`,
 * `<uuid>-client-cert.pem` and `<uuid>-private-key.pem` when known — made with the `zip` CLI when
 * it is installed, else with {@linkcode writeZip}.
 *
 * @example
 * ```ts ignore
 * import { testPki } from "./_certs.ts";
 * import { startProvisionServer } from "./_provision_server.ts";
 *
 * await using server = await startProvisionServer(await testPki());
 * const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://broker" });
 * const token = server.createToken(uuid);
 * // GET `${server.url}/api/v1/provision/${token}` …
 * ```
 *
 * @module
 */

import type { TestPki } from "./_certs.ts";
import { crc32 } from "../lib/provision/zip.ts";

// ---------------------------------------------------------------------------------------------
// ZIP writer

/** One file of {@linkcode writeZip}, with knobs to craft malformed archives. */
export interface TestZipEntry {
  /** The name as stored. */
  name: string;
  /** The content (strings as UTF-8). */
  data: Uint8Array | string;
  /**
   * Store or deflate the content.
   *
   * @default {"deflate"}
   */
  method?: "store" | "deflate";
  /** A raw method number to write instead (e.g. 99, AES). */
  methodCode?: number;
  /** General purpose flags OR-ed in (1 = encrypted). */
  flags?: number;
  /** The uncompressed size written in the headers, instead of the true one. */
  declaredSize?: number;
  /** The CRC-32 written, instead of the true one. */
  crc?: number;
  /** The compressed size written in the central directory, instead of the true one. */
  compressedSize?: number;
  /** Extra field bytes for the central directory entry. */
  centralExtra?: Uint8Array;
  /**
   * Write sizes and CRC in a data descriptor after the data (flag bit 3) and zeros in the local
   * header, as Java's `ZipOutputStream` does.
   *
   * @default {false}
   */
  dataDescriptor?: boolean;
}

/** Options of {@linkcode writeZip}. */
export interface TestZipOptions {
  /** The archive comment. */
  comment?: string;
  /** Put a ZIP64 end-of-central-directory locator before the end record. */
  zip64Locator?: boolean;
  /** Make entry `i`'s central record point at the local header of entry `j`: `[i, j]`. */
  pointAt?: [number, number];
}

async function deflateRaw(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Writes a ZIP archive (no ZIP64) from in-memory files.
 *
 * @param entries The files.
 * @param options Comment and deliberate defects.
 * @returns The archive.
 */
export async function writeZip(
  entries: TestZipEntry[],
  options: TestZipOptions = {},
): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const offsets: number[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    offset += bytes.length;
  };
  for (const entry of entries) {
    const data = typeof entry.data === "string"
      ? encoder.encode(entry.data)
      : new Uint8Array(entry.data);
    const name = encoder.encode(entry.name);
    const method = entry.methodCode ?? (entry.method === "store" ? 0 : 8);
    const body = method === 8 ? await deflateRaw(data) : data;
    const crc = entry.crc ?? crc32(data);
    const size = entry.declaredSize ?? data.length;
    const flags = (entry.flags ?? 0) | 0x0800 | (entry.dataDescriptor ? 0x0008 : 0);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, flags, true);
    local.setUint16(8, method, true);
    local.setUint16(12, 0x5021, true); // 2020-01-01
    local.setUint32(14, entry.dataDescriptor ? 0 : crc, true);
    local.setUint32(18, entry.dataDescriptor ? 0 : body.length, true);
    local.setUint32(22, entry.dataDescriptor ? 0 : size, true);
    local.setUint16(26, name.length, true);
    offsets.push(offset);
    push(new Uint8Array(local.buffer));
    push(name);
    push(body);
    if (entry.dataDescriptor) {
      const descriptor = new DataView(new ArrayBuffer(16));
      descriptor.setUint32(0, 0x08074b50, true);
      descriptor.setUint32(4, crc, true);
      descriptor.setUint32(8, body.length, true);
      descriptor.setUint32(12, size, true);
      push(new Uint8Array(descriptor.buffer));
    }
    const extra = entry.centralExtra ?? new Uint8Array(0);
    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, 0x0314, true);
    record.setUint16(6, 20, true);
    record.setUint16(8, flags, true);
    record.setUint16(10, method, true);
    record.setUint16(14, 0x5021, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, entry.compressedSize ?? body.length, true);
    record.setUint32(24, size, true);
    record.setUint16(28, name.length, true);
    record.setUint16(30, extra.length, true);
    record.setUint32(38, 0o100644 << 16, true);
    central.push(new Uint8Array(record.buffer), name, extra);
  }
  if (options.pointAt) {
    const [from, to] = options.pointAt;
    const record = central[from * 3];
    new DataView(record.buffer).setUint32(42, offsets[to], true);
  }
  for (let i = 0; i < entries.length; i++) {
    if (!options.pointAt || options.pointAt[0] !== i) {
      new DataView(central[i * 3].buffer).setUint32(42, offsets[i], true);
    }
  }
  const centralStart = offset;
  for (const bytes of central) push(bytes);
  const centralSize = offset - centralStart;
  if (options.zip64Locator) {
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    push(new Uint8Array(locator.buffer));
  }
  const comment = encoder.encode(options.comment ?? "");
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, centralStart, true);
  end.setUint16(20, comment.length, true);
  push(new Uint8Array(end.buffer));
  push(comment);
  const archive = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    archive.set(part, at);
    at += part.length;
  }
  return archive;
}

let zipCliPromise: Promise<boolean> | undefined;

/**
 * Tells whether the `zip` command is installed.
 *
 * @returns Whether `zip -v` runs.
 */
export function hasZipCli(): Promise<boolean> {
  zipCliPromise ??= new Deno.Command("zip", { args: ["-v"], stdout: "null", stderr: "null" })
    .output()
    .then((output) => output.success, () => false);
  return zipCliPromise;
}

/**
 * Zips files with the `zip` command, writing the archive to stdout (so that entries get data
 * descriptors, as from a stream).
 *
 * @param files File names and contents.
 * @param extraArgs More `zip` options, such as `-0` to store.
 * @returns The archive.
 */
export async function zipWithCli(
  files: Record<string, string | Uint8Array>,
  extraArgs: string[] = [],
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-zip-" });
  try {
    for (const [name, data] of Object.entries(files)) {
      if (typeof data === "string") await Deno.writeTextFile(`${dir}/${name}`, data);
      else await Deno.writeFile(`${dir}/${name}`, data);
    }
    const { success, stdout, stderr } = await new Deno.Command("zip", {
      args: ["-q", "-X", ...extraArgs, "-", ...Object.keys(files)],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`zip failed: ${new TextDecoder().decode(stderr)}`);
    return stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates

const EXTENSIONS = `[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

async function openssl(dir: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  }
  return new TextDecoder().decode(stdout);
}

/** What the server signs with: the test CA, in a scratch directory. */
export interface Signer {
  /**
   * Certifies a public key for an endpoint, as the cloud does: `CN=<uuid>, O=client`, serial =
   * the UUID, valid 100 years, signed by the test CA (`openssl x509 -new -force_pubkey`).
   *
   * @param uuid The endpoint.
   * @param publicKeyPem The key, SPKI PEM.
   * @returns The certificate, PEM.
   * @throws {Error} When openssl refuses the key.
   */
  certify(uuid: string, publicKeyPem: string): Promise<string>;
  /**
   * Generates an RSA 2048 key pair with openssl.
   *
   * @returns The private key (PKCS#8 PEM) and its public key (SPKI PEM).
   */
  generate(): Promise<{ keyPem: string; publicKeyPem: string }>;
  /** Removes the scratch directory. */
  close(): Promise<void>;
}

/**
 * Creates a signer on the test PKI's CA.
 *
 * @param pki The test PKI; its CA key is `<pki.dir>/ca.key`.
 * @returns The signer; its scratch directory lies inside the PKI's.
 */
export async function createSigner(pki: TestPki): Promise<Signer> {
  // Inside the PKI's directory, which goes away with the process even when close() is not called.
  const dir = await Deno.makeTempDir({ dir: pki.dir, prefix: "provision-" });
  await Deno.writeTextFile(`${dir}/ext.cnf`, EXTENSIONS);
  let counter = 0;
  return {
    async certify(uuid, publicKeyPem) {
      const n = ++counter;
      await Deno.writeTextFile(`${dir}/pub-${n}.pem`, publicKeyPem);
      // deno-fmt-ignore
      await openssl(dir, [
        "x509", "-new", "-force_pubkey", `pub-${n}.pem`, "-subj", `/CN=${uuid}/O=client`,
        "-CA", pki.caCert, "-CAkey", `${pki.dir}/ca.key`, "-set_serial", `0x${uuid.replace(/-/g, "")}`,
        "-days", "36500", "-sha256", "-extfile", "ext.cnf", "-extensions", "client_ext",
        "-out", `cert-${n}.pem`,
      ]);
      return await Deno.readTextFile(`${dir}/cert-${n}.pem`);
    },
    async generate() {
      const n = ++counter;
      // deno-fmt-ignore
      await openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", `key-${n}.pem`]);
      const publicKeyPem = await openssl(dir, ["pkey", "-in", `key-${n}.pem`, "-pubout"]);
      return { keyPem: await Deno.readTextFile(`${dir}/key-${n}.pem`), publicKeyPem };
    },
    async close() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The server

/** `java.util.Properties.store` escaping (`saveConvert` with `escUnicode`). */
function javaEscape(text: string, key: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const code = c.charCodeAt(0);
    if (code > 61 && code < 127) out += c === "\\" ? "\\\\" : c;
    else if (c === " ") out += i === 0 || key ? "\\ " : " ";
    else if (c === "\t") out += "\\t";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\f") out += "\\f";
    else if ("=:#!".includes(c)) out += `\\${c}`;
    else if (code < 0x20 || code > 0x7e) {
      out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    } else out += c;
  }
  return out;
}

function javaStore(props: Record<string, string>): string {
  let text = `#${new Date().toUTCString()}\n`;
  for (const [key, value] of Object.entries(props)) {
    text += `${javaEscape(key, true)}=${javaEscape(value, false)}\n`;
  }
  return text;
}

interface StoredEndpoint {
  properties: Record<string, string>;
  certPem: string;
  keyPem: string;
}

/** One request the server saw. */
export interface ProvisionRequest {
  /** The token (from the path). */
  token: string;
  /** The `Accept` header. */
  accept: string | null;
  /** The `publicKey` query parameter, decoded. */
  publicKey: string | null;
  /** The status answered. */
  status: number;
}

/** Ways to make the server misbehave, changeable at any time. */
export interface Misbehaviour {
  /** Send this `Endpoint` header instead of the UUID. */
  endpointHeader?: string;
  /** Ignore `publicKey` and generate a key pair instead. */
  ignorePublicKey?: boolean;
}

/** A running stand-in provisioning API. */
export interface ProvisionServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Every request, in order. */
  readonly requests: ProvisionRequest[];
  /** Misbehaviours to apply. */
  readonly misbehave: Misbehaviour;
  /**
   * Creates an endpoint (`POST /api/v1/endpoints`), with its stored properties.
   *
   * @param properties The properties, such as `ch.hevs.cloudio.endpoint.hostUri`.
   * @returns Its (random) UUID.
   */
  createEndpoint(properties?: Record<string, string>): string;
  /**
   * Issues a provisioning token (`POST /api/v1/endpoints/<uuid>/provisionToken`), replacing the
   * endpoint's older tokens.
   *
   * @param uuid The endpoint.
   * @param customProperties Properties merged into the stored ones.
   * @returns The token: 64 letters and digits.
   */
  createToken(uuid: string, customProperties?: Record<string, string>): string;
  /** The stored state of an endpoint (certificate and key once provisioned). */
  endpoint(uuid: string): Readonly<StoredEndpoint> | undefined;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

/** Options of {@linkcode startProvisionServer}. */
export interface ProvisionServerOptions {
  /**
   * How ZIP answers are made: the `zip` CLI, {@linkcode writeZip}, or the CLI when installed.
   *
   * @default {"auto"}
   */
  zip?: "cli" | "writer" | "auto";
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(64));
  return Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
}

function springError(status: number, error: string, message: string, path: string): Response {
  return Response.json(
    { timestamp: new Date().toISOString(), status, error, message, path },
    { status },
  );
}

/**
 * Starts the stand-in provisioning API on a free loopback port.
 *
 * @param pki The test PKI whose CA signs client certificates (the broker's CA).
 * @param options How ZIP answers are made.
 * @returns The running server; dispose of it to stop it.
 */
export async function startProvisionServer(
  pki: TestPki,
  options: ProvisionServerOptions = {},
): Promise<ProvisionServer> {
  const signer = await createSigner(pki);
  const useCli = options.zip === "cli" ||
    (options.zip !== "writer" && await hasZipCli());
  const endpoints = new Map<string, StoredEndpoint>();
  const tokens = new Map<string, string>();
  const requests: ProvisionRequest[] = [];
  const misbehave: Misbehaviour = {};

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const match = /^\/api\/v1\/provision\/([^/]+)$/.exec(url.pathname);
    if (request.method !== "GET" || !match) {
      return springError(404, "Not Found", "Not found", url.pathname);
    }
    const token = match[1];
    const uuid = tokens.get(token);
    if (uuid === undefined) return springError(403, "Forbidden", "Forbidden", url.pathname);
    const endpoint = endpoints.get(uuid)!;
    const publicKey = url.searchParams.get("publicKey");
    if (publicKey !== null && !misbehave.ignorePublicKey) {
      try {
        endpoint.certPem = await signer.certify(uuid, publicKey);
      } catch {
        return springError(400, "Bad Request", "Invalid public key.", url.pathname);
      }
      endpoint.keyPem = "";
    } else if (endpoint.certPem === "" || misbehave.ignorePublicKey) {
      const { keyPem, publicKeyPem } = await signer.generate();
      endpoint.certPem = await signer.certify(uuid, publicKeyPem);
      endpoint.keyPem = keyPem;
    }
    tokens.delete(token);

    const accept = request.headers.get("accept") ?? "";
    const header = misbehave.endpointHeader ?? uuid;
    if (accept.includes("application/java-archive")) {
      return springError(406, "Not Acceptable", "Not supported by the stand-in", url.pathname);
    }
    if (accept.includes("application/zip")) {
      const name = url.searchParams.get("propertiesFileName") ?? uuid;
      const files: Record<string, string> = {
        [`${name}.properties`]: javaStore({
          ...endpoint.properties,
          "ch.hevs.cloudio.endpoint.uuid": uuid,
        }),
        "ca-cert.pem": pki.caPem,
        [`${uuid}-client-cert.pem`]: endpoint.certPem,
      };
      if (endpoint.keyPem !== "") files[`${uuid}-private-key.pem`] = endpoint.keyPem;
      const archive = useCli
        ? await zipWithCli(files)
        : await writeZip(Object.entries(files).map(([name, data]) => ({ name, data })));
      return new Response(archive.slice(), {
        headers: {
          "content-type": "application/zip",
          "content-disposition": `attachment; filename="${uuid}.zip"`,
          endpoint: header,
        },
      });
    }
    const body: Record<string, unknown> = {
      endpoint: uuid,
      properties: endpoint.properties,
      caCertificate: pki.caPem,
      clientCertificate: endpoint.certPem,
    };
    if (endpoint.keyPem !== "") body.clientPrivateKey = endpoint.keyPem;
    return Response.json(body, { headers: { endpoint: header } });
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const response = await handle(request).catch((error) =>
        springError(500, "Internal Server Error", String(error), url.pathname)
      );
      const token = /^\/api\/v1\/provision\/([^/]+)$/.exec(url.pathname)?.[1] ?? "";
      requests.push({
        token,
        accept: request.headers.get("accept"),
        publicKey: url.searchParams.get("publicKey"),
        status: response.status,
      });
      return response;
    },
  );
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await server.shutdown();
      await signer.close();
    })();
    return closing;
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    misbehave,
    createEndpoint(properties = {}) {
      const uuid = crypto.randomUUID();
      endpoints.set(uuid, { properties: { ...properties }, certPem: "", keyPem: "" });
      return uuid;
    },
    createToken(uuid, customProperties = {}) {
      const endpoint = endpoints.get(uuid);
      if (!endpoint) throw new Error(`No endpoint ${uuid}`);
      Object.assign(endpoint.properties, customProperties);
      for (const [token, owner] of tokens) if (owner === uuid) tokens.delete(token);
      const token = randomToken();
      tokens.set(token, uuid);
      return token;
    },
    endpoint: (uuid) => endpoints.get(uuid),
    close,
    [Symbol.asyncDispose]: close,
  };
}
