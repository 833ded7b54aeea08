import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { writeMessage } from "../shared/protocol.ts";
import { HlsWebSocket, PlayerError } from "./index.ts";
import type { HlsWebSocketOptions } from "./options.ts";
import { FakeMediaElement, installFakeMse } from "./testing/fake_media.ts";
import { type FakeWebSocket, installFakeWebSocket } from "../shared/testing/fake_websocket.ts";
import { tinyTs } from "./testing/tiny_ts.ts";
import { until } from "../shared/testing/until.ts";

const OPTIONS: HlsWebSocketOptions = {
  cdnServerUrl: "ws://127.0.0.1:9/",
  streamId: "room/live",
  authToken: "token",
};

/** The node's side of a socket. */
function node(socket: FakeWebSocket) {
  return {
    accept: () => socket.text(writeMessage({ type: "OK", parts: true })),
    fragment: (seq: number, data: Uint8Array, duration = 2) => {
      socket.text(writeMessage({ type: "F", seq, duration }));
      socket.binary(data);
    },
    part: (seq: number, part: number, data: Uint8Array, independent = false) => {
      socket.text(writeMessage({ type: "P", seq, part, independent }));
      socket.binary(data);
    },
    close: () => socket.text("CLOSE"),
    refuse: (code: string, message: string) =>
      socket.text(writeMessage({ type: "E", code, message })),
  };
}

/** A player on fake sockets and fake MSE (MPEG-TS accepted directly), recording its events. */
function setUp(options: Partial<HlsWebSocketOptions> = {}) {
  const player = new HlsWebSocket({ ...OPTIONS, ...options });
  const events: string[] = [];
  player.addEventListener("state", (state, previous) => events.push(`state ${previous}>${state}`));
  player.addEventListener("error", (error) => {
    assert(error instanceof PlayerError, "error handlers get the Error itself");
    events.push(`error ${error.code} fatal=${error.fatal}`);
  });
  player.addEventListener("close", () => events.push("close"));
  player.addEventListener("ended", () => events.push("ended"));
  return { player, events, media: new FakeMediaElement() };
}

