/**
 * Token checks for `PUSH` and `PULL`: HS256 only (a token with `alg` none or any other algorithm is
 * refused), `exp` required and in the future, `sub` equal to `<ACTION>:<stream id>`.
 *
 * @example
 * ```ts
 * import { TokenVerifier } from "./auth.ts";
 * import { signToken } from "../shared/token.ts";
 * const verifier = new TokenVerifier({ pullSecret: "p", pushSecret: "q", pushAllowed: true, pullAuthDisabled: false, pushAuthDisabled: false });
 * await verifier.verify("PULL", "a", await signToken({ secret: "p", action: "PULL", stream: "a" }));
 * ```
 * @module
 */

import { errors, jwtVerify } from "jose";
import type { AuthConfig } from "./config.ts";
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

/** Turns jose's errors into the reason a client is told. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "the token signature is not valid";
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return "the token algorithm is not allowed (HS256 only)";
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "sub") return "the token is for another action or stream";
    return `the token claim '${error.claim}' is not valid`;
  }
  if (error instanceof errors.JOSEError) return "the token is malformed";
  return "the token could not be checked";
}

/** Checks tokens against the node's secrets, and signs the pull tokens of its relays. */
export class TokenVerifier {
  #config: AuthConfig;
  #keys: Record<TokenAction, Promise<CryptoKey> | undefined>;

  /** Creates a verifier for the node's auth configuration. */
  constructor(config: AuthConfig) {
    this.#config = config;
    // Imported once: a key per check would cost every connection a Web Crypto import.
    this.#keys = { PUSH: hmacKey(config.pushSecret), PULL: hmacKey(config.pullSecret) };
  }

  /** Whether this action needs no valid token (explicit `*_AUTH_DISABLED` opt-out with an empty secret). */
  #disabled(action: TokenAction): boolean {
    return action === "PUSH"
      ? this.#config.pushAuthDisabled && this.#config.pushSecret === ""
      : this.#config.pullAuthDisabled && this.#config.pullSecret === "";
  }

  /** Resolves when `token` allows `action` on `stream`; otherwise throws `AUTH_FAILED` with the reason. */
  async verify(action: TokenAction, stream: string, token: string): Promise<void> {
    if (this.#disabled(action)) return;
    if (token === "") {
      throw new ProtocolError(ErrorCode.AUTH_FAILED, "a token is required (auth parameter)");
    }
    try {
      await jwtVerify(token, (await this.#keys[action])!, {
        algorithms: ["HS256"],
        subject: tokenSubject(action, stream),
        requiredClaims: ["exp", "sub"],
      });
    } catch (error) {
      throw new ProtocolError(ErrorCode.AUTH_FAILED, reason(error));
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
