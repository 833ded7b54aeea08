/**
 * The publisher grace and what old clients see, with real node processes: a spectator that sends
 * no `caps` (a client of the original protocol) receives nothing but `OK`, fragments, `H` and
 * `CLOSE`, whatever happens to the stream; a new client (`caps=errors`) gets the precise codes.
 *
 * - A publisher that drops and comes back within `PUBLISHER_GRACE_SECONDS`: the stream goes on,
 *   same spectators, numbers continue, the fragment it left half-sent is dropped whole.
 * - Past the grace: `CLOSE` (old) and `E PUBLISHER_LOST` (new); a later `PUSH` starts again.
 * - A publisher that breaks the protocol (binary without `F`, oversize, garbage): the stream ends
 *   at once. A takeover: nothing but fragments. A stream that does not exist: `OK` then `CLOSE`.
 * - Shutdown: an old spectator's socket is closed without a word. An idle publisher gets a grace
 *   too. The grace through one and two relay hops: edge spectators notice nothing.
 *
 * Runs on every transport.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import {
  publisherFor,
  pullToken,
  pushToken,
  type Received,
  spectatorFor,
  TestClient,
} from "../helpers/client.ts";
import { sameBytes, splitIntoParts, tsFragments } from "../helpers/media.ts";
import { metric, stats } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode, testTransports } from "../helpers/node_process.ts";
import { waitForValue } from "../helpers/wait.ts";

/** The text messages a client received, as sent. */
function texts(client: TestClient): string[] {
  return client.received.filter((item): item is Extract<Received, { kind: "text" }> =>
    item.kind === "text"
  ).map((item) => item.raw);
}

/**
 * Asserts that an old client received only what the original server sends: `OK` first, then
 * fragments and heartbeats (`P` and `OK:parts=1` only to one that asked for parts), then at most
 * `CLOSE` when `allowClose`.
 */
function assertOnlyOriginal(client: TestClient, what: string, allowClose = false): void {
  const said = texts(client).filter((text) => !/^(F|P|H)(:|$)/.test(text)).map((text) =>
    text === "OK:parts=1" ? "OK" : text
  );
  const expected = ["OK", ...(allowClose ? ["CLOSE"] : [])];
  assertEquals(said.slice(0, 1), ["OK"], `${what}: first OK`);
  assertEquals(said, expected.slice(0, said.length), `${what}: nothing but F, H and CLOSE`);
}

/** Waits until a counter of `/metrics` reaches `value`. */
function counter(node: NodeProcess, series: string, value: number, ms = 5000): Promise<number> {
  return waitForValue(() => metric(node, series), value, ms);
}

const grace = (event: string) => `hlswscdn_publisher_graces_total{event="${event}"}`;

