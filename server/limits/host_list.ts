/**
 * A list of hosts a node may connect to (`PUB_REG_ALLOWED_HOSTS`): host names (`node-1.cdn.example`,
 * or `*.cdn.example` for the names below it), IP addresses and CIDR ranges (`10.0.0.0/8`,
 * `2001:db8::/32`), each optionally with a port (`node-1.cdn.example:8080`, `10.0.0.7:80`,
 * `[2001:db8::7]:443`). A URL matches when its host matches an entry and, where the entry names a
 * port, its port (the scheme's default when the URL has none) is that port. Names are compared as
 * written: no DNS lookup, so a CIDR range matches only URLs whose host is an IP address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostList } from "./host_list.ts";
 * const list = new HostList(["10.0.0.0/8", "*.cdn.example", "origin.example:8080"]);
 * assert(list.allows(new URL("ws://10.1.2.3:8080/")));
 * assert(list.allows(new URL("wss://edge-4.cdn.example/")));
 * assert(list.allows(new URL("ws://origin.example:8080/")) && !list.allows(new URL("ws://origin.example/")));
 * assert(!list.allows(new URL("ws://127.0.0.1:8080/")));
 * ```
 * @module
 */

import { CidrRange, parseAddress } from "./cidr.ts";

interface Entry {
  /** An address range, or a host name (lower case, a leading `*.` for a wildcard). */
  host: CidrRange | string;
  /** The port the entry requires, if any. */
  port?: number;
}

const NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function parseEntry(text: string): Entry {
  const entry = text.trim().toLowerCase();
  const bad = () => new RangeError(`not a host, host:port or CIDR range: ${text}`);
  let host = entry;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed !== null) {
    [, host, port] = bracketed;
  } else if (!entry.includes("/") && (entry.match(/:/g) ?? []).length === 1) {
    [host, port] = entry.split(":");
    if (!/^\d{1,5}$/.test(port)) throw bad();
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad();
  const result: Entry = { host, port: port === undefined ? undefined : Number(port) };
  if (host.includes("/") || parseAddress(host) !== null) {
    if (host.includes("/") && port !== undefined) throw bad();
    result.host = CidrRange.parse(host);
  } else if (!NAME.test(host)) {
    throw bad();
  }
  return result;
}

/** The port a URL connects to. */
function urlPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "wss:" || url.protocol === "https:" ? 443 : 80;
}

/** Hosts (names, addresses, ranges, with or without a port) a node may connect to. */
export class HostList {
  #entries: Entry[];

  /** Parses every entry; throws a `RangeError` naming the first bad one. */
  constructor(entries: readonly string[]) {
    this.#entries = entries.map(parseEntry);
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.length;
  }

  /** Whether the URL's host (and port) is in the list. */
  allows(url: URL): boolean {
    const hostname = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
    const address = parseAddress(hostname);
    const port = urlPort(url);
    return this.#entries.some((entry) => {
      if (entry.port !== undefined && entry.port !== port) return false;
      if (typeof entry.host !== "string") return address !== null && entry.host.contains(address);
      if (entry.host.startsWith("*.")) return hostname.endsWith(entry.host.slice(1));
      return address === null && hostname === entry.host;
    });
  }
}
