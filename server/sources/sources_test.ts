/**
 * The sources at their seams: the chain asks in order and honours `only_source`; the relay source
 * and the registry source turn relay starts into streams, declines and refusals; the registry
 * source follows only entries it may (not this node, allowed hosts, no credentials) and falls
 * through on Redis errors. Upstreams are fake WebSockets, the registry a fake lookup.
 */

import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { ProtocolError } from "../../shared/errors.ts";
import { parseMessage } from "../../shared/protocol.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { HostList } from "../limits/host_list.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import { relayFixture } from "../testing/relay_fixture.ts";
import { SourceChain } from "./chain.ts";
import { RegistrySource } from "./registry/registry_source.ts";
import { RelaySource } from "./relay/relay_source.ts";
import type { PullRequest, StreamSource } from "./source.ts";

const signal = new AbortController().signal;
const request = (stream = "s", onlySource = false): PullRequest => ({
  stream,
  onlySource,
  via: ["edge"],
});

function stream(id: string): Stream {
  return new Stream({
    id,
    maxFragments: 1,
    memory: new BufferMemory(Infinity),
    metrics: new Metrics(),
    log: Logger.silent(),
  });
}

/** A source that has `streams`, recording what it was asked. */
function fakeSource(name: string, local: boolean, streams: Record<string, Stream>) {
  const asked: string[] = [];
  const source: StreamSource = {
    name,
    local,
    find: (pull) => {
      asked.push(pull.stream);
      return Promise.resolve(streams[pull.stream] ?? null);
    },
    destroy: () => Promise.resolve(),
  };
  return { source, asked };
}

Deno.test("the chain asks its sources in order; only_source asks the local one alone", async () => {
  const local = fakeSource("local", true, { a: stream("a") });
  const ended = stream("b");
  ended.end({ kind: "closed" });
  const second = fakeSource("registry", false, { b: ended });
  const third = fakeSource("relay", false, { b: stream("b"), c: stream("c") });
  const chain = new SourceChain([local.source, second.source, third.source]);
  assertEquals((await chain.find(request("a"), signal)).id, "a");
  const b = await chain.find(request("b"), signal);
  assert(b.ended === null, "an ended stream is passed over");
  assertEquals([local.asked, second.asked, third.asked], [["a", "b"], ["b"], ["b"]]);
  const error = await assertRejects(chain.find(request("c", true), signal), ProtocolError);
  assertEquals(error.code, "STREAM_NOT_FOUND");
  assert(error.message.includes("published on this node"), error.message);
  assertEquals(third.asked, ["b"], "only_source never leaves the node");
  const stopped = new AbortController();
  stopped.abort(new Error("closed"));
  await assertRejects(chain.find(request("a"), stopped.signal), Error);
});

Deno.test("the relay source: a stream, a decline (null) or a refusal (thrown)", async () => {
  const { hub, upstream, fragment } = relayFixture();
  const source = new RelaySource({ url: "ws://origin/", hub });
  const found = source.find(request("s"), signal);
  const socket = await upstream("OK");
  fragment(socket, 1);
  assertEquals((await found)?.id, "s");
  assertEquals(source.stats().map((entry) => entry.origin), ["relay"]);

  const missing = source.find(request("m"), signal);
  await upstream("E:code=STREAM_NOT_FOUND&message=no");
  assertEquals(await missing, null);

  const looping = source.find(request("l"), signal);
  await upstream("E:code=LOOP_DETECTED&message=loop");
  assertEquals((await assertRejects(looping, ProtocolError)).code, "LOOP_DETECTED");
  await source.destroy();
  assertEquals(hub.relays(), []);
});

Deno.test("the registry source follows the entries it may, with only_source, and falls through", async () => {
  const { hub, upstream, fragment, sockets } = relayFixture();
  const entries: Record<string, string> = {
    s: "ws://a.internal/",
    self: "ws://this.node/",
    elsewhere: "ws://evil.example/",
    secret: "ws://user:pass@a.internal/",
  };
  let destroyed = false;
  const registry = {
    lookup: (id: string) =>
      id === "broken"
        ? Promise.reject(new Error("Redis is down"))
        : Promise.resolve(entries[id] ?? null),
    listGroup: () => Promise.resolve([]),
    destroy: () => {
      destroyed = true;
      return Promise.resolve();
    },
  };
  const source = new RegistrySource({
    registry,
    hub,
    ownUrl: "ws://this.node",
    allowedHosts: new HostList(["a.internal"]),
    log: Logger.silent(),
  });
  const found = source.find(request("s"), signal);
  const socket = await upstream("OK");
  const pull = parseMessage(socket.sent[0]);
  assert(pull.type === "PULL" && pull.onlySource === true, socket.sent[0]);
  assertEquals(socket.url, "ws://a.internal/");
  fragment(socket, 1);
  assertEquals((await found)?.id, "s");
  for (const id of ["none", "self", "elsewhere", "secret", "broken"]) {
    assertEquals(await source.find(request(id), signal), null, id);
  }
  assertEquals(sockets.created.length, 1, "no connection for entries it may not follow");
  await source.destroy();
  assert(destroyed, "the source owns its registry");
  assertEquals(hub.relays(), []);
});
