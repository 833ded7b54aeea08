/**
 * IP addresses and CIDR ranges, IPv4 and IPv6, for the rate-limit whitelist
 * (`RATE_LIMIT_WHITELIST`) and for the key an address is limited under.
 *
 * Addresses are held as 128-bit numbers; an IPv4 address is its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`), so `10.0.0.0/8` and `::ffff:10.0.0.0/104` are the same range and a peer
 * reported either way matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AddressList, limitKey } from "./cidr.ts";
 * const whitelist = new AddressList(["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]);
 * assert(whitelist.contains("10.1.2.3") && whitelist.contains("::ffff:10.1.2.3"));
 * assert(whitelist.contains("2001:db8:1::5") && !whitelist.contains("192.168.0.1"));
 * assert(limitKey("2001:db8:1:2:aaaa::1") === limitKey("2001:db8:1:2:bbbb::9"));
 * ```
 * @module
 */

const IPV4_MAPPED = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** An address as a 128-bit number, and whether it was written as IPv4. */
export interface ParsedAddress {
  /** The address as a number (IPv4 in its IPv4-mapped IPv6 form). */
  value: bigint;
  /** The address is IPv4 (or IPv4-mapped IPv6). */
  v4: boolean;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  let groups: string[];
  let tail: bigint | null = null;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) counts as two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === null) return null;
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const rest = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...Array(missing).fill("0"), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tail !== null) value = (value & ~0xffffffffn) | tail;
  return value;
}

/**
 * Parses an IPv4 or IPv6 address (a zone such as `%eth0` and brackets are ignored); null when it
 * is not one.
 */
export function parseAddress(text: string): ParsedAddress | null {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone !== -1) address = address.slice(0, zone);
  if (!address.includes(":")) {
    const v4 = parseIpv4(address);
    return v4 === null ? null : { value: IPV4_MAPPED | v4, v4: true };
  }
  const v6 = parseIpv6(address);
  if (v6 === null) return null;
  return { value: v6, v4: (v6 >> 32n) === 0xffffn };
}

/** One CIDR range (`10.0.0.0/8`, `2001:db8::/32`), or one address (`/32` or `/128`). */
export class CidrRange {
  /** The text it was parsed from. */
  readonly text: string;
  #network: bigint;
  #mask: bigint;

  private constructor(text: string, network: bigint, prefix: number) {
    this.text = text;
    this.#mask = prefix === 0 ? 0n : (ALL_ONES << BigInt(128 - prefix)) & ALL_ONES;
    this.#network = network & this.#mask;
  }

  /** Parses `address` or `address/prefix`; throws a `RangeError` naming the entry when invalid. */
  static parse(text: string): CidrRange {
    const slash = text.indexOf("/");
    const address = parseAddress(slash === -1 ? text : text.slice(0, slash));
    if (address === null) throw new RangeError(`not an IP address or CIDR range: ${text}`);
    const width = address.v4 && !text.slice(0, slash === -1 ? undefined : slash).includes(":")
      ? 32
      : 128;
    let prefix = width;
    if (slash !== -1) {
      const bits = text.slice(slash + 1);
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > width) {
        throw new RangeError(`bad prefix length in ${text} (0 to ${width})`);
      }
      prefix = Number(bits);
    }
    return new CidrRange(text, address.value, width === 32 ? 96 + prefix : prefix);
  }

  /** Whether the range holds `address` (text or parsed); false for anything that is not an address. */
  contains(address: string | ParsedAddress): boolean {
    const parsed = typeof address === "string" ? parseAddress(address) : address;
    return parsed !== null && (parsed.value & this.#mask) === this.#network;
  }
}

/** A list of addresses and ranges, such as a whitelist. */
export class AddressList {
  #ranges: CidrRange[];

  /** Parses every entry; throws a `RangeError` naming the first bad one. */
  constructor(entries: readonly string[]) {
    this.#ranges = entries.map((entry) => CidrRange.parse(entry.trim()));
  }

  /** Number of entries. */
  get size(): number {
    return this.#ranges.length;
  }

  /** Whether any entry holds `address`. */
  contains(address: string): boolean {
    if (this.#ranges.length === 0) return false;
    const parsed = parseAddress(address);
    return parsed !== null && this.#ranges.some((range) => range.contains(parsed));
  }
}

/**
 * The key an address is limited under: an IPv4 address itself, and for IPv6 its /64 network (one
 * subscriber usually holds a whole /64, so limiting single IPv6 addresses would limit nothing).
 * Text that is not an address is its own key.
 */
export function limitKey(address: string): string {
  const parsed = parseAddress(address);
  if (parsed === null) return address;
  if (parsed.v4) {
    const v4 = Number(parsed.value & 0xffffffffn);
    return [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join(".");
  }
  const network = parsed.value >> 64n;
  const groups = [];
  for (let shift = 48n; shift >= 0n; shift -= 16n) {
    groups.push(((network >> shift) & 0xffffn).toString(16));
  }
  return `${groups.join(":")}::/64`;
}