/** Lets the fakes' pending tasks finish, so that a test leaves no timer behind. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("HlsWebSocket pulls with parts and holds what comes before attachMedia at the start gate", async () => {
  using _mse = installFakeMse({ accepts: (type) => type.startsWith("video/mp2t") });
  using sockets = installFakeWebSocket();
  const { player, events, media } = setUp();
  player.start();
  const socket = sockets.created[0];
  socket.open();
  assert(socket.sent[0].startsWith("PULL:"), socket.sent[0]);
  assert(socket.sent[0].includes("parts=1") && socket.sent[0].includes("stream=room%2Flive"));
  const server = node(socket);
  server.accept();
  const first = tinyTs({ pts: 10 });
  const start = tinyTs({ pts: 12 });
  const next = tinyTs({ pts: 12.2, tables: false });
  server.fragment(1, first);
  server.part(2, 0, start); // a newer fragment start: playback starts here
  server.part(2, 1, next);
  assertEquals(player.stats.bytesReceived, first.byteLength + start.byteLength + next.byteLength);

  player.attachMedia(media.element);
  await until(() => media.source?.sourceBuffers[0]?.operations.length === 4, "the appends");
  const [buffer] = media.source!.sourceBuffers;
  assertEquals(buffer.type, 'video/mp2t; codecs="avc1.42c01e,mp4a.40.2"');
  const appended = buffer.operations.flatMap((operation) =>
    operation.op === "append" ? [operation.data] : []
  );
  assertEquals(appended, [start, next], "the held chunks from the newest fragment start");
  const stats = player.stats;
  assertEquals([stats.mediaPath, stats.codecs, stats.parts], [
    "direct",
    "avc1.42c01e,mp4a.40.2",
    true,
  ]);
  assertEquals(events, ["state idle>connecting", "state connecting>buffering"]);
  player.destroy();
  await settle();
});

Deno.test("HlsWebSocket waits for the codecs before it sets up the media path", async () => {
  using _mse = installFakeMse({ accepts: (type) => type.startsWith("video/mp2t") });
  using sockets = installFakeWebSocket();
  const { player, media } = setUp();
  player.attachMedia(media.element);
  player.start();
  const socket = sockets.created[0];
  socket.open();
  const server = node(socket);
  server.accept();
  // The audio codec header comes one part later (audio in long PES packets).
  const start = tinyTs({ pts: 10, audio: false });
  const rest = tinyTs({ pts: 10.2, tables: false, video: false, audio: true });
  server.part(1, 0, start);
  await settle();
  assertEquals(
    media.source?.sourceBuffers.length,
    0,
    "no SourceBuffer before the codecs are known",
  );
  server.part(1, 1, rest);
  await until(() => media.source!.sourceBuffers[0]?.operations.length === 4, "the appends");
  const appended = media.source!.sourceBuffers[0].operations.filter((op) => op.op === "append");
  assertEquals(appended.length, 2, "both parts, in order");
  player.destroy();
  await settle();
});

Deno.test("HlsWebSocket gives error handlers an Error, then closes; a throwing handler stops nothing", async () => {
  using sockets = installFakeWebSocket();
  const { player, events } = setUp();
  const logged: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args[0]);
  try {
    player.addEventListener("error", () => {
      throw new Error("a page's bug");
    });
    player.addEventListener("close", () => events.push("close (second handler)"));
    player.start();
    sockets.created[0].open();
    node(sockets.created[0]).refuse("AUTH_FAILED", "bad token");
    await until(() => events.includes("close (second handler)"), "the player closes");
  } finally {
    console.error = consoleError;
  }
  assertEquals(events, [
    "state idle>connecting",
    "state connecting>failed",
    "error AUTH_FAILED fatal=true",
    "close",
    "close (second handler)",
  ]);
  assertEquals(logged, ["HlsWebSocket: a 'error' handler threw"]);
  assertEquals(sockets.created[0].closedWith?.code, 1000, "the socket is closed");
  player.destroy();
  await settle();
});

Deno.test("HlsWebSocket fires ended after CLOSE, once the media source has ended", async () => {
  using _mse = installFakeMse({ accepts: (type) => type.startsWith("video/mp2t") });
  using sockets = installFakeWebSocket();
  const { player, events, media } = setUp();
  player.attachMedia(media.element);
  player.start();
  const socket = sockets.created[0];
  socket.open();
  const server = node(socket);
  server.accept();
  server.fragment(1, tinyTs({ pts: 0 }));
  server.close();
  assertEquals(events.at(-1), "close", "close at once");
  await until(() => events.includes("ended"), "ended");
  assertEquals(events.slice(-2), ["state buffering>ended", "ended"]);
  assertEquals(media.source?.readyState, "ended");
  assertEquals(media.source?.sourceBuffers[0].operations.at(-1)?.op, "append", "appended first");
  player.destroy();
  await settle();
});

Deno.test("HlsWebSocket.destroy closes the socket, detaches the media and removes every handler", async () => {
  using _mse = installFakeMse();
  using sockets = installFakeWebSocket();
  const { player, events, media } = setUp();
  let latency = 0;
  const onLatency = () => latency++;
  player.addEventListener("latency", onLatency);
  player.addEventListener("latency", onLatency);
  player.removeEventListener("latency", onLatency);
  player.attachMedia(media.element);
  assertEquals(player.media, media.element);
  player.start();
  sockets.created[0].open();
  await until(() => media.source?.readyState === "open", "the media source opens");
  player.destroy();
  assertEquals(events, ["state idle>connecting", "close", "state connecting>destroyed"]);
  assertEquals(player.state, "destroyed");
  assertEquals(player.media, null);
  assertEquals(media.src, "", "the element is left without media");
  assertEquals(sockets.created[0].closedWith?.code, 1000);
  player.start();
  assertEquals(sockets.created.length, 1, "a destroyed player does not start again");
  assertEquals(latency, 0);
  await settle();
});
