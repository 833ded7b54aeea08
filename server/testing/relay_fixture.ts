/**
 * Test support: a {@linkcode RelayHub} whose upstream pulls go to fake WebSockets (the upstream
 * nodes are the test), with a node configuration for short timers, and a helper that answers the
 * next upstream socket.
 *
 * @example
 * ```ts ignore
 * const { hub, upstream } = relayFixture();
 * const starting = hub.acquire({ stream: "s", onlySource: false, via: ["edge"] }, "relay", fixedUpstream("ws://o/"), signal);
 * const socket = await upstream("OK");
 * ```
 * @module
 */

import {
  acceptNext,
  type FakeWebSocket,
  fakeWebSockets,
} from "../../shared/testing/fake_websocket.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { parseConfig } from "../config.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { RelayHub } from "../sources/relay/relay_hub.ts";

/** A hub on fake sockets; `env` adds node settings (`RELAY_*`, timeouts). */
export function relayFixture(env: Record<string, string> = {}) {
  const sockets = fakeWebSockets();
  const metrics = new Metrics();
  const config = parseConfig({ PULL_SECRET: "p", PUSH_SECRET: "q", NODE_ID: "edge", ...env });
  const hub = new RelayHub({
    config,
    memory: new BufferMemory(Infinity),
    metrics,
    log: Logger.silent(),
    signPull: (id) => Promise.resolve(`token-for-${id}`),
    WebSocket: sockets.WebSocket,
  });
  /** The next upstream socket, opened and answered with `answer` (when given). */
  const upstream = (answer?: string) => acceptNext(sockets, answer);
  return { hub, sockets, metrics, config, upstream, fragment: sendFragment };
}

/** One whole fragment from an upstream node's socket. */
export function sendFragment(socket: FakeWebSocket, seq: number, size = 188): void {
  socket.text(`F:duration=1&seq=${seq}`);
  socket.binary(new Uint8Array(size));
}
