/**
 * The allow-list of page origins (`ALLOWED_ORIGINS`), checked on the `Origin` header of a
 * WebSocket upgrade. Browsers always send `Origin` with a WebSocket; encoders, relays and other
 * non-browser clients usually send none and are allowed (the header proves nothing for them: any
 * program can write it). So the list keeps other web sites from embedding a node's streams in
 * their pages; tokens are what keep everyone else out.
 *
 * Entries are origins (`https://watch.example.com`, `http://localhost:8080`), a wildcard for
 * subdomains (`https://*.example.com`, which does not hold `https://example.com` itself), or
 * `null` for pages with an opaque origin (`file://`, sandboxed frames). An empty list allows every
 * origin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OriginPolicy } from "./origin_policy.ts";
 * const policy = new OriginPolicy(["https://watch.example.com", "https://*.example.org"]);
 * assert(policy.allows("https://watch.example.com"));
 * assert(policy.allows("https://a.b.example.org") && !policy.allows("https://example.org"));
 * assert(!policy.allows("https://evil.example") && policy.allows(null));
 * ```
 * @module
 */

interface Pattern {
  scheme: string;
  /** Host suffix for a wildcard (`.example.com`), or the exact host. */
  host: string;
  wildcard: boolean;
  port: string;
}

/** Normalizes an origin (scheme and host in lower case, default port dropped); null if not one. */
function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.origin === "null" ? null : url.origin;
  } catch {
    return null;
  }
}

function parsePattern(entry: string): Pattern {
  const match = /^([a-z][a-z0-9+.-]*):\/\/\*\.([^/:]+)(?::(\d+))?\/?$/i.exec(entry);
  if (match === null) throw new RangeError(`not an origin: ${entry}`);
  const sample = normalizeOrigin(
    `${match[1]}://wildcard.${match[2]}${match[3] ? `:${match[3]}` : ""}`,
  );
  if (sample === null) throw new RangeError(`not an origin: ${entry}`);
  const url = new URL(sample);
  return {
    scheme: url.protocol,
    host: url.hostname.slice("wildcard".length),
    wildcard: true,
    port: url.port,
  };
}

/** Which page origins may open WebSocket connections. */
export class OriginPolicy {
  #exact = new Set<string>();
  #patterns: Pattern[] = [];
  #allowNull = false;
  #open: boolean;

  /** Parses the entries; throws a `RangeError` naming the first one that is not an origin. */
  constructor(entries: readonly string[]) {
    this.#open = entries.length === 0;
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry === "null") this.#allowNull = true;
      else if (entry.includes("*")) this.#patterns.push(parsePattern(entry));
      else {
        const origin = normalizeOrigin(entry);
        if (origin === null || new URL(entry).pathname.length > 1) {
          throw new RangeError(`not an origin: ${entry}`);
        }
        this.#exact.add(origin);
      }
    }
  }

  /** Whether every origin is allowed (the list is empty). */
  get open(): boolean {
    return this.#open;
  }

  /** Whether a connection with this `Origin` header (null or undefined when absent) may connect. */
  allows(origin: string | null | undefined): boolean {
    if (this.#open || origin === null || origin === undefined || origin === "") return true;
    if (origin.trim().toLowerCase() === "null") return this.#allowNull;
    const normalized = normalizeOrigin(origin.trim());
    if (normalized === null) return false;
    if (this.#exact.has(normalized)) return true;
    const url = new URL(normalized);
    return this.#patterns.some((pattern) =>
      pattern.scheme === url.protocol && pattern.port === url.port &&
      url.hostname.endsWith(pattern.host) && url.hostname.length > pattern.host.length
    );
  }
}
