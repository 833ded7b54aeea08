/**
 * The TLS certificate and key (`TLS_CERTIFICATE`, `TLS_PRIVATE_KEY`): read and checked at start,
 * then checked for changes every `TLS_CHECK_RELOAD_SECONDS` and given to the TLS listener without
 * a restart. A pair that cannot be used (unreadable, not PEM, a key that does not belong to the
 * certificate, an expired certificate) is refused with a warning and the one in use stays: a
 * renewal tool that writes the two files one after the other is caught between the writes, and the
 * next check loads the complete pair.
 *
 * @example
 * ```ts ignore
 * const certificate = loadCertificate(config.tls.certificateFile, config.tls.privateKeyFile);
 * const reloader = new CertificateReloader({ ...files, intervalSeconds: 60, current: certificate,
 *   apply: (next) => listener.setCertificate(next), log });
 * reloader.destroy();
 * ```
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { TlsCertificate } from "./transport/transport.ts";

/** A certificate and key that passed the checks, with the certificate's validity. */
export interface CheckedCertificate extends TlsCertificate {
  /** Subject of the first certificate of the chain. */
  subject: string;
  /** End of its validity. */
  notAfter: Date;
}

/**
 * Checks a PEM certificate chain and private key: both parse, the key belongs to the first
 * certificate, and that certificate has not expired at `now`. Throws an `Error` saying why not.
 */
export function checkCertificate(
  pair: TlsCertificate,
  now: Date | null = new Date(),
): CheckedCertificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.cert);
  } catch (error) {
    throw new Error(`the certificate is not a PEM certificate (${describe(error)})`);
  }
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    throw new Error(`the private key is not a PEM private key (${describe(error)})`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new Error("the private key does not belong to the certificate");
  }
  const notAfter = new Date(certificate.validTo);
  if (now !== null && notAfter.getTime() <= now.getTime()) {
    throw new Error(`the certificate expired on ${notAfter.toISOString()}`);
  }
  return { ...pair, subject: certificate.subject, notAfter };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads the two files; throws an `Error` naming the file that cannot be read. */
export function readCertificateFiles(certificateFile: string, keyFile: string): TlsCertificate {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${path}: ${describe(error)}`);
    }
  };
  return { cert: read(certificateFile), key: read(keyFile) };
}

/**
 * The pair to start the TLS listener with: read and checked; throws an `Error` saying why it
 * cannot be used. An expired certificate is used with an error in the log (the reloader will load
 * its renewal), rather than keeping the node down.
 */
export function startupCertificate(
  certificateFile: string,
  privateKeyFile: string,
  log: Logger,
  metrics?: Metrics,
): CheckedCertificate {
  const checked = checkCertificate(readCertificateFiles(certificateFile, privateKeyFile), null);
  if (checked.notAfter.getTime() <= Date.now()) {
    log.error(
      `the TLS certificate ${certificateFile} expired on ${checked.notAfter.toISOString()}`,
    );
  }
  metrics?.tlsCertificateExpiry.set(Math.round(checked.notAfter.getTime() / 1000));
  return checked;
}

/** How a {@linkcode CertificateReloader} is set up. */
export interface CertificateReloaderOptions {
  /** Path of the PEM certificate chain. */
  certificateFile: string;
  /** Path of the PEM private key. */
  privateKeyFile: string;
  /** Seconds between checks; 0 never checks. */
  intervalSeconds: number;
  /** The pair in use now. */
  current: TlsCertificate;
  /** Gives a new pair to the listener (it may restart; a rejection keeps the old pair). */
  apply(certificate: CheckedCertificate): Promise<void> | void;
  /** Where loads and refusals are logged. */
  log: Logger;
  /** Counters (`tls_reloads_total`, `tls_certificate_expiry_seconds`). */
  metrics?: Metrics;
}

/** What one check did. */
export type ReloadResult = "unchanged" | "loaded" | "rejected";

/** Watches the certificate files and applies changed, valid pairs. */
export class CertificateReloader {
  #options: CertificateReloaderOptions;
  #current: TlsCertificate;
  /** The last pair refused, so it is reported once, not at every check. */
  #refused: TlsCertificate | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<ReloadResult> | undefined;

  /** Starts checking every `intervalSeconds`. */
  constructor(options: CertificateReloaderOptions) {
    this.#options = options;
    this.#current = options.current;
    if (options.intervalSeconds > 0) {
      this.#timer = setInterval(() => this.check(), options.intervalSeconds * 1000);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Reads the files now and applies them if they changed and pass the checks. */
  check(): Promise<ReloadResult> {
    return this.#checking ??= this.#check().finally(() => this.#checking = undefined);
  }

  async #check(): Promise<ReloadResult> {
    const { certificateFile, privateKeyFile, log, metrics } = this.#options;
    let files: TlsCertificate;
    try {
      files = readCertificateFiles(certificateFile, privateKeyFile);
    } catch (error) {
      return this.#refuse(undefined, describe(error));
    }
    if (same(files, this.#current)) return "unchanged";
    if (this.#refused !== undefined && same(files, this.#refused)) return "rejected";
    let checked: CheckedCertificate;
    try {
      checked = checkCertificate(files);
    } catch (error) {
      return this.#refuse(files, describe(error));
    }
    try {
      await this.#options.apply(checked);
    } catch (error) {
      return this.#refuse(files, `the listener did not take it: ${describe(error)}`);
    }
    this.#current = files;
    this.#refused = undefined;
    metrics?.tlsReloads.inc({ result: "loaded" });
    metrics?.tlsCertificateExpiry.set(Math.round(checked.notAfter.getTime() / 1000));
    log.info(
      `TLS certificate reloaded: ${checked.subject}, valid until ${checked.notAfter.toISOString()}`,
    );
    return "loaded";
  }

  #refuse(files: TlsCertificate | undefined, why: string): ReloadResult {
    if (files !== undefined) this.#refused = files;
    this.#options.metrics?.tlsReloads.inc({ result: "rejected" });
    this.#options.log.warning(`TLS certificate files not loaded, the current ones stay: ${why}`);
    return "rejected";
  }

  /** Stops checking. */
  destroy(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function same(a: TlsCertificate, b: TlsCertificate): boolean {
  return a.cert === b.cert && a.key === b.key;
}
