/**
 * RelayHub on fake WebSockets: concurrent pulls share one relay and one upstream connection, a
 * path too long is refused before any connection, an ended relay is forgotten (and counted), and
 * `closeAll` ends one source's relays only.
 */

import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { parseMessage } from "../../../shared/protocol.ts";
import { relayFixture } from "../../testing/relay_fixture.ts";
import { fixedUpstream } from "./locator.ts";

const signal = new AbortController().signal;
const pull = (via = ["a", "edge"]) => ({ stream: "s", onlySource: false, via });

async function relayed(metrics: ReturnType<typeof relayFixture>["metrics"]): Promise<number> {
  const values = (await metrics.streams.get()).values;
  return values.find((value) => value.labels.origin === "relay")?.value ?? 0;
}

Deno.test("concurrent pulls of a stream share one relay and one upstream connection", async () => {
  const { hub, sockets, metrics, upstream, fragment } = relayFixture();
  const locator = fixedUpstream("ws://origin/");
  const first = hub.acquire(pull(), "relay", locator, signal);
  const second = hub.acquire(pull(["b", "edge"]), "relay", locator, signal);
  const socket = await upstream("OK:parts=1");
  fragment(socket, 1);
  const [a, b] = await Promise.all([first, second]);
  assert(a.kind === "stream" && b.kind === "stream");
  assert(a.stream === b.stream, "one stream");
  assertEquals(sockets.created.length, 1, "one upstream connection");
  const sent = parseMessage(socket.sent[0]);
  assert(sent.type === "PULL");
  assertEquals(sent.via, ["a", "edge"], "the path of the pull that started the relay");
  assertEquals(hub.relays("relay").length, 1);
  assertEquals(await relayed(metrics), 1);
  socket.text("CLOSE");
  assertEquals(hub.get("s"), undefined, "an ended relay is forgotten");
  assertEquals(await relayed(metrics), 0);
});

Deno.test("a path the upstream would refuse as too long fails at once, without a connection", async () => {
  const { hub, sockets } = relayFixture();
  const via = ["1", "2", "3", "4", "5", "6", "7", "8", "edge"];
  const result = await hub.acquire(pull(via), "relay", fixedUpstream("ws://o/"), signal);
  assert(result.kind === "failed" && result.error.code === "LOOP_DETECTED", JSON.stringify(result));
  assertEquals(sockets.created.length, 0);
});

Deno.test("closeAll ends the relays of one source and leaves the others", async () => {
  const { hub, upstream, fragment } = relayFixture();
  const registry = hub.acquire(
    { ...pull(), stream: "r" },
    "registry",
    fixedUpstream("ws://a/"),
    signal,
  );
  const a = await upstream("OK");
  fragment(a, 1);
  const relay = hub.acquire({ ...pull(), stream: "f" }, "relay", fixedUpstream("ws://b/"), signal);
  const b = await upstream("OK");
  fragment(b, 1);
  const [fromRegistry, fromRelay] = await Promise.all([registry, relay]);
  assert(fromRegistry.kind === "stream" && fromRelay.kind === "stream");
  hub.closeAll({ kind: "failed", code: "SHUTTING_DOWN", message: "bye" }, "registry");
  assertEquals(fromRegistry.stream.ended?.kind, "failed");
  assertEquals(fromRelay.stream.ended, null);
  assertEquals(hub.relays().map((r) => r.streamId), ["f"]);
  hub.closeAll({ kind: "closed" });
});

Deno.test("a caller that gives up stops only its own wait", async () => {
  const { hub, upstream, fragment } = relayFixture();
  const impatient = new AbortController();
  const locator = fixedUpstream("ws://origin/");
  const waiting = hub.acquire(pull(), "relay", locator, impatient.signal);
  const patient = hub.acquire(pull(), "relay", locator, signal);
  const socket = await upstream();
  impatient.abort(new Error("gone"));
  const error = await waiting.catch((error: Error) => error);
  assert(error instanceof Error && error.message === "gone");
  socket.text("OK");
  fragment(socket, 1);
  assertEquals((await patient).kind, "stream");
  hub.closeAll({ kind: "closed" });
});
