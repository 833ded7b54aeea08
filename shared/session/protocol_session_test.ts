/**
 * ProtocolSession on a fake WebSocket: the first message, `OK` with what it grants, every way not
 * to reach `OK` (an `E`, a close, silence, a broken answer, a cancel, a bad URL), media pairing with
 * its one rule, `CLOSE` and `E` after `OK`, heartbeats and the idle limit, messages of extensions
 * in both directions, and the quiet close from this side.
 */

import { assert, assertAtMost, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import type { PullMessage } from "../protocol.ts";
import { type FakeWebSocket, fakeWebSockets } from "../testing/fake_websocket.ts";
import { until } from "../testing/until.ts";
import {
  ProtocolSession,
  type SessionEnd,
  type SessionOptions,
  SessionRefused,
} from "./protocol_session.ts";

const hello: PullMessage = { type: "PULL", stream: "a", auth: "t", parts: true, caps: ["errors"] };

/** A session on a fake socket, with what it hands on recorded. */
function setup(options: Partial<SessionOptions> = {}) {
  const sockets = fakeWebSockets();
  const media: string[] = [];
  const messages: string[] = [];
  const ends: SessionEnd[] = [];
  const opening = ProtocolSession.open({
    url: "ws://node/",
    hello,
    openMs: 1000,
    WebSocket: sockets.WebSocket,
    ...options,
  }, {
    onMedia: (header, data) => media.push(`${header.type}${header.seq}:${data.byteLength}`),
    onMessage: (message) => messages.push(message.type),
    onEnd: (end) => ends.push(end),
  });
  return { opening, media, messages, ends, socket: () => sockets.created[0] };
}

/** Opens the fake socket and answers `OK`. */
async function accepted(options: Partial<SessionOptions> = {}) {
  const context = setup(options);
  const socket: FakeWebSocket = context.socket();
  socket.open();
  socket.text("OK:parts=1&caps=errors");
  const session = await context.opening;
  return { ...context, socket, session };
}

Deno.test("a session sends its first message at open and resolves at OK with what was granted", async () => {
  const { socket, session } = await accepted();
  assertEquals(socket.sent, ["PULL:stream=a&auth=t&parts=1&caps=errors"]);
  assertEquals(socket.binaryType, "arraybuffer");
  assertEquals(session.accepted, { type: "OK", parts: true, caps: ["errors"] });
  assertEquals(session.url, "ws://node/");
  session.close();
});

Deno.test("heartbeats and unknown message types before OK change nothing", async () => {
  const { opening, socket } = setup();
  socket().open();
  socket().text("H");
  socket().text("HELLO:x=1");
  socket().text("OK");
  const session = await opening;
  assertEquals(session.accepted, { type: "OK" });
  session.close();
});

Deno.test("every way of not reaching OK rejects once, with its kind, and closes the socket", async () => {
  const cases: [string, (socket: FakeWebSocket) => void, string, string | undefined][] = [
    [
      "E",
      (s) => (s.open(), s.text("E:code=AUTH_FAILED&message=bad+token")),
      "error",
      "AUTH_FAILED",
    ],
    ["unreachable", (s) => s.drop(1006), "connect", undefined],
    ["closed by the node", (s) => (s.open(), s.drop(1011)), "connect", undefined],
    ["binary", (s) => (s.open(), s.binary(new Uint8Array(4))), "protocol", undefined],
    ["unreadable", (s) => (s.open(), s.text("F:duration=x")), "protocol", undefined],
    ["F before OK", (s) => (s.open(), s.text("F:duration=1")), "protocol", undefined],
  ];
  for (const [what, act, kind, code] of cases) {
    const { opening, socket, ends } = setup();
    act(socket());
    const refusal = await assertRejects(opening, SessionRefused);
    assertEquals([refusal.kind, refusal.code], [kind, code], what);
    assertEquals(refusal.answered, kind === "error" || kind === "protocol", what);
    assertEquals(ends, [], `${what}: no onEnd without OK`);
    assert(socket().closedWith !== null || socket().readyState === 3, `${what}: closed`);
    assertEquals(socket().onmessage, null, `${what}: nothing more is read`);
  }
  const { opening, socket } = setup();
  socket().open();
  socket().drop(1011);
  assert((await assertRejects(opening, SessionRefused)).opened, "the node closed an open socket");
});

Deno.test("a node that does not answer is given up at the open deadline", async () => {
  const started = performance.now();
  const { opening, socket } = setup({ openMs: 40 });
  socket().open();
  const refusal = await assertRejects(opening, SessionRefused);
  assertEquals(refusal.kind, "timeout");
  const elapsed = performance.now() - started;
  assert(elapsed >= 35, `gave up after ${elapsed} ms`);
  assertEquals(socket().closedWith?.code, 1000);
});

Deno.test("a cancel before OK rejects with kind cancelled; a URL that cannot be opened with url", async () => {
  const controller = new AbortController();
  const { opening, socket } = setup({ signal: controller.signal });
  socket().open();
  controller.abort();
  assertEquals((await assertRejects(opening, SessionRefused)).kind, "cancelled");
  assertEquals(socket().closedWith?.code, 1000);

  const aborted = setup({ signal: AbortSignal.abort() });
  assertEquals((await assertRejects(aborted.opening, SessionRefused)).kind, "cancelled");

  const throwing = class {
    constructor() {
      throw new SyntaxError("bad URL");
    }
  } as unknown as typeof WebSocket;
  const bad = ProtocolSession.open({ url: "nope", hello, openMs: 100, WebSocket: throwing }, {
    onEnd() {},
  });
  const refusal = await assertRejects(bad, SessionRefused);
  assertEquals(refusal.kind, "url");
  assert(refusal.message.includes("bad URL"), refusal.message);
});

Deno.test("F and P are paired with the binary frame after them, and CLOSE ends the session", async () => {
  const { socket, session, media, ends } = await accepted();
  socket.text("F:duration=1&seq=4");
  socket.binary(new Uint8Array(188));
  socket.text("H");
  socket.text("P:seq=5&part=0");
  socket.binary(new Uint8Array(376));
  assertEquals(media, ["F4:188", "P5:376"]);
  assertEquals(session.bytesReceived, 564);
  socket.text("CLOSE");
  assertEquals(ends, [{ kind: "closed" }]);
  assertEquals(socket.closedWith?.code, 1000, "this side closes too");
  socket.drop(1000);
  assertEquals(ends.length, 1, "one end");
  assert(session.ended);
});

Deno.test("one pairing rule: a binary without F/P, or a second F/P before the binary, ends the session", async () => {
  for (
    const frames of [
      [new Uint8Array(4)],
      ["F:duration=1", "F:duration=1"],
      ["P:seq=1&part=0", "P:seq=1&part=1"],
      ["F:duration=1", "H"],
    ]
  ) {
    const { socket, ends, media } = await accepted();
    for (const frame of frames) {
      if (typeof frame === "string") socket.text(frame);
      else socket.binary(frame);
    }
    assertEquals(ends.length, 1, JSON.stringify(frames.map(String)));
    const end = ends[0];
    assert(
      end.kind === "lost" && end.reason.startsWith("protocol error from the node:"),
      JSON.stringify(end),
    );
    assertEquals(media, []);
    assertEquals(socket.closedWith?.code, 1000);
  }
});

Deno.test("E after OK ends the session with the node's code; a drop ends it as lost", async () => {
  const first = await accepted();
  first.socket.text("E:code=PUBLISHER_LOST&message=gone");
  assertEquals(first.ends, [{ kind: "error", code: "PUBLISHER_LOST", message: "gone" }]);

  const second = await accepted();
  second.socket.drop(1006, "");
  assertEquals(second.ends, [{ kind: "lost", reason: "connection closed (code 1006)" }]);
  second.session.close();
  assertEquals(second.ends.length, 1, "close after the end does nothing");
});

Deno.test("messages of extensions reach onMessage; send writes any message", async () => {
  const { socket, session, messages } = await accepted();
  socket.text("NEWTHING:a=1");
  socket.text("PUSH:stream=x&auth=y");
  assertEquals(messages, ["UNKNOWN", "PUSH"]);
  session.send({ type: "H" });
  session.sendMedia({ type: "F", duration: 1, seq: 3 }, new Uint8Array([1, 2, 3]));
  assertEquals(socket.frames.slice(1), ["H", "F:duration=1&seq=3", new Uint8Array([1, 2, 3])]);
  socket.bufferedAmount = 42;
  assertEquals(session.bufferedAmount, 42);
  session.close("done here");
  session.send({ type: "H" });
  assertEquals(socket.frames.length, 4, "nothing is sent after the end");
});

Deno.test("H goes out after heartbeatMs without sending; silence past idleMs ends the session", async () => {
  const { socket, ends } = await accepted({ heartbeatMs: 60, idleMs: 100_000 });
  await until(() => socket.sent.includes("H"), "a heartbeat");
  assertEquals(ends, []);

  const started = performance.now();
  const silent = await accepted({ heartbeatMs: 100_000, idleMs: 80 });
  await until(() => silent.ends.length === 1, "the idle limit");
  const elapsed = performance.now() - started;
  assert(elapsed >= 75, `ended after ${elapsed} ms`);
  assertAtMost(elapsed, 1000, "ended within a tick of the limit");
  assertEquals(silent.ends, [{ kind: "lost", reason: "nothing received for 80 ms" }]);
  assertEquals(silent.socket.closedWith?.code, 1000);
});

Deno.test("close from this side is quiet: one end, lost, with the reason given", async () => {
  const { socket, session, ends } = await accepted();
  session.close("closed by the relay");
  assertEquals(ends, [{ kind: "lost", reason: "closed by the relay" }]);
  assertEquals(socket.closedWith, { code: 1000, reason: "bye" });
  socket.text("F:duration=1");
  socket.binary(new Uint8Array(1));
  assertEquals(ends.length, 1, "nothing is read after the close");
});

Deno.test("finish sends CLOSE, then closes, and resolves when the socket has closed", async () => {
  const { socket, session, ends } = await accepted();
  const finished = session.finish();
  assertEquals(socket.sent.at(-1), "CLOSE");
  assertEquals(socket.closedWith, { code: 1000, reason: "stream ended" });
  assertEquals(ends, [{ kind: "lost", reason: "stream ended by this side" }]);
  socket.drop(1000);
  await finished;
});
