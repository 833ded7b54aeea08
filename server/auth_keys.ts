/**
 * Public keys that check tokens signed by a backend with its private key (`PULL_PUBLIC_KEY_FILE`,
 * `PUSH_PUBLIC_KEY_FILE`, `PULL_JWKS_URL`, `PUSH_JWKS_URL`), so that no node holds a secret that
 * can make tokens. Both kinds become one JSON Web Key Set that `jose` searches by `kid`,
 * algorithm and curve, trying each candidate when several match (a PEM file has no `kid`).
 *
 * A remote set is fetched with a deadline (`JWKS_TIMEOUT_SECONDS`) and kept for
 * `JWKS_CACHE_SECONDS`; a token with a `kid` the set does not have makes it fetch again, at most
 * once every 30 s, so unknown `kid`s cannot make the node hammer the URL. When a fetch fails, the
 * last good set stays in use.
 *
 * @example
 * ```ts ignore
 * const keys = await PublicKeySet.fromPem(await Deno.readTextFile("backend.pub"));
 * await jwtVerify(token, keys.getKey, { algorithms: [...PUBLIC_KEY_ALGORITHMS] });
 * ```
 * @module
 */

import { createPublicKey, X509Certificate } from "node:crypto";
import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  jwtVerify,
  type JWTVerifyOptions,
} from "jose";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

/** Algorithms a token checked with a public key may use (never `HS*`, never `none`). */
export const PUBLIC_KEY_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519"];

/** The key lookup `jwtVerify` calls. */
export type KeyLookup = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => ReturnType<ReturnType<typeof createLocalJWKSet>>;

/** Something that finds the public key of a token. */
export interface VerificationKeys {
  /** The lookup to give `jwtVerify`. */
  readonly getKey: KeyLookup;
}

/**
 * Verifies a JWT with a key set. When several keys match the token (keys without `kid`), each is
 * tried in turn; the token passes if one of them verifies its signature.
 */
export async function verifyWithKeys(
  token: string,
  keys: VerificationKeys,
  options: JWTVerifyOptions,
): Promise<void> {
  try {
    await jwtVerify(token, keys.getKey, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let last: unknown = new errors.JWSSignatureVerificationFailed();
    for await (const key of error) {
      try {
        await jwtVerify(token, key, options);
        return;
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
        last = attempt;
      }
    }
    throw last;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** Turns every public key or certificate of a PEM text into a JWK (private keys are refused). */
export function pemToJwks(pem: string): JWK[] {
  const keys: JWK[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const [block, label] = match;
    if (label.includes("PRIVATE")) {
      throw new RangeError("the file holds a private key: give the node the public key only");
    }
    let key;
    try {
      key = label === "CERTIFICATE"
        ? new X509Certificate(block).publicKey
        : createPublicKey({ key: block, format: "pem" });
    } catch (error) {
      throw new RangeError(
        `cannot read a ${label}: ${error instanceof Error ? error.message : error}`,
      );
    }
    const jwk = key.export({ format: "jwk" }) as JWK;
    if (jwk.kty !== "RSA" && jwk.kty !== "EC" && jwk.kty !== "OKP") {
      throw new RangeError(`unsupported key type ${jwk.kty}`);
    }
    keys.push(jwk);
  }
  if (keys.length === 0) throw new RangeError("no PEM public key or certificate found");
  return keys;
}

/** A fixed set of public keys (from a PEM file). */
export class PublicKeySet implements VerificationKeys {
  readonly getKey: KeyLookup;

  /** Wraps JWKs. */
  constructor(keys: JWK[]) {
    this.getKey = createLocalJWKSet({ keys });
  }

  /** The keys of a PEM text (one or more public keys or certificates). */
  static fromPem(pem: string): PublicKeySet {
    return new PublicKeySet(pemToJwks(pem));
  }
}

/** How a {@linkcode RemoteKeySet} is set up. */
export interface RemoteKeySetOptions {
  /** The JWKS URL. */
  url: string;
  /** Longest wait for one fetch, ms. @default 5000 */
  timeoutMs?: number;
  /** How long a fetched set is used before it is fetched again, ms. @default 600000 */
  cacheMs?: number;
  /** Shortest time between two fetches caused by unknown keys, ms. @default 30000 */
  cooldownMs?: number;
  /** Where fetch failures are logged. */
  log?: Logger;
  /** Where fetches are counted (`jwks_fetches_total`). */
  metrics?: Metrics;
}

/** Keys fetched from a JWKS URL, cached, refetched on an unknown key (with a cooldown). */
export class RemoteKeySet implements VerificationKeys {
  readonly getKey: KeyLookup;
  #options: Required<Omit<RemoteKeySetOptions, "log" | "metrics">> & RemoteKeySetOptions;
  #lookup: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = -Infinity;
  #attemptedAt = -Infinity;
  /** When a token with an unknown key last made the set be fetched. */
  #missFetchedAt = -Infinity;
  #inFlight: Promise<void> | undefined;

  /** Creates the set; nothing is fetched until a token needs it (or `refresh` is called). */
  constructor(options: RemoteKeySetOptions) {
    this.#options = { timeoutMs: 5000, cacheMs: 600_000, cooldownMs: 30_000, ...options };
    this.getKey = async (header, token) => {
      const now = performance.now();
      // Stale: fetch again, but while the URL fails, at most once per cooldown.
      if (
        now - this.#fetchedAt > this.#options.cacheMs &&
        now - this.#attemptedAt >= this.#options.cooldownMs
      ) {
        await this.#refresh();
      }
      const lookup = this.#current();
      try {
        return await lookup(header, token);
      } catch (error) {
        const unknownKey = error instanceof errors.JWKSNoMatchingKey;
        if (!unknownKey || performance.now() - this.#missFetchedAt < this.#options.cooldownMs) {
          throw error;
        }
        this.#missFetchedAt = performance.now();
        await this.#refresh();
        return await this.#current()(header, token);
      }
    };
  }

  /** Whether a key set was fetched at least once. */
  get loaded(): boolean {
    return this.#lookup !== undefined;
  }

  #current(): ReturnType<typeof createLocalJWKSet> {
    if (this.#lookup === undefined) {
      throw new ProtocolError(
        ErrorCode.INTERNAL_ERROR,
        "the keys that check tokens could not be fetched; retry later",
      );
    }
    return this.#lookup;
  }

  /** Fetches the set now (one fetch at a time); a failure keeps the last good set. */
  refresh(): Promise<void> {
    return this.#refresh();
  }

  #refresh(): Promise<void> {
    return this.#inFlight ??= this.#fetch().finally(() => this.#inFlight = undefined);
  }

  async #fetch(): Promise<void> {
    const { url, timeoutMs, log, metrics } = this.#options;
    this.#attemptedAt = performance.now();
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: "application/json, application/jwk-set+json" },
        redirect: "error",
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      const set = await response.json() as JSONWebKeySet;
      if (!Array.isArray(set?.keys)) throw new Error("no keys array");
      this.#lookup = createLocalJWKSet(set);
      this.#fetchedAt = performance.now();
      metrics?.jwksFetches.inc({ result: "ok" });
    } catch (error) {
      metrics?.jwksFetches.inc({ result: "error" });
      const reason = error instanceof Error ? error.message : String(error);
      log?.warning(
        `cannot fetch the key set ${url}: ${reason}${
          this.#lookup ? "; the last one stays in use" : ""
        }`,
      );
    }
  }
}
