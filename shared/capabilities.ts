/**
 * Capabilities: the names a new client lists in `caps=` on `PUSH` and `PULL`, and a node grants
 * back in `caps=` on `OK`. Sending `caps` at all (even empty, even with names a node does not
 * know) marks a client as new; a client that sends none is an old one, and gets only what the
 * original server sent. An older node ignores the parameter and answers `OK` without `caps`, which
 * tells the client it talks to an old node. See `documentation/protocol.md#capabilities`.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Capability, CLIENT_CAPABILITIES, grantCapabilities } from "./capabilities.ts";
 * assert(CLIENT_CAPABILITIES.includes(Capability.ERRORS));
 * assert.deepEqual(grantCapabilities(["errors", "teleport"]), ["errors"]);
 * assert(grantCapabilities(undefined) === undefined, "an old client is answered without caps");
 * ```
 * @module
 */

/** Every capability name this code knows. Later extensions add names here. */
export const Capability = {
  /**
   * `errors`: the client understands every precise `E` code, at the end of a stream too
   * (`PUBLISHER_LOST`, `SHUTTING_DOWN`, `STREAM_MOVED`...) and for a stream that does not exist
   * (`STREAM_NOT_FOUND` instead of `OK` then `CLOSE`).
   */
  ERRORS: "errors",
  /**
   * `clock`: the client reads the origin's receive time `at` on `F` and `P`, the node's target
   * delay `delay` on `OK`, and may ask the node's clock with `T:id=`; the node answers
   * `T:id=&now=`. See `documentation/protocol.md#clock-at-delay-and-t`.
   */
  CLOCK: "clock",
  /** `abr`: the client may pull a rendition group (`group=1`) and handles rendition switches. */
  ABR: "abr",
} as const;

/** One of the values of {@linkcode Capability}. */
export type Capability = typeof Capability[keyof typeof Capability];

const KNOWN: ReadonlySet<string> = new Set<string>(Object.values(Capability));

/** What our clients (player, publisher, relay) list in `caps=`. */
export const CLIENT_CAPABILITIES: readonly Capability[] = [Capability.ERRORS, Capability.CLOCK];

/**
 * What a node answers in `OK:caps=` to a client that listed `asked`: the names it knows, in the
 * client's order; `undefined` for an old client (no `caps`), which gets a plain `OK`.
 */
export function grantCapabilities(asked: readonly string[] | undefined): string[] | undefined {
  if (asked === undefined) return undefined;
  return asked.filter((name, index) => KNOWN.has(name) && asked.indexOf(name) === index);
}
