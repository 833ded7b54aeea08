/**
 * Token checks for `PUSH` and `PULL`: HS256 with the action's secret, and, where configured, the
 * public-key algorithms of `auth_keys.ts` with the action's public keys or JWKS. The algorithm
 * in the token only picks which of the configured checks applies: a token with `alg` none, an
 * algorithm nothing is configured for, or an HS256 token signed with a public key as its secret,
 * is refused. `exp` is required and in the future, no further ahead than
 * `TOKEN_MAX_LIFETIME_SECONDS` (30 days by default; `iat` is not required: the original publisher
 * library signs only `sub` and `exp`), and `sub` equal to `<ACTION>:<stream id>`.
 *
 * @example
 * ```ts
 * import { TokenVerifier } from "./token_verifier.ts";
 * import { signToken } from "../shared/token.ts";
 * const verifier = new TokenVerifier({ pullSecret: "p", pushSecret: "q", pushAllowed: true, pullAuthDisabled: false, pushAuthDisabled: false });
 * await verifier.verify("PULL", "a", await signToken({ secret: "p", action: "PULL", stream: "a" }));
 * ```
 * @module
 */

import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from "jose";
import {
  PUBLIC_KEY_ALGORITHMS,
  PublicKeySet,
  RemoteKeySet,
  type VerificationKeys,
  verifyWithKeys,
} from "./auth_keys.ts";
import type { AuthConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import { signToken, type TokenAction, tokenSubject } from "../shared/token.ts";

/** The HS256 verification key of a secret (none for an empty secret). */
function hmacKey(secret: string): Promise<CryptoKey> | undefined {
  if (secret === "") return undefined;
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "verify",
    ],
  );
}

/** The public keys of one action: a PEM file, a JWKS URL, both (tried in that order), or none. */
function publicKeys(
  file: string | undefined,
  url: string | undefined,
  config: AuthConfig,
  options: TokenVerifierOptions,
): Promise<VerificationKeys> | undefined {
  if (!file && !url) return undefined;
  return (async () => {
    let fromFile: VerificationKeys | undefined;
    if (file) {
      try {
        fromFile = PublicKeySet.fromPem(await Deno.readTextFile(file));
      } catch (error) {
        throw new Error(`${file}: ${error instanceof Error ? error.message : error}`);
      }
    }
    if (!url) return fromFile!;
    const remote = new RemoteKeySet({
      url,
      timeoutMs: (config.jwksTimeoutSeconds ?? 5) * 1000,
      cacheMs: (config.jwksCacheSeconds ?? 600) * 1000,
      log: options.log,
      metrics: options.metrics,
    });
    await remote.refresh();
    if (fromFile === undefined) return remote;
    return bothKeySets(fromFile, remote);
  })();
}

/** The `alg` of a token's header; a token whose header cannot be read is malformed. */
function headerAlgorithm(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    throw new errors.JWTInvalid("malformed header");
  }
}

/** Looks a key up in `first`, then in `second` when `first` has none for the token. */
function bothKeySets(first: VerificationKeys, second: VerificationKeys): VerificationKeys {
  return {
    getKey: async (header, token) => {
      try {
        return await first.getKey(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        return await second.getKey(header, token);
      }
    },
  };
}

/** Turns jose's errors into the reason a client is told; `allowed` lists the algorithms. */
function reason(error: unknown, allowed: string): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "the token signature is not valid";
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return "no key of this node matches the token (kid or algorithm)";
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `the token algorithm is not allowed (${allowed} only)`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "sub") return "the token is for another action or stream";
    return `the token claim '${error.claim}' is not valid`;
  }
  if (error instanceof errors.JOSEError) return "the token is malformed";
  return "the token could not be checked";
}

/** Where a verifier reports key fetches (both optional). */
export interface TokenVerifierOptions {
  /** Log of JWKS fetch failures. */
  log?: Logger;
  /** Counters (`jwks_fetches_total`). */
  metrics?: Metrics;
}

