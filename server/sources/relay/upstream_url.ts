/**
 * The rules for a URL a node connects to as a relay, and how such a URL is shown. Only `ws://` and
 * `wss://` URLs are dialled, and never one with credentials in it (`ws://user:pw@host/`): a
 * WebSocket client would send them as `Authorization: Basic` to whatever host the URL names, and a
 * URL can come from a registry entry that anyone with write access to Redis wrote. In logs a URL
 * is shown without credentials, quoted; to clients, not at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showUrl, upstreamUrlProblem } from "./upstream_url.ts";
 * assert(upstreamUrlProblem("ws://10.0.0.7:8080/") === null);
 * assert(upstreamUrlProblem("http://10.0.0.7/") === "not a ws:// or wss:// URL");
 * assert(upstreamUrlProblem("ws://u:p@10.0.0.7/") === "a URL with credentials");
 * assert(showUrl("ws://u:p@10.0.0.7/x") === '"ws://10.0.0.7/x"');
 * ```
 * @module
 */

import { quote } from "../../../shared/quote.ts";

/** Why a node must not connect to `text` as an upstream, or null when it may. */
export function upstreamUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") return "not a ws:// or wss:// URL";
  if (url.username !== "" || url.password !== "") return "a URL with credentials";
  return null;
}

/** A URL for a log line: without credentials, quoted and escaped. */
export function showUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = "";
    url.password = "";
    return quote(url.href, 200);
  } catch {
    return quote(text.replace(/\/\/[^/@]*@/, "//"), 200);
  }
}
