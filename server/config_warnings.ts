/**
 * What a node says about its configuration at every start, as warnings: settings that work but
 * leave it open. Nothing here stops a node (existing deployments share these settings with their
 * publishers and other nodes); each line names the variable and what to do.
 *
 * - `PUSH_SECRET` or `PULL_SECRET` shorter than 32 bytes: an HS256 token and its claims are
 *   enough to try secrets offline, and a short one falls to that.
 * - The publish registry without `PUB_REG_ALLOWED_HOSTS`: the node follows every entry, so
 *   whoever can write to Redis can point its relays anywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * import { configWarnings } from "./config_warnings.ts";
 * const warnings = configWarnings(parseConfig({ PULL_SECRET: "short", PUSH_SECRET: "x".repeat(32) }));
 * assert(warnings.length === 1 && warnings[0].startsWith("PULL_SECRET is shorter than 32 bytes"));
 * ```
 * @module
 */

import type { NodeConfig } from "./config.ts";

/** Shortest HS256 secret that offline guessing cannot reach (the hash's own size). */
export const MIN_SECRET_BYTES = 32;

/** The warnings a node logs at start for this configuration (empty when there are none). */
export function configWarnings(config: NodeConfig): string[] {
  const warnings: string[] = [];
  const secrets: [string, string][] = [["PULL_SECRET", config.auth.pullSecret]];
  if (config.auth.pushAllowed) secrets.push(["PUSH_SECRET", config.auth.pushSecret]);
  for (const [name, secret] of secrets) {
    const bytes = new TextEncoder().encode(secret).byteLength;
    if (bytes > 0 && bytes < MIN_SECRET_BYTES) {
      warnings.push(
        `${name} is shorter than ${MIN_SECRET_BYTES} bytes (${bytes}): tokens signed with it can ` +
          `be guessed offline; use ${MIN_SECRET_BYTES} random bytes or more ` +
          "(openssl rand -base64 48), and give the new secret to the publishers or backend too",
      );
    }
  }
  if (config.registry.enabled && config.registry.allowedHosts.length === 0) {
    warnings.push(
      "PUB_REG_ALLOWED_HOSTS is not set: this node trusts every registry entry (whoever can " +
        "write to Redis can point its relays at any host); list your nodes' hosts or ranges",
    );
  }
  return warnings;
}
