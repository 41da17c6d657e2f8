/**
 * Just enough DER to check provisioned credentials: the subject CN and public key of an X.509
 * certificate, and the public half kept inside a private key, so that a certificate that does not
 * name the endpoint, or a key that does not belong to it, is refused before anything is installed.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** One DER element: its tag and where its content lies in the buffer. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  content: number;
  /** Offset just past the content. */
  end: number;
}

/** Malformed DER; callers turn it into a `ConfigError` naming the field. */
export class DerError extends Error {
  /**
   * Creates a DER error.
   *
   * @param message What is malformed.
   */
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/**
 * Reads the element at `offset`, which must end at or before `limit`.
 *
 * @param bytes The buffer.
 * @param offset Where the element starts.
 * @param limit Where the enclosing content ends.
 * @returns The element.
 * @throws {DerError} When the element is truncated, uses a multi-byte tag or an indefinite length.
 */
export function readTlv(bytes: Uint8Array, offset: number, limit: number = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError("truncated element");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not supported");
  let length = bytes[offset + 1];
  let content = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError("unsupported length encoding");
    if (content + count > limit) throw new DerError("truncated length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[content + i];
    content += count;
  }
  const end = content + length;
  if (end > limit) throw new DerError("truncated content");
  return { tag, start: offset, content, end };
}

/**
 * Reads the elements inside a constructed element.
 *
 * @param bytes The buffer.
 * @param parent The constructed element.
 * @returns Its children, in order.
 * @throws {DerError} When a child is malformed.
 */
export function childrenOf(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const result: Tlv[] = [];
  let offset = parent.content;
  while (offset < parent.end) {
    const child = readTlv(bytes, offset, parent.end);
    result.push(child);
    offset = child.end;
  }
  return result;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;

function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv === undefined || tlv.tag !== tag) throw new DerError(`${what} is missing`);
  return tlv;
}

/** The dotted form of an OBJECT IDENTIFIER's content. */
function oidText(bytes: Uint8Array, tlv: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.content; i < tlv.end; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if ((bytes[i] & 0x80) === 0) {
      if (parts.length > 0) parts.push(value);
      else if (value < 80) parts.push(Math.floor(value / 40), value % 40);
      else parts.push(2, value - 80);
      value = 0;
    }
  }
  if (parts.length === 0) throw new DerError("empty object identifier");
  return parts.join(".");
}

