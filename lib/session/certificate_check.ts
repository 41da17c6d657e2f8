/**
 * Certificate inspection: on every connection attempt the credentials are asked for again (renewed
 * files are used at the next reconnect), and the client certificate is checked against the
 * endpoint's UUID and its expiry reported ahead of time.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { EndpointSettings } from "../config/settings.ts";
import { type CloudioError, ConfigError } from "../errors.ts";
import type { CredentialsProvider } from "../platform.ts";
import type { EndpointStatus } from "../status.ts";
import type { CertificateInfo, CertificateReader } from "../tls/certificate.ts";
import { readCertificate } from "../tls/x509.ts";

/** What {@linkcode inspectCredentials} needs. */
export interface InspectOptions {
  /** The endpoint's settings: its UUID and where its certificate comes from. */
  settings: EndpointSettings;
  /** The clock, in ms. */
  now(): number;
  /**
   * How long before the certificate expires a warning is given, in ms.
   *
   * @default {2592000000}
   */
  warnAhead?: number;
  /** Told of each warning once. */
  report(error: CloudioError): void;
  /** Told of the certificate on every attempt. */
  emit(event: EndpointStatus): void;
  /**
   * Reads the client certificate: the platform's reader (`Platform.readCertificate`), where it
   * has one.
   *
   * @default {readCertificate} the small DER reader of `x509.ts`
   */
  readCertificate?: CertificateReader;
}

const DAY = 86_400_000;

/**
 * Wraps a credentials provider so that every certificate it hands out is checked.
 *
 * @param provider The provider.
 * @param options The settings, the clock and where warnings go.
 * @returns A provider that throws a `ConfigError` for a certificate that is not the endpoint's.
 */
export function inspectCredentials(
  provider: CredentialsProvider,
  options: InspectOptions,
): CredentialsProvider {
  const { settings, readCertificate: read = readCertificate } = options;
  const where = { key: "ssl.clientCert", path: settings.clientCert };
  const warned = new Set<string>();
  const warn = (text: string) => {
    if (warned.has(text)) return;
    warned.add(text);
    options.report(new ConfigError(text, where));
  };
  return async () => {
    const credentials = await provider();
    for (const warning of credentials.warnings ?? []) warn(warning);
    if (!credentials.cert) return credentials;
    let info: CertificateInfo;
    try {
      info = await read(credentials.cert);
    } catch (cause) {
      throw new ConfigError(`Cannot read the client certificate: ${(cause as Error).message}`, {
        ...where,
        cause,
      });
    }
    checkCommonName(info.commonName, settings.uuid, where);
    const now = options.now();
    const expiresIn = info.notAfter - now;
    options.emit({
      type: "certificate",
      commonName: info.commonName,
      notAfter: info.notAfter,
      expiresIn,
    });
    const notAfter = new Date(info.notAfter).toISOString();
    if (expiresIn <= 0) {
      warn(`The client certificate expired on ${notAfter}: renew it`);
    } else if (expiresIn < (options.warnAhead ?? 30 * DAY)) {
      warn(
        `The client certificate expires in ${
          Math.floor(expiresIn / DAY)
        } days (${notAfter}): renew it`,
      );
    }
    if (info.notBefore > now) {
      warn(
        `The client certificate is not valid before ${
          new Date(info.notBefore).toISOString()
        } (is this device's clock right?)`,
      );
    }
    return credentials;
  };
}

// cloud.iO takes the certificate's CN as the endpoint: the broker's user name, which its ACL
// matches topics against, and the cloud writes it in lower case.
function checkCommonName(
  commonName: string | undefined,
  uuid: string,
  where: { key: string; path?: string },
): void {
  if (commonName === undefined || commonName === uuid) return;
  if (commonName.toLowerCase() === uuid) {
    throw new ConfigError(
      `The client certificate's CN "${commonName}" is not the lower-case UUID ${uuid} the cloud ` +
        `issues and writes in every topic: the broker would check the endpoint's topics against ` +
        `"${commonName}" and refuse them; use a certificate for ${uuid}`,
      where,
    );
  }
  throw new ConfigError(
    `The client certificate is for "${commonName}", not for this endpoint ${uuid}: ` +
      "cloud.iO takes the certificate's CN as the endpoint",
    where,
  );
}
