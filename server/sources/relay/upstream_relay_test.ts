/**
 * UpstreamRelay on a fake WebSocket (the upstream node is the test) feeding a real Stream: the
 * pull it sends, the initial burst before it counts as started, declines and refusals at the
 * start, resume after a drop with `after=`, a stream moved to another node marked as a
 * discontinuity, the upstream's CLOSE and E, the resume deadline, and inactivity.
 */

import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { parseMessage } from "../../../shared/protocol.ts";
import { acceptNext, fakeWebSockets } from "../../../shared/testing/fake_websocket.ts";
import { until } from "../../../shared/testing/until.ts";
import { BufferMemory } from "../../buffer_memory.ts";
import { Logger } from "../../log.ts";
import { Metrics } from "../../metrics.ts";
import { Stream } from "../../stream.ts";
import type { StreamEnd } from "../../stream_end.ts";
import { RecordingSubscriber } from "../../testing/recording_subscriber.ts";
import { sendFragment as fragment } from "../../testing/relay_fixture.ts";
import { fixedUpstream, type UpstreamLocator } from "./locator.ts";
import type { RelayTiming } from "./relay_options.ts";
import { UpstreamRelay } from "./upstream_relay.ts";

const TIMING: RelayTiming = {
  upstreamTimeoutMs: 1000,
  heartbeatMs: 30_000,
  idleMs: 60_000,
  resumeTimeoutMs: 2000,
  inactivityMs: 60_000,
};

/** A relay of stream `s` on fake sockets. */
function setup(
  options: { timing?: Partial<RelayTiming>; locator?: UpstreamLocator } = {},
) {
  const sockets = fakeWebSockets();
  const metrics = new Metrics();
  const ended: StreamEnd[] = [];
  const relay = new UpstreamRelay({
    streamId: "s",
    via: ["edge"],
    origin: "relay",
    locator: options.locator ?? fixedUpstream("ws://origin/"),
    createStream: () =>
      new Stream({
        id: "s",
        maxFragments: 4,
        memory: new BufferMemory(Infinity),
        metrics,
        log: Logger.silent(),
      }),
    signPull: (id) => Promise.resolve(`token-for-${id}`),
    timing: { ...TIMING, ...options.timing },
    log: Logger.silent(),
    metrics,
    WebSocket: sockets.WebSocket,
  });
  relay.addEventListener("ended", (event) => ended.push(event.detail));
  /** The next upstream socket, opened; `answer` is sent back when given. */
  const upstream = (answer?: string) => acceptNext(sockets, answer);
  return { relay, sockets, metrics, ended, upstream };
}

Deno.test("a relay pulls with parts and its path, and starts once the upstream's burst is in", async () => {
  const { relay, upstream } = setup();
  const socket = await upstream("OK:parts=1&caps=errors");
  const pull = parseMessage(socket.sent[0]);
  assert(pull.type === "PULL");
  assertEquals(
    [pull.stream, pull.auth, pull.parts, pull.via, pull.caps, pull.after],
    ["s", "token-for-s", true, ["edge"], ["errors", "clock"], undefined],
  );
  fragment(socket, 7);
  fragment(socket, 8);
  const start = await relay.started;
  assert(start.kind === "stream");
  assertEquals(start.stream.buffered.map((f) => f.seq), [7, 8], "the origin's numbers, kept");
  assertEquals(relay.stats().upstreamConnections, 1);
  assertEquals(relay.stats().bytesIn, 376);
  relay.close({ kind: "closed" });
  assertEquals(socket.closedWith?.code, 1000);
});

Deno.test("at the start, STREAM_NOT_FOUND declines and LOOP_DETECTED fails", async () => {
  const missing = setup();
  await missing.upstream("E:code=STREAM_NOT_FOUND&message=no");
  assertEquals((await missing.relay.started).kind, "declined");
  assert(missing.relay.closed);

  const loop = setup();
  await loop.upstream("E:code=LOOP_DETECTED&message=a+loop");
  const start = await loop.relay.started;
  assert(start.kind === "failed" && start.error.code === "LOOP_DETECTED", JSON.stringify(start));
  assertEquals(loop.ended.length, 1);
});

