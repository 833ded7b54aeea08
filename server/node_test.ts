/**
 * CdnNode without listeners, its sockets recording: a publisher and a spectator through the
 * node's own wiring, connections by role in `stats()`, the door (the connection cap), extra
 * sources built from the node's parts, and a graceful shutdown that tells everyone and ends local
 * streams.
 */

import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { parseConfig } from "./config.ts";
import { Logger } from "./log.ts";
import { CdnNode, type NodeParts } from "./node.ts";
import type { StreamSource } from "./sources/source.ts";
import { RecordingSocket } from "./testing/recording_socket.ts";
import { signToken } from "../shared/token.ts";

const SECRETS = { PULL_SECRET: "pull-secret-for-tests", PUSH_SECRET: "push-secret-for-tests" };
const request = { url: new URL("ws://node/"), headers: new Headers(), remoteAddress: "10.0.0.1" };

function token(action: "PUSH" | "PULL", stream: string): Promise<string> {
  const secret = action === "PUSH" ? SECRETS.PUSH_SECRET : SECRETS.PULL_SECRET;
  return signToken({ action, stream, secret, lifetimeSeconds: 60 });
}

/** Waits for what a socket is sent to include `type`. */
async function sent(socket: RecordingSocket, type: string): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!socket.types().includes(type)) {
    if (performance.now() > deadline) throw new Error(`no ${type}: ${socket.sent}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function startNode(env: Record<string, string> = {}, extra?: (parts: NodeParts) => StreamSource[]) {
  const config = parseConfig({ ...SECRETS, SHUTDOWN_TIMEOUT_SECONDS: "1", ...env });
  const node = new CdnNode(config, Logger.silent(), extra);
  const connect = () => {
    const socket = new RecordingSocket({ completeCloses: true });
    node.onSocket(socket, request);
    return socket;
  };
  return { node, connect };
}

Deno.test("a node carries a publisher's fragments to a spectator and counts them by role", async () => {
  const { node, connect } = startNode();
  const publisher = connect();
  publisher.text(`PUSH:stream=a&auth=${await token("PUSH", "a")}&caps=errors`);
  await sent(publisher, "OK");
  const spectator = connect();
  spectator.text(`PULL:stream=a&auth=${await token("PULL", "a")}&caps=errors`);
  await sent(spectator, "OK");
  publisher.text("F:duration=1&seq=9");
  publisher.binary(new Uint8Array(188));
  assertEquals(spectator.types(), ["OK", "F"]);
  const stats = node.stats();
  assertEquals([stats.connections, stats.publishers, stats.spectators], [2, 1, 1]);
  assertEquals(stats.streams, [{ id: "a", origin: "local", spectators: 1, lastSeq: 9 }]);
  await node.shutdown();
});

Deno.test("over the connection cap a socket is refused at the door", async () => {
  const { node, connect } = startNode({ MAX_CONNECTIONS: "1" });
  const first = connect();
  const second = connect();
  assertEquals(first.sent, []);
  const [refusal] = second.messages();
  assert(refusal.type === "E" && refusal.code === "SERVER_FULL", JSON.stringify(refusal));
  assertEquals(node.connectionCount, 1);
  await node.shutdown();
});

Deno.test("extra sources are built from the node's parts and asked after the local one", async () => {
  let parts: NodeParts | undefined;
  const asked: string[] = [];
  const { node, connect } = startNode({}, (given) => {
    parts = given;
    return [{
      name: "fake",
      local: false,
      find: (pull) => (asked.push(pull.stream), Promise.resolve(null)),
      destroy: () => Promise.resolve(),
    }];
  });
  assertEquals(parts?.publications, node.publications);
  assert(typeof parts?.signPull === "function");
  const spectator = connect();
  spectator.text(`PULL:stream=far&auth=${await token("PULL", "far")}&caps=errors`);
  await sent(spectator, "E");
  assertEquals(asked, ["far"]);
  await node.shutdown();
});

Deno.test("shutdown tells every client SHUTTING_DOWN and ends local streams", async () => {
  const { node, connect } = startNode();
  const publisher = connect();
  publisher.text(`PUSH:stream=a&auth=${await token("PUSH", "a")}&caps=errors`);
  await sent(publisher, "OK");
  const stream = node.publications.get("a")!;
  const idle = connect();
  await node.shutdown();
  for (const socket of [publisher, idle]) {
    const last = socket.messages().at(-1);
    assert(last?.type === "E" && last.code === "SHUTTING_DOWN", JSON.stringify(last));
    assertEquals(socket.closed?.code, 1001);
  }
  assert(stream.ended?.kind === "failed" && stream.ended.code === "SHUTTING_DOWN");
  assertEquals(node.connectionCount, 0);
  assert(node.shuttingDown);
});
