/**
 * UpstreamConnection against a small scripted WebSocket server: OK and media pairing, E before OK,
 * a silent upstream (deadline), an unreachable one, heartbeats, and a silent open connection.
 */

import {
  assert,
  assertAtMost,
  assertEquals,
  assertRejects,
} from "../../../tests/helpers/assert.ts";
import { parseMessage, type PullMessage, writeMessage } from "../../../shared/protocol.ts";
import { UpstreamConnection, type UpstreamEnd, UpstreamRefused } from "./upstream_connection.ts";
import { freePort } from "../../../tests/helpers/node_process.ts";

/** A WebSocket server on 127.0.0.1 that runs `script` for every connection. */
function scriptedServer(script: (socket: WebSocket, pull: string) => void) {
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    let first = true;
    socket.onmessage = (event) => {
      received.push(String(event.data));
      if (first) {
        first = false;
        script(socket, String(event.data));
      }
    };
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}/`, received, server };
}

const options = { timeoutMs: 1000, heartbeatMs: 60000, idleMs: 60000 };
const pull: PullMessage = { type: "PULL", stream: "a", auth: "t", parts: true, via: ["n1"] };

/** A handler that records everything. */
function recorder() {
  const media: string[] = [];
  let resolveEnd: (end: UpstreamEnd) => void;
  const ended = new Promise<UpstreamEnd>((resolve) => resolveEnd = resolve);
  return {
    media,
    ended,
    handler: {
      onFragment: (message: { seq?: number }, data: Uint8Array) =>
        media.push(`F${message.seq}:${data.byteLength}`),
      onPart: (message: { seq: number; part: number }, data: Uint8Array) =>
        media.push(`P${message.seq}.${message.part}:${data.byteLength}`),
      onEnd: (end: UpstreamEnd) => resolveEnd(end),
    },
  };
}

Deno.test("upstream connection: OK, F and P with their binary frames, then CLOSE", async () => {
  const upstream = scriptedServer((socket) => {
    socket.send(writeMessage({ type: "OK", parts: true }));
    socket.send(writeMessage({ type: "F", duration: 1, seq: 4 }));
    socket.send(new Uint8Array(188));
    socket.send(writeMessage({ type: "P", seq: 5, part: 0 }));
    socket.send(new Uint8Array(376));
    socket.send(writeMessage({ type: "CLOSE" }));
  });
  try {
    const record = recorder();
    const connection = await UpstreamConnection.open(
      { url: upstream.url, pull, ...options },
      record.handler,
    );
    assert(connection.parts, "the upstream agreed to parts");
    assertEquals(await record.ended, { kind: "closed" });
    assertEquals(record.media, ["F4:188", "P5.0:376"]);
    assertEquals(connection.bytesReceived, 564);
    const sent = parseMessage(upstream.received[0]);
    assert(sent.type === "PULL" && sent.parts === true);
    assertEquals(sent.via, ["n1"]);
  } finally {
    await upstream.server.shutdown();
  }
});

Deno.test("upstream connection: E before OK rejects with the upstream's code", async () => {
  const upstream = scriptedServer((socket) => {
    socket.send(writeMessage({ type: "E", code: "LOOP_DETECTED", message: "loop" }));
    socket.close();
  });
  try {
    const error = await assertRejects(
      UpstreamConnection.open({ url: upstream.url, pull, ...options }, recorder().handler),
      UpstreamRefused,
    );
    assertEquals([error.code, error.answered], ["LOOP_DETECTED", true]);
  } finally {
    await upstream.server.shutdown();
  }
});

Deno.test("upstream connection: a silent upstream is given up at the deadline", async () => {
  const upstream = scriptedServer(() => {});
  try {
    const start = performance.now();
    const error = await assertRejects(
      UpstreamConnection.open(
        { url: upstream.url, pull, ...options, timeoutMs: 300 },
        recorder().handler,
      ),
      UpstreamRefused,
    );
    assertEquals([error.code, error.answered], ["UPSTREAM_ERROR", false]);
    const took = performance.now() - start;
    assert(took >= 290, `gave up after ${took} ms`);
    assertAtMost(took, 3000, "ms to give up");
  } finally {
    await upstream.server.shutdown();
  }
});

Deno.test("upstream connection: an unreachable node is refused at once", async () => {
  const start = performance.now();
  const error = await assertRejects(
    UpstreamConnection.open(
      { url: `ws://127.0.0.1:${freePort()}/`, pull, ...options },
      recorder().handler,
    ),
    UpstreamRefused,
  );
  assertEquals(error.code, "UPSTREAM_ERROR");
  assertAtMost(performance.now() - start, 2000, "ms to refuse");
});

Deno.test("upstream connection: heartbeats go up, a silent open upstream is lost", async () => {
  const upstream = scriptedServer((socket) => socket.send(writeMessage({ type: "OK" })));
  try {
    const record = recorder();
    await UpstreamConnection.open(
      { url: upstream.url, pull, timeoutMs: 1000, heartbeatMs: 100, idleMs: 500 },
      record.handler,
    );
    const end = await record.ended;
    assertEquals(end.kind, "lost");
    assert(upstream.received.filter((text) => text === "H").length >= 2, "sent H");
  } finally {
    await upstream.server.shutdown();
  }
});

Deno.test("upstream connection: a binary frame without F is a protocol error", async () => {
  const upstream = scriptedServer((socket) => {
    socket.send(writeMessage({ type: "OK" }));
    socket.send(new Uint8Array(10));
  });
  try {
    const record = recorder();
    await UpstreamConnection.open({ url: upstream.url, pull, ...options }, record.handler);
    const end = await record.ended;
    assert(end.kind === "lost" && end.reason.includes("protocol error"), JSON.stringify(end));
  } finally {
    await upstream.server.shutdown();
  }
});