Deno.test("after a drop the relay resumes after the last complete fragment", async () => {
  const { relay, upstream, metrics } = setup();
  const first = await upstream("OK:parts=1");
  fragment(first, 3);
  const start = await relay.started;
  assert(start.kind === "stream");
  const spectator = new RecordingSubscriber();
  start.stream.attach(spectator, { maxInitialFragments: 0 });
  first.text("P:seq=4&part=0");
  first.binary(new Uint8Array(188));
  first.drop(1006);
  const second = await upstream("OK:parts=1");
  const pull = parseMessage(second.sent[0]);
  assert(pull.type === "PULL" && pull.after === 3, second.sent[0]);
  assertEquals(spectator.aborted, [4], "the fragment in progress is dropped");
  fragment(second, 4);
  await until(() => spectator.fragments.length === 1, "the fragment again, whole");
  assertEquals(spectator.fragments[0].info.discontinuity, false, "same upstream: no discontinuity");
  assertEquals(relay.stats().resumes, 1);
  assertEquals((await metrics.relayReconnects.get()).values[0].value, 1);
  relay.close({ kind: "closed" });
});

Deno.test("a stream that moved is followed, its media marked as a discontinuity", async () => {
  const urls = ["ws://a/", "ws://b/"];
  let calls = 0;
  const locator: UpstreamLocator = {
    key: "test",
    locate: () => Promise.resolve({ url: urls[Math.min(calls++, 1)], onlySource: true }),
  };
  const { relay, upstream, sockets } = setup({ locator });
  const first = await upstream("OK:parts=1");
  fragment(first, 1);
  const start = await relay.started;
  assert(start.kind === "stream");
  first.text("E:code=STREAM_MOVED&message=elsewhere");
  const second = await upstream("OK:parts=1");
  assertEquals(sockets.created.map((socket) => socket.url), ["ws://a/", "ws://b/"]);
  assert(second.sent[0].includes("only_source=true"), second.sent[0]);
  fragment(second, 2);
  assertEquals(start.stream.buffered.map((f) => [f.seq, f.info.discontinuity]), [
    [1, false],
    [2, true],
  ]);
  relay.close({ kind: "closed" });
});

Deno.test("the upstream's CLOSE and PUBLISHER_LOST end the stream for every spectator", async () => {
  const closing = setup();
  const socket = await closing.upstream("OK");
  fragment(socket, 1);
  const start = await closing.relay.started;
  assert(start.kind === "stream");
  socket.text("CLOSE");
  assertEquals(start.stream.ended, { kind: "closed" });
  assertEquals(closing.ended, [{ kind: "closed" }]);

  const lost = setup();
  const other = await lost.upstream("OK");
  fragment(other, 1);
  await lost.relay.started;
  other.text("E:code=PUBLISHER_LOST&message=gone");
  assertEquals(lost.relay.stream.ended, {
    kind: "failed",
    code: "PUBLISHER_LOST",
    message: "gone",
  });
});

Deno.test("a relay that cannot resume within its deadline ends with UPSTREAM_ERROR", async () => {
  const started = performance.now();
  const { relay, upstream, sockets } = setup({ timing: { resumeTimeoutMs: 150 } });
  const first = await upstream("OK");
  fragment(first, 1);
  await relay.started;
  first.drop(1006);
  while (!relay.closed) {
    await until(() => relay.closed || sockets.created.at(-1)?.readyState === 0, "an attempt");
    if (!relay.closed) sockets.created.at(-1)!.drop(1006);
  }
  const end = relay.stream.ended;
  assert(end?.kind === "failed" && end.code === "UPSTREAM_ERROR", JSON.stringify(end));
  assert(performance.now() - started >= 150, "not before the deadline");
  assert(sockets.created.length >= 2, `${sockets.created.length - 1} attempts`);
});

Deno.test("without spectators for the inactivity period the relay closes its upstream", async () => {
  const { relay, upstream } = setup({ timing: { inactivityMs: 30 } });
  const socket = await upstream("OK");
  fragment(socket, 1);
  const start = await relay.started;
  assert(start.kind === "stream");
  const spectator = new RecordingSubscriber();
  start.stream.attach(spectator);
  start.stream.detach(spectator);
  await until(() => relay.closed, "the inactivity period");
  assertEquals(start.stream.ended, { kind: "closed" });
  assertEquals(socket.closedWith?.code, 1000);
});