/** An INTEGER's magnitude without leading zero bytes, as hex. */
function integerHex(bytes: Uint8Array, tlv: Tlv): string {
  let start = tlv.content;
  while (start < tlv.end - 1 && bytes[start] === 0) start++;
  return hex(bytes.subarray(start, tlv.end));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function decodeString(bytes: Uint8Array, tlv: Tlv): string {
  const raw = bytes.subarray(tlv.content, tlv.end);
  if (tlv.tag === 0x1e) {
    // BMPString: UTF-16 big-endian.
    let text = "";
    for (let i = 0; i + 1 < raw.length; i += 2) {
      text += String.fromCharCode(raw[i] * 256 + raw[i + 1]);
    }
    return text;
  }
  return new TextDecoder().decode(raw);
}

/** A public key, reduced to what tells two keys apart. */
export interface PublicKeyInfo {
  /** `rsa`, `ec`, or the algorithm's OID. */
  kind: string;
  /** For `rsa`: modulus and exponent in hex; otherwise the key bytes (EC point, Ed25519 key). */
  value: string;
  /** For `ec`: the curve's OID, when known. */
  curve?: string;
}

const RSA_OIDS = new Set(["1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"]);
const EC_OID = "1.2.840.10045.2.1";

function rsaPublic(bytes: Uint8Array, sequence: Tlv, what: string): PublicKeyInfo {
  const [n, e] = childrenOf(bytes, expect(sequence, SEQUENCE, what));
  return {
    kind: "rsa",
    value: `${integerHex(bytes, expect(n, INTEGER, "modulus"))}:${
      integerHex(bytes, expect(e, INTEGER, "exponent"))
    }`,
  };
}

/**
 * Reads a SubjectPublicKeyInfo.
 *
 * @param bytes The buffer.
 * @param spki The SubjectPublicKeyInfo element.
 * @returns The key.
 * @throws {DerError} When it is malformed.
 */
export function readSpki(bytes: Uint8Array, spki: Tlv): PublicKeyInfo {
  const [algorithm, key] = childrenOf(bytes, expect(spki, SEQUENCE, "subjectPublicKeyInfo"));
  const [oid, parameters] = childrenOf(bytes, expect(algorithm, SEQUENCE, "key algorithm"));
  const kind = oidText(bytes, expect(oid, OID, "key algorithm"));
  const bits = expect(key, BIT_STRING, "public key");
  const content = bits.content + 1; // Skip the count of unused bits.
  if (RSA_OIDS.has(kind)) {
    const inner = readTlv(bytes, content, bits.end);
    return rsaPublic(bytes, inner, "RSA public key");
  }
  const value = hex(bytes.subarray(content, bits.end));
  if (kind === EC_OID) {
    const curve = parameters?.tag === OID ? oidText(bytes, parameters) : undefined;
    return curve === undefined ? { kind: "ec", value } : { kind: "ec", value, curve };
  }
  return { kind, value };
}

/** What the checks need from a certificate. */
export interface CertificateInfo {
  /** The first common name of the subject, if it has one. */
  commonName?: string;
  /** The certified public key. */
  publicKey: PublicKeyInfo;
}

/**
 * Reads the subject CN and the public key of a DER X.509 certificate.
 *
 * @param der The certificate.
 * @returns Its CN and public key.
 * @throws {DerError} When it is not a well-formed certificate.
 */
export function readCertificate(der: Uint8Array): CertificateInfo {
  const certificate = readTlv(der, 0);
  if (certificate.tag !== SEQUENCE || certificate.end !== der.length) {
    throw new DerError("not a single DER SEQUENCE");
  }
  const [tbs, signatureAlgorithm, signature] = childrenOf(der, certificate);
  expect(signatureAlgorithm, SEQUENCE, "signature algorithm");
  expect(signature, BIT_STRING, "signature");
  const fields = childrenOf(der, expect(tbs, SEQUENCE, "tbsCertificate"));
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  expect(fields[i++], INTEGER, "serial number");
  expect(fields[i++], SEQUENCE, "signature algorithm");
  expect(fields[i++], SEQUENCE, "issuer");
  expect(fields[i++], SEQUENCE, "validity");
  const subject = expect(fields[i++], SEQUENCE, "subject");
  const publicKey = readSpki(der, expect(fields[i++], SEQUENCE, "subjectPublicKeyInfo"));
  let commonName: string | undefined;
  for (const rdn of childrenOf(der, subject)) {
    for (const attribute of childrenOf(der, expect(rdn, SET, "relative distinguished name"))) {
      const [type, value] = childrenOf(der, expect(attribute, SEQUENCE, "attribute"));
      if (
        commonName === undefined && oidText(der, expect(type, OID, "attribute type")) === "2.5.4.3"
      ) {
        if (value === undefined) throw new DerError("common name has no value");
        commonName = decodeString(der, value);
      }
    }
  }
  return commonName === undefined ? { publicKey } : { commonName, publicKey };
}

/** The public half of an ECPrivateKey (SEC 1), when it carries one. */
function ecPublic(bytes: Uint8Array, sequence: Tlv, curve?: string): PublicKeyInfo | undefined {
  const fields = childrenOf(bytes, expect(sequence, SEQUENCE, "EC private key"));
  expect(fields[0], INTEGER, "EC private key version");
  expect(fields[1], OCTET_STRING, "EC private key");
  let named = curve;
  let value: string | undefined;
  for (const field of fields.slice(2)) {
    if (field.tag === 0xa0) {
      const oid = readTlv(bytes, field.content, field.end);
      if (oid.tag === OID) named ??= oidText(bytes, oid);
    } else if (field.tag === 0xa1) {
      const bits = expect(readTlv(bytes, field.content, field.end), BIT_STRING, "EC public key");
      value = hex(bytes.subarray(bits.content + 1, bits.end));
    }
  }
  if (value === undefined) return undefined;
  return named === undefined ? { kind: "ec", value } : { kind: "ec", value, curve: named };
}

/**
 * Reads the public half that a private key carries: the modulus and exponent of an RSA key, the
 * point of an EC key when it is included, the public key of a PKCS#8 v2 (OneAsymmetricKey).
 *
 * @param der The key's DER.
 * @param label The PEM label: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
 * `EC PRIVATE KEY` (SEC 1).
 * @returns The public key, or `undefined` when the private key does not carry it.
 * @throws {DerError} When the key is malformed.
 */
export function readPrivateKeyPublicHalf(
  der: Uint8Array,
  label: string,
): PublicKeyInfo | undefined {
  const top = readTlv(der, 0);
  if (top.tag !== SEQUENCE || top.end !== der.length) {
    throw new DerError("not a single DER SEQUENCE");
  }
  if (label === "RSA PRIVATE KEY") return rsaPrivatePublic(der, top);
  if (label === "EC PRIVATE KEY") return ecPublic(der, top);
  const fields = childrenOf(der, top);
  expect(fields[0], INTEGER, "version");
  const [oid, parameters] = childrenOf(der, expect(fields[1], SEQUENCE, "key algorithm"));
  const kind = oidText(der, expect(oid, OID, "key algorithm"));
  const privateKey = expect(fields[2], OCTET_STRING, "private key");
  if (RSA_OIDS.has(kind)) {
    return rsaPrivatePublic(der, readTlv(der, privateKey.content, privateKey.end));
  }
  if (kind === EC_OID) {
    const curve = parameters?.tag === OID ? oidText(der, parameters) : undefined;
    return ecPublic(der, readTlv(der, privateKey.content, privateKey.end), curve);
  }
  const publicKey = fields.slice(3).find((field) => field.tag === 0x81 || field.tag === 0xa1);
  if (publicKey === undefined) return undefined;
  // [1] IMPLICIT BIT STRING: the first content byte counts the unused bits.
  const start = publicKey.tag === 0x81
    ? publicKey.content + 1
    : readTlv(der, publicKey.content, publicKey.end).content + 1;
  return { kind, value: hex(der.subarray(start, publicKey.end)) };
}

function rsaPrivatePublic(bytes: Uint8Array, sequence: Tlv): PublicKeyInfo {
  const [version, n, e] = childrenOf(bytes, expect(sequence, SEQUENCE, "RSA private key"));
  expect(version, INTEGER, "RSA private key version");
  return {
    kind: "rsa",
    value: `${integerHex(bytes, expect(n, INTEGER, "modulus"))}:${
      integerHex(bytes, expect(e, INTEGER, "exponent"))
    }`,
  };
}

/**
 * Tells whether two public keys are the same key. EC keys on named curves that differ never
 * match; a curve that one side does not name is not compared.
 *
 * @param a One key.
 * @param b The other.
 * @returns Whether they are the same.
 */
export function samePublicKey(a: PublicKeyInfo, b: PublicKeyInfo): boolean {
  if (a.kind !== b.kind || a.value !== b.value) return false;
  return a.curve === undefined || b.curve === undefined || a.curve === b.curve;
}