for (const transport of testTransports()) {
  Deno.test(`[${transport}] publisher grace on one node; old clients see only what the original sent`, async (t) => {
    await using node = await startNode({
      transport,
      env: { PUBLISHER_GRACE_SECONDS: "2", MAX_BINARY_MESSAGE_SIZE: "2000000" },
    });
    const media = await tsFragments({ seconds: 6, fragmentSeconds: 1 });

    await t.step(
      "a publisher back within the grace: nothing but fragments, bytes continuous",
      async () => {
        let publisher = await publisherFor(node.wsUrl, "blip", { parts: true, old: true });
        await using old = await spectatorFor(node.wsUrl, "blip", { old: true });
        await using fresh = await spectatorFor(node.wsUrl, "blip", { parts: true });
        publisher.sendFragment(media[0].duration, media[0].data);
        // Half of fragment 1 as parts, then the connection drops.
        const [first, second] = splitIntoParts(media[1].data, 2);
        publisher.send({ type: "P", seq: 1, part: 0 });
        publisher.sendBinary(first);
        await fresh.nextFragment();
        assertEquals((await fresh.nextMessage()).type, "P", "part 0 of fragment 1");
        publisher.close();
        await counter(node, grace("entered"), 1);
        assertEquals((await stats(node)).streams.map((s: { id: string }) => s.id), ["blip"]);
        publisher = await publisherFor(node.wsUrl, "blip", { parts: true, old: true });
        await counter(node, grace("resumed"), 1);
        for (const fragment of media.slice(2, 4)) {
          publisher.sendFragment(fragment.duration, fragment.data);
        }
        const received = [];
        for (let index = 0; index < 3; index++) received.push(await old.nextFragment());
        // The half-sent fragment never reaches a whole-fragment client; its number is free again.
        assertEquals(received.map((item) => item.header.seq), [0, 1, 2]);
        for (const [index, sent] of [media[0], media[2], media[3]].entries()) {
          assert(sameBytes(received[index].data, sent.data), `fragment ${index} byte-exact`);
        }
        assertEquals(received[1].header.discontinuity, true, "marked for those who read it");
        // The new parts client saw part 0 of the abandoned fragment, never its end.
        await fresh.next(); // the binary frame of part 0
        const next = await fresh.nextMessage();
        assertEquals(next.type === "F" && next.seq, 1, "then the next fragment, whole");
        assert(second.byteLength > 0, "part 1 of the abandoned fragment was never sent");
        publisher.send({ type: "CLOSE" });
        for (const spectator of [old, fresh]) {
          for (;;) {
            const item = await spectator.next();
            if (item.kind === "text" && item.message.type === "CLOSE") break;
          }
        }
        assertOnlyOriginal(old, "old", true);
        await publisher.waitClosed();
      },
    );

    await t.step(
      "past the grace: CLOSE for old clients, E PUBLISHER_LOST for new ones",
      async () => {
        const publisher = await publisherFor(node.wsUrl, "gone");
        await using old = await spectatorFor(node.wsUrl, "gone", { old: true });
        await using fresh = await spectatorFor(node.wsUrl, "gone");
        publisher.sendFragment(media[0].duration, media[0].data, { seq: 40 });
        await old.nextFragment();
        await fresh.nextFragment();
        const expired = await metric(node, grace("expired"));
        const dropped = performance.now();
        publisher.close();
        assertEquals(await old.nextMessage(4000), { type: "CLOSE" });
        const waited = performance.now() - dropped;
        assert(waited >= 1900, `not before the grace ran out (${waited} ms)`);
        assertAtMost(waited, 3500, "ms until the end after a 2 s grace");
        const told = await fresh.nextMessage();
        assertEquals(told.type === "E" && told.code, "PUBLISHER_LOST");
        await old.waitClosed();
        assertOnlyOriginal(old, "old", true);
        assertEquals(await metric(node, grace("expired")), expired + 1);
        // A later PUSH starts the stream again, numbering on.
        await using again = await publisherFor(node.wsUrl, "gone");
        await using late = await spectatorFor(node.wsUrl, "gone", { old: true });
        again.sendFragment(media[1].duration, media[1].data);
        assertEquals((await late.nextFragment()).header.seq, 41);
      },
    );

    await t.step("a publisher that breaks the protocol ends the stream at once", async () => {
      const broken: [string, (client: TestClient) => void][] = [
        ["binary without F", (client) => client.sendBinary(new Uint8Array(10))],
        ["oversize", (client) => {
          client.send("F:duration=1");
          client.sendBinary(new Uint8Array(2_100_000));
        }],
        ["garbage", (client) => client.send("F:duration=forever")],
      ];
      for (const [name, breakIt] of broken) {
        const stream = `broken-${name}`;
        await using publisher = await publisherFor(node.wsUrl, stream);
        await using old = await spectatorFor(node.wsUrl, stream, { old: true });
        await using fresh = await spectatorFor(node.wsUrl, stream);
        publisher.sendFragment(media[0].duration, media[0].data);
        await old.nextFragment();
        await fresh.nextFragment();
        const started = performance.now();
        breakIt(publisher);
        assertEquals(await old.nextMessage(), { type: "CLOSE" }, name);
        assertAtMost(performance.now() - started, 1000, `${name}: ms until CLOSE (no grace)`);
        const told = await fresh.nextMessage();
        assertEquals(told.type === "E" && told.code, "PUBLISHER_LOST", name);
        const refused = await publisher.nextMessage();
        assert(refused.type === "E", `${name}: the publisher is told ${JSON.stringify(refused)}`);
        assertOnlyOriginal(old, name, true);
      }
    });

    await t.step("a takeover: nothing but fragments", async () => {
      await using first = await publisherFor(node.wsUrl, "taken", { old: true });
      await using old = await spectatorFor(node.wsUrl, "taken", { old: true });
      first.sendFragment(media[0].duration, media[0].data);
      await old.nextFragment();
      await using second = await publisherFor(node.wsUrl, "taken", { old: true });
      const replaced = await first.nextMessage();
      assertEquals(replaced.type === "E" && replaced.code, "PUBLISHER_REPLACED");
      second.sendFragment(media[1].duration, media[1].data);
      const next = await old.nextFragment();
      assert(sameBytes(next.data, media[1].data));
      assertOnlyOriginal(old, "takeover");
    });

    await t.step("a stream that does not exist: OK then CLOSE, or E STREAM_NOT_FOUND", async () => {
      await using old = await TestClient.connect(node.wsUrl);
      old.send({ type: "PULL", stream: "nobody", auth: await pullToken("nobody"), after: 7 });
      assertEquals(await old.nextMessage(), { type: "OK" });
      assertEquals(await old.nextMessage(), { type: "CLOSE" });
      await old.waitClosed();
      await using fresh = await TestClient.connect(node.wsUrl);
      fresh.send({ type: "PULL", stream: "nobody", auth: await pullToken("nobody"), caps: [] });
      const told = await fresh.nextMessage();
      assertEquals(told.type === "E" && told.code, "STREAM_NOT_FOUND");
      // Authentication stays an E, as the original answered it.
      await using wrong = await TestClient.connect(node.wsUrl);
      wrong.send({ type: "PULL", stream: "nobody", auth: "nope" });
      const refused = await wrong.nextMessage();
      assertEquals(refused.type === "E" && refused.code, "AUTH_FAILED");
    });

    await t.step("the node grants caps to new clients only", async () => {
      await using fresh = await TestClient.connect(node.wsUrl);
      fresh.send({
        type: "PUSH",
        stream: "caps",
        auth: await pushToken("caps"),
        caps: ["errors", "teleport"],
      });
      assertEquals(await fresh.nextMessage(), { type: "OK", caps: ["errors"] });
      assertEquals(texts(fresh), ["OK:caps=errors"]);
      await using old = await TestClient.connect(node.wsUrl);
      old.send({ type: "PULL", stream: "caps", auth: await pullToken("caps"), parts: true });
      assertEquals(await old.nextMessage(), { type: "OK", parts: true });
      assertEquals(texts(old), ["OK:parts=1"], "no caps for a client that sent none");
    });
  });

  Deno.test(`[${transport}] shutdown and idle publishers: old spectators are closed without a word`, async (t) => {
    await t.step("an idle publisher gets a grace too", async () => {
      await using node = await startNode({
        transport,
        env: { IDLE_TIMEOUT_SECONDS: "1", HEARTBEAT_INTERVAL_SECONDS: "0.5" },
      });
      const media = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
      const silent = await publisherFor(node.wsUrl, "idle");
      await using old = await spectatorFor(node.wsUrl, "idle", { old: true });
      const beat = setInterval(() => old.send({ type: "H" }), 300);
      try {
        silent.sendFragment(media[0].duration, media[0].data);
        await old.nextFragment();
        const told = await silent.nextMessage(4000);
        assertEquals(told.type === "E" && told.code, "TIMEOUT", "the silent publisher is closed");
        await counter(node, grace("entered"), 1);
        await using back = await publisherFor(node.wsUrl, "idle");
        back.sendFragment(media[1].duration, media[1].data);
        assert(sameBytes((await old.nextFragment()).data, media[1].data));
        assertOnlyOriginal(old, "idle publisher");
        assertEquals(await metric(node, grace("resumed")), 1);
      } finally {
        clearInterval(beat);
      }
    });

    await t.step("shutdown: the old spectator's socket closes, the new one gets E", async () => {
      const node = await startNode({ transport, env: { SHUTDOWN_TIMEOUT_SECONDS: "3" } });
      try {
        const media = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
        await using publisher = await publisherFor(node.wsUrl, "leaving");
        await using old = await spectatorFor(node.wsUrl, "leaving", { old: true });
        await using fresh = await spectatorFor(node.wsUrl, "leaving");
        publisher.sendFragment(media[0].duration, media[0].data);
        await old.nextFragment();
        await fresh.nextFragment();
        assertEquals((await node.stop("SIGTERM")).code, 0);
        const closed = await old.waitClosed();
        assertEquals([closed.code, closed.reason], [1001, "SHUTTING_DOWN"], "going away");
        assertOnlyOriginal(old, "shutdown");
        const told = await fresh.nextMessage();
        assertEquals(told.type === "E" && told.code, "SHUTTING_DOWN");
      } finally {
        await node.kill();
      }
    });
  });

  Deno.test(`[${transport}] publisher grace through one and two relay hops`, async () => {
    await using origin = await startNode({ transport, env: { NODE_ID: "O" } });
    await using edge = await startNode({
      transport,
      env: { NODE_ID: "E1", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: origin.wsUrl },
    });
    await using outer = await startNode({
      transport,
      env: { NODE_ID: "E2", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: edge.wsUrl },
    });
    const media = await tsFragments({ seconds: 6, fragmentSeconds: 1 });
    let publisher = await publisherFor(origin.wsUrl, "hops", { parts: true });
    const watchers = await Promise.all([
      spectatorFor(edge.wsUrl, "hops", { old: true }),
      spectatorFor(edge.wsUrl, "hops", { parts: true }),
      spectatorFor(outer.wsUrl, "hops", { old: true }),
      spectatorFor(outer.wsUrl, "hops", { old: true, parts: true }),
      spectatorFor(outer.wsUrl, "hops"),
    ]);
    try {
      publisher.sendFragment(media[0].duration, media[0].data, { seq: 100 });
      for (const watcher of watchers) assertEquals((await watcher.nextFragment()).header.seq, 100);
      // Half a fragment in parts, then the publisher's connection drops.
      publisher.send({ type: "P", seq: 101, part: 0 });
      publisher.sendBinary(splitIntoParts(media[1].data, 2)[0]);
      publisher.close();
      await counter(origin, grace("entered"), 1);
      publisher = await publisherFor(origin.wsUrl, "hops", { parts: true });
      for (const fragment of media.slice(2, 4)) {
        const [a, b] = splitIntoParts(fragment.data, 2);
        const seq = 100 + media.indexOf(fragment);
        publisher.send({ type: "P", seq, part: 0 });
        publisher.sendBinary(a);
        publisher.send({ type: "P", seq, part: 1, last: true, duration: fragment.duration });
        publisher.sendBinary(b);
      }
      for (const [index, watcher] of watchers.entries()) {
        const whole: { seq: number; data: Uint8Array }[] = [];
        let pieces: Uint8Array[] = [];
        while (whole.length < 2) {
          const item = await watcher.next(10000);
          if (item.kind !== "text" || item.message.type === "H") continue;
          const message = item.message;
          const body = await watcher.next(5000);
          assert(body.kind === "binary", "media after F or P");
          if (message.type === "F") whole.push({ seq: message.seq!, data: body.data });
          else if (message.type === "P") {
            if (message.part === 0) pieces = [];
            pieces.push(body.data);
            if (message.last) {
              const data = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
              let offset = 0;
              for (const piece of pieces) {
                data.set(piece, offset);
                offset += piece.byteLength;
              }
              whole.push({ seq: message.seq, data });
            }
          } else throw new Error(`watcher ${index}: ${JSON.stringify(message)}`);
        }
        assertEquals(whole.map((item) => item.seq), [102, 103], `watcher ${index}`);
        for (const item of whole) {
          assert(sameBytes(item.data, media[item.seq - 100].data), `${item.seq} byte-exact`);
        }
        assertEquals(watcher.closed, undefined, `watcher ${index} still connected`);
      }
      for (const watcher of [watchers[0], watchers[2], watchers[3]]) {
        assertOnlyOriginal(watcher, "an old spectator on an edge");
      }
      for (const node of [edge, outer]) {
        assertEquals(await metric(node, "hlswscdn_relay_reconnects_total"), 0, "no relay resumed");
      }
      assertEquals(await metric(origin, grace("resumed")), 1);
    } finally {
      publisher.close();
      for (const watcher of watchers) watcher.close();
    }
  });
}
