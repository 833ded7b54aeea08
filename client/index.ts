/**
 * The HLS WebSocket CDN browser player. Pages load it as an ES module
 * (`import { HlsWebSocket } from "/player/hls-websocket-cdn.mjs"`) or as a script that defines the
 * global `HlsWebSocketCdn` (`new HlsWebSocketCdn.HlsWebSocket(options)`). See
 * `documentation/player.md`.
 *
 * @example
 * ```ts ignore
 * import { HlsWebSocket } from "./index.ts";
 * if (HlsWebSocket.isSupported()) {
 *   const player = new HlsWebSocket({ cdnServerUrl: "wss://cdn.example.com/", streamId: "a", authToken: token });
 *   player.attachMedia(video);
 *   player.start();
 * }
 * ```
 * @module
 */

export { HlsWebSocket, WORKER_FILE } from "./hls_websocket.ts";
export {
  type HlsWebSocketEventMap,
  type HlsWebSocketEventName,
  type LatencyInfo,
  PlayerError,
  type ReconnectInfo,
} from "./events.ts";
export type { Level, LevelSwitchedInfo } from "./levels.ts";
export type { PlayerState } from "./player_state.ts";
export type { HlsWebSocketOptions, MediaPath, Playback } from "./options.ts";
export type { PlayerStats } from "./stats.ts";
export { HlsWebSocket as default } from "./hls_websocket.ts";
