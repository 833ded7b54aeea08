/**
 * Where a relay pulls from: a {@linkcode UpstreamLocator} answers with the upstream node of a
 * stream when the relay starts and again at every resume. The registry source's locator asks Redis
 * (so a relay follows a publisher that moved); `RELAY_FROM_URL` is a fixed one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixedUpstream } from "./locator.ts";
 * const locator = fixedUpstream("ws://origin.internal:8080/");
 * const target = await locator.locate(new AbortController().signal);
 * assert(target?.url === "ws://origin.internal:8080/" && !target.onlySource);
 * ```
 * @module
 */

/** Where to pull a stream from. */
export interface UpstreamTarget {
  /** WebSocket URL of the upstream node. */
  url: string;
  /** Ask for `only_source=true` (the upstream is the publishing node). */
  onlySource: boolean;
}

/** Finds the upstream of a stream, at the start and again at every resume. */
export interface UpstreamLocator {
  /** Identifies where the locator points (two relays with the same key would pull the same node). */
  readonly key: string;
  /** The upstream now, or null when the stream is not known there. May reject. */
  locate(signal: AbortSignal): Promise<UpstreamTarget | null>;
}

/** A locator that always points at one node (`RELAY_FROM_URL`). */
export function fixedUpstream(url: string): UpstreamLocator {
  return {
    key: `relay:${url}`,
    locate: () => Promise.resolve({ url, onlySource: false }),
  };
}
