/**
 * The publisher library: pushes one live stream to a node over a WebSocket, in whole fragments or
 * in parts, across node restarts and network failures. See `documentation/publishing.md`.
 *
 * This module runs in browsers and in Deno alike (Web WebSocket only).
 *
 * @module
 */

export * from "./publisher.ts";
