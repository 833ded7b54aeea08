/**
 * The watch page (`/player/watch.html?stream=ID&token=JWT`): plays a stream with the script-tag
 * build of the player (the global `HlsWebSocketCdn`) and shows the measured latency, buffer and
 * stats live. Query parameters: `stream` (required), `token`, `server` (WebSocket URL; default
 * this page's node), `delay` (seconds), `parts` (`0` for whole fragments), `path`
 * (`auto`/`transmux`/`direct`), `debug`. Tests read `window.watch`.
 *
 * @module
 */

import type * as Player from "../index.ts";

declare const HlsWebSocketCdn: typeof Player;

/** What the page records for tests and for people reading the console. */
interface WatchRecord {
  player: Player.HlsWebSocket | null;
  latency: Player.LatencyInfo[];
  errors: string[];
  states: string[];
  ended: boolean;
  closed: boolean;
  firstFrameMs: number | null;
}

const record: WatchRecord = {
  player: null,
  latency: [],
  errors: [],
  states: [],
  ended: false,
  closed: false,
  firstFrameMs: null,
};
(globalThis as unknown as { watch: WatchRecord }).watch = record;

function show(id: string, text: string): void {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
}

function seconds(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${value.toFixed(2)} s`;
}

const params = new URLSearchParams(location.search);
const stream = params.get("stream") ?? "";
const defaultServer = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;
const video = document.getElementById("video") as HTMLVideoElement;

if (stream === "") {
  show("message", "add ?stream=<stream id>&token=<pull token> to the address");
} else if (!HlsWebSocketCdn.HlsWebSocket.isSupported()) {
  show("message", "this browser cannot play through WebCodecs or Media Source Extensions");
} else {
  const player = new HlsWebSocketCdn.HlsWebSocket({
    cdnServerUrl: params.get("server") || defaultServer,
    streamId: stream,
    authToken: params.get("token") ?? "",
    delay: params.has("delay") ? Number(params.get("delay")) : undefined,
    parts: params.get("parts") !== "0",
    mediaPath: (params.get("path") as Player.MediaPath | null) ?? "auto",
    playback: (params.get("playback") as Player.Playback | null) ?? "auto",
    debug: params.has("debug"),
  });
  record.player = player;
  player.addEventListener("error", (error) => {
    record.errors.push(`${(error as Player.PlayerError).code ?? "ERROR"}: ${error.message}`);
    show("message", error.message);
  });
  player.addEventListener("close", () => record.closed = true);
  player.addEventListener("ended", () => {
    record.ended = true;
    show("message", "the stream has ended");
  });
  player.addEventListener("state", (state) => {
    record.states.push(state);
    show("state", state);
  });
  player.addEventListener("firstframe", (ms) => {
    record.firstFrameMs = ms;
    show("firstframe", `${ms} ms`);
  });
  player.addEventListener("latency", (info) => {
    record.latency.push(info);
    if (record.latency.length > 2000) record.latency.splice(0, 1000);
    show("latency", seconds(info.latency));
    show("delay", seconds(info.delay));
    show("target", seconds(info.targetDelay));
    show("buffer", seconds(info.bufferLength));
  });
  player.addEventListener("stats", (stats) => {
    show("bitrate", `${(stats.bitrate / 1000).toFixed(0)} kbit/s`);
    show("dropped", `${stats.droppedFrames} / ${stats.decodedFrames}`);
    show("reconnects", String(stats.reconnects));
    show(
      "path",
      `${stats.playback ?? "–"} ${stats.mediaPath ?? ""}${stats.worker ? " (worker)" : ""}${
        stats.parts ? ", parts" : ""
      }`,
    );
  });
  player.attachMedia(video);
  player.start();
  video.play().catch(() => {});
}