/** Checks tokens against the node's secrets and public keys, and signs its relays' pull tokens. */
export class TokenVerifier {
  #config: AuthConfig;
  #keys: Record<TokenAction, Promise<CryptoKey> | undefined>;
  #publicKeys: Record<TokenAction, Promise<VerificationKeys> | undefined>;
  #ready: Promise<void>;

  /** Creates a verifier for the node's auth configuration (public key files are read now). */
  constructor(config: AuthConfig, options: TokenVerifierOptions = {}) {
    this.#config = config;
    // Imported once: a key per check would cost every connection a Web Crypto import.
    this.#keys = { PUSH: hmacKey(config.pushSecret), PULL: hmacKey(config.pullSecret) };
    this.#publicKeys = {
      PUSH: publicKeys(config.pushPublicKeyFile, config.pushJwksUrl, config, options),
      PULL: publicKeys(config.pullPublicKeyFile, config.pullJwksUrl, config, options),
    };
    this.#ready = Promise.all(Object.values(this.#publicKeys)).then(() => {});
    this.#ready.catch(() => {});
  }

  /**
   * Resolves once public key files are read and remote key sets were fetched once (a fetch that
   * fails is retried when a token needs it); rejects with the reason when a key file is bad.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Whether this action needs no valid token (explicit `*_AUTH_DISABLED` opt-out, no key at all). */
  #disabled(action: TokenAction): boolean {
    if (this.#publicKeys[action] !== undefined) return false;
    return action === "PUSH"
      ? this.#config.pushAuthDisabled && this.#config.pushSecret === ""
      : this.#config.pullAuthDisabled && this.#config.pullSecret === "";
  }

  /** The algorithms accepted for an action, for messages. */
  #allowed(action: TokenAction): string {
    const names = this.#keys[action] !== undefined ? ["HS256"] : [];
    if (this.#publicKeys[action] !== undefined) names.push(...PUBLIC_KEY_ALGORITHMS);
    return names.join(", ");
  }

  /** Resolves when `token` allows `action` on `stream`; otherwise throws `AUTH_FAILED` with the reason. */
  async verify(action: TokenAction, stream: string, token: string): Promise<void> {
    if (this.#disabled(action)) return;
    if (token === "") {
      throw new ProtocolError(ErrorCode.AUTH_FAILED, "a token is required (auth parameter)");
    }
    const claims = { subject: tokenSubject(action, stream), requiredClaims: ["exp", "sub"] };
    try {
      const algorithm = headerAlgorithm(token);
      const secret = this.#keys[action];
      const keys = this.#publicKeys[action];
      if (algorithm === "HS256" && secret !== undefined) {
        await jwtVerify(token, await secret, { ...claims, algorithms: ["HS256"] });
      } else if (keys !== undefined && PUBLIC_KEY_ALGORITHMS.includes(algorithm ?? "")) {
        await verifyWithKeys(token, await keys, { ...claims, algorithms: PUBLIC_KEY_ALGORITHMS });
      } else {
        throw new errors.JOSEAlgNotAllowed(`"${algorithm}" is not allowed`);
      }
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(ErrorCode.AUTH_FAILED, reason(error, this.#allowed(action)));
    }
    this.#checkLifetime(token);
  }

  /** Refuses a (valid) token whose `exp` lies further ahead than `TOKEN_MAX_LIFETIME_SECONDS`. */
  #checkLifetime(token: string): void {
    const max = this.#config.tokenMaxLifetimeSeconds ?? 30 * 86400;
    if (max === 0) return;
    const left = (decodeJwt(token).exp ?? 0) - Date.now() / 1000;
    if (left > max) {
      throw new ProtocolError(
        ErrorCode.AUTH_FAILED,
        `the token expires more than ${max} s from now (TOKEN_MAX_LIFETIME_SECONDS)`,
      );
    }
  }

  /** A pull token for a relay of this node (empty when pull auth is disabled). */
  signPull(stream: string): Promise<string> {
    if (this.#config.pullSecret === "") return Promise.resolve("");
    return signToken({
      secret: this.#config.pullSecret,
      action: "PULL",
      stream,
      lifetimeSeconds: 300,
    });
  }
}
