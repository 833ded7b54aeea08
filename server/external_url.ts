/**
 * This node's WebSocket URL as other nodes reach it (`EXTERNAL_WEBSOCKET_URL`), detected from the
 * network interfaces when the variable is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { externalWebsocketUrl } from "./external_url.ts";
 * const url = externalWebsocketUrl({ configured: "", secure: false, port: 8080, prefix: "/", interfaces: [
 *   { family: "IPv4", address: "127.0.0.1" }, { family: "IPv4", address: "10.0.0.5" },
 * ] });
 * assert(url === "ws://10.0.0.5:8080/");
 * ```
 * @module
 */

/** An address of a network interface. */
export interface InterfaceAddress {
  /** `IPv4` or `IPv6`. */
  family: string;
  /** The address. */
  address: string;
}

/** What the URL is made from. */
export interface ExternalUrlOptions {
  /** `EXTERNAL_WEBSOCKET_URL` as configured ("" to detect). */
  configured: string;
  /** Whether the node is reached over TLS (only the TLS listener is on). */
  secure: boolean;
  /** The port other nodes connect to. */
  port: number;
  /** `WEBSOCKET_PREFIX`. */
  prefix: string;
  /** The host's interface addresses (`Deno.networkInterfaces()`). */
  interfaces: InterfaceAddress[];
}

/** The configured URL, or one built from the first non-loopback IPv4 address (else loopback). */
export function externalWebsocketUrl(options: ExternalUrlOptions): string {
  if (options.configured !== "") return options.configured;
  const ipv4 = options.interfaces.filter((item) => item.family === "IPv4");
  const address = ipv4.find((item) => !item.address.startsWith("127."))?.address ?? "127.0.0.1";
  const scheme = options.secure ? "wss" : "ws";
  const defaultPort = options.secure ? 443 : 80;
  const port = options.port === defaultPort ? "" : `:${options.port}`;
  return `${scheme}://${address}${port}${options.prefix}`;
}
