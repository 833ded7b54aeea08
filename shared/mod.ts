/**
 * The isomorphic part of the CDN, for Deno and browsers alike: the protocol (every message, error
 * codes, stream-id rules), tokens, the publisher client, and MPEG-TS tools. Nothing here uses a
 * Deno-only or a DOM-only API; `deno task check` type-checks this module with DOM libraries only
 * (`shared/dom_only.json`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMessage, writeMessage } from "./mod.ts";
 * assert(parseMessage(writeMessage({ type: "H" })).type === "H");
 * ```
 * @module
 */

export * from "./capabilities.ts";
export * from "./errors.ts";
export * from "./protocol.ts";
export * from "./stream_id.ts";
export * from "./token.ts";
export * from "./backoff.ts";
export * from "./publisher/mod.ts";
export * from "./mpegts/mod.ts";
export * from "./media_pairing.ts";
export * from "./quote.ts";
export * from "./rendition.ts";
export * from "./session/protocol_session.ts";
export * from "./session/reconnection.ts";
export * from "./session/resume_point.ts";
