/**
 * What an anonymous client or a token holder could do to one node, probed as an attacker would
 * (issue 13): walk around the per-address cap, hold memory before the first message, before `OK`
 * or with ignored messages, forge log lines, poison sequence numbers, use tokens that never
 * expire, and read tokens from the trace log. Each is refused or bounded, with `E` and a code
 * where the socket can still take one. Runs on every transport, except where the built-in socket
 * cannot do what is checked (shown as ignored, with the reason).
 */

import { SignJWT } from "jose";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { publisherFor, pullToken, pushToken, spectatorFor, TestClient } from "../helpers/client.ts";
import { FakeUpstream } from "../helpers/fake_upstream.ts";
import { tsFragments } from "../helpers/media.ts";
import { stats, waitUntil } from "../helpers/node_metrics.ts";
import { startNode, TEST_SECRETS, testTransports } from "../helpers/node_process.ts";
import { RawWebSocket } from "../helpers/raw_socket.ts";

/** The first non-heartbeat answer: `OK`, or the code of an `E`. */
async function answer(client: TestClient, timeoutMs = 5000): Promise<string> {
  const message = await client.nextMessage(timeoutMs);
  if (message.type === "OK") return "OK";
  assert(message.type === "E", `expected OK or E, got ${JSON.stringify(message)}`);
  return message.code;
}

/** Text frames a raw socket received, decoded. */
function texts(raw: RawWebSocket): string[] {
  return raw.frames.filter((frame) => frame.opcode === 1).map((frame) =>
    new TextDecoder().decode(frame.payload)
  );
}

/** The header of a masked frame (`opcode`) that announces `length` bytes (64-bit length). */
function announce(opcode: number, length: number): Uint8Array {
  const header = new Uint8Array(14);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  header.set([1, 2, 3, 4], 10);
  return header;
}

const LOG_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(ERROR|WARNING|INFO|REQUEST|DEBUG|TRACE)\] /;

for (const transport of testTransports()) {
  Deno.test(`[${transport}] hardening: limits an anonymous client cannot walk around`, async (t) => {
    // An upstream that accepts and never answers keeps a PULL of an unknown stream "starting".
    await using silent = await FakeUpstream.start(() => {});
    await using node = await startNode({
      transport,
      env: {
        RATE_LIMIT_ENABLED: "YES",
        RATE_LIMIT_CONNECTIONS: "3",
        RATE_LIMIT_WHITELIST: "127.0.0.1",
        ALLOWED_ORIGINS: "https://ok.example",
        MAX_PENDING_CONNECTIONS_PER_ADDRESS: "2",
        FIRST_MESSAGE_TIMEOUT_SECONDS: "10",
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: `${silent.origin}/`,
        UPSTREAM_TIMEOUT_SECONDS: "20",
        LOG_INFO: "YES",
      },
    });
    const open: TestClient[] = [];
    try {
      await t.step("refusals in between never free a slot: the cap holds", async () => {
        // Three pulls that wait for the silent upstream hold the address's three slots.
        for (let index = 0; index < 3; index++) {
          const client = await TestClient.connect(node.wsUrl, { from: "127.0.0.2" });
          client.send({ type: "PULL", stream: "held", auth: await pullToken("held") });
          open.push(client);
        }
        await waitUntil(
          async () => (await stats(node)).connections >= 3,
          5000,
          "three connections from 127.0.0.2",
        );
        for (let round = 0; round < 7; round++) {
          await using evil = await TestClient.connect(node.wsUrl, {
            from: "127.0.0.2",
            origin: "https://evil.example",
          });
          assertEquals(await answer(evil), "ORIGIN_NOT_ALLOWED", `round ${round}: bad origin`);
          await using plain = await TestClient.connect(node.wsUrl, { from: "127.0.0.2" });
          assertEquals(await answer(plain), "RATE_LIMITED", `round ${round}: still at the cap`);
        }
      });

      await t.step(
        "connections per address that have not sent their first message are bounded",
        async () => {
          const waiting: TestClient[] = [];
          for (let index = 0; index < 2; index++) {
            waiting.push(await TestClient.connect(node.wsUrl, { from: "127.0.0.5" }));
          }
          open.push(...waiting);
          // Under RATE_LIMIT_CONNECTIONS (3), over the bound of silent ones (2).
          await using third = await TestClient.connect(node.wsUrl, { from: "127.0.0.5" });
          assertEquals(await answer(third), "RATE_LIMITED");
          // One of them speaks: its slot is free for the next newcomer.
          const before = silent.pulls.length;
          waiting[0].send({ type: "PULL", stream: "x", auth: await pullToken("x") });
          await silent.waitForPulls(before + 1); // the node has read it
          const next = await TestClient.connect(node.wsUrl, { from: "127.0.0.5" });
          open.push(next);
          next.send({ type: "H" });
          assertEquals(await answer(next), "PROTOCOL_ERROR", "admitted, then refused for H");
        },
      );
    } finally {
      for (const client of open) client.close();
    }

    await t.step({
      name: "before the first message, a frame larger than a first message is refused at once",
      // The built-in socket reads a whole frame (up to Deno's own 64 MiB) before the node sees
      // it: this bound cannot be applied there (see operations.md).
      ignore: transport === "deno",
      fn: async () => {
        for (const opcode of [2, 1]) {
          const raw = await RawWebSocket.connect(node.port);
          raw.resume();
          try {
            const started = performance.now();
            await raw.sendRaw(announce(opcode, 45_000_000));
            await raw.sendRaw(new Uint8Array(1000));
            assert(await raw.waitFor(() => raw.closed, 3000), "closed at once");
            assertMatch(texts(raw)[0] ?? "", /^E:code=MESSAGE_TOO_LARGE/);
            assert(performance.now() - started < 3000);
          } finally {
            await raw.close();
          }
        }
      },
    });

    await t.step({
      name: "a spectator may never send a large frame",
      ignore: transport === "deno",
      fn: async () => {
        const raw = await RawWebSocket.connect(node.port);
        raw.resume();
        try {
          await using publisher = await publisherFor(node.wsUrl, "watched");
          await raw.sendText(`PULL:stream=watched&auth=${await pullToken("watched")}&caps=errors`);
          assert(await raw.waitFor(() => texts(raw).length > 0, 3000));
          assertEquals(texts(raw)[0], "OK:caps=errors");
          await raw.sendRaw(announce(2, 1_000_000));
          assert(await raw.waitFor(() => raw.closed, 3000), "closed at once");
          assertMatch(texts(raw)[1] ?? "", /^E:code=MESSAGE_TOO_LARGE/);
          assertEquals(publisher.closed, undefined);
        } finally {
          await raw.close();
        }
      },
    });

    await t.step({
      name: "media sent before OK is bounded like a first message",
      // The built-in socket hands over whole frames later, in their own tasks: whether one was
      // sent before OK cannot be told there.
      ignore: transport === "deno",
      fn: async () => {
        const raw = await RawWebSocket.connect(node.port);
        raw.resume();
        try {
          const push = new TextEncoder().encode(
            `PUSH:stream=early&auth=${await pushToken("early")}`,
          );
          const fragment = new TextEncoder().encode("F:duration=1");
          // Three frames in one write, so they all arrive before the token is checked.
          const frames = [frame(1, push), frame(1, fragment), frame(2, new Uint8Array(1_000_000))];
          await raw.sendRaw(concat(frames));
          assert(await raw.waitFor(() => raw.closed, 5000), "closed");
          assertEquals(
            texts(raw).find((text) => text.startsWith("E:"))?.split("&")[0],
            "E:code=MESSAGE_TOO_LARGE",
          );
        } finally {
          await raw.close();
        }
      },
    });

    await t.step("what a connection holds before OK is bounded in bytes", async () => {
      // The stream is unknown here, so its PULL waits for the silent upstream: "starting".
      await using client = await TestClient.connect(node.wsUrl);
      const before = silent.pulls.length;
      client.send({ type: "PULL", stream: "nowhere", auth: await pullToken("nowhere") });
      await silent.waitForPulls(before + 1);
      for (let index = 0; index < 10; index++) client.send(`NEWTHING:${"x".repeat(8000)}`);
      assertEquals(await answer(client), "PROTOCOL_ERROR");
      await client.waitClosed();
    });

    await t.step("every log line is one line, whatever a client sends", async () => {
      const forged = "%0A2026-01-01T00:00:00.000Z [ERROR] FORGED%1B[31m";
      await using one = await TestClient.connect(node.wsUrl);
      one.send(`PULL:stream=a&auth=x&only_source=${forged}`);
      assertEquals(await answer(one), "INVALID_MESSAGE");
      const id = "a\n2026-01-01T00:00:00.000Z [ERROR] FORGED2\u001b[31m";
      await using two = await TestClient.connect(node.wsUrl);
      two.send({
        type: "PULL",
        stream: id,
        auth: await pullToken(id),
        onlySource: true,
        caps: ["errors"],
      });
      assertEquals(await answer(two), "STREAM_NOT_FOUND");
      await using three = await TestClient.connect(node.wsUrl);
      three.send(`PULL:stream=b&auth=${await pullToken("b")}&via=edge-1,bad%0A[ERROR]%20FORGED3`);
      assertEquals(await answer(three), "INVALID_MESSAGE", "a via id with control characters");
      await waitUntil(() => node.output.includes("FORGED2"), 3000, "the refusals are logged");
      for (const line of node.output.split("\n")) {
        if (line === "") continue;
        assertMatch(line, LOG_LINE);
        assert(!line.includes("\u001b"), `no escape sequence: ${line}`);
      }
      assert(node.output.includes("\\x0a2026-01-01"), "the newline is shown escaped");
    });

    await t.step("the watched node still serves, nothing left open", async () => {
      await waitUntil(async () => (await stats(node)).connections === 0, 8000, "all closed");
    });
  });

  Deno.test(`[${transport}] hardening: what a token holder cannot do`, async (t) => {
    await using node = await startNode({
      transport,
      env: { LOG_TRACE: "YES", LOG_INFO: "YES" },
    });
    const media = await tsFragments();

    await t.step("the trace log never shows a token", async () => {
      const token = await pushToken("traced");
      await using publisher = await TestClient.connect(node.wsUrl);
      publisher.send({ type: "PUSH", stream: "traced", auth: token });
      assertEquals(await answer(publisher), "OK");
      await waitUntil(() => node.output.includes("<<< PUSH"), 3000, "the PUSH is traced");
      assert(!node.output.includes(token), "the token is not in the log");
      assert(!node.output.includes(token.split(".")[2]), "nor its signature");
    });

    await t.step("sequence numbers that cannot be carried restart, never poison", async () => {
      const max = Number.MAX_SAFE_INTEGER;
      await using publisher = await publisherFor(node.wsUrl, "seq");
      await using spectator = await spectatorFor(node.wsUrl, "seq", { maxInitialFragments: 0 });
      publisher.sendFragment(media[0].duration, media[0].data, { seq: max });
      publisher.sendFragment(media[1].duration, media[1].data);
      publisher.sendFragment(media[2].duration, media[2].data);
      const got = [];
      for (let index = 0; index < 3; index++) got.push((await spectator.nextFragment()).header);
      assertEquals(got.map((header) => header.seq), [max, 0, 1]);
      assertEquals(got[1].discontinuity, true, "the restart is a discontinuity");
      publisher.send({ type: "CLOSE" });
      await publisher.waitClosed();
      await using next = await publisherFor(node.wsUrl, "seq");
      await using watcher = await spectatorFor(node.wsUrl, "seq", { maxInitialFragments: 0 });
      next.sendFragment(media[3].duration, media[3].data);
      next.sendFragment(media[4].duration, media[4].data);
      assertEquals((await watcher.nextFragment()).header.seq, 2, "the next publisher continues");
      assertEquals((await watcher.nextFragment()).header.seq, 3);
      await using beyond = await publisherFor(node.wsUrl, "seq2");
      beyond.send(`F:duration=1&seq=${max + 1}`);
      assertEquals(await answer(beyond), "INVALID_MESSAGE", "a number above 2^53-1 is refused");
    });

    await t.step("a token that lives too long is refused; sub and exp alone work", async () => {
      await using _publisher = await publisherFor(node.wsUrl, "tok");
      const now = Math.floor(Date.now() / 1000);
      const secret = new TextEncoder().encode(TEST_SECRETS.PULL_SECRET);
      const sign = (exp: number) =>
        new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("PULL:tok")
          .setExpirationTime(exp).sign(secret);
      await using forever = await TestClient.connect(node.wsUrl);
      forever.send({ type: "PULL", stream: "tok", auth: await sign(253402300799) });
      const refused = await forever.nextMessage();
      assertEquals(refused.type === "E" && refused.code, "AUTH_FAILED");
      assertMatch(refused.type === "E" ? refused.message : "", /TOKEN_MAX_LIFETIME_SECONDS/);
      await using hour = await TestClient.connect(node.wsUrl);
      hour.send({ type: "PULL", stream: "tok", auth: await sign(now + 3600) });
      assertEquals(await answer(hour), "OK", "a token with only sub and exp (no iat)");
      await using week = await TestClient.connect(node.wsUrl);
      week.send({ type: "PULL", stream: "tok", auth: await sign(now + 8 * 86400) });
      assertEquals(await answer(week), "OK", "viewer tokens of more than a week");
    });

    await t.step("messages the node ignores have a budget; heartbeats do not count", async () => {
      await using _publisher = await publisherFor(node.wsUrl, "budget");
      await using chatty = await spectatorFor(node.wsUrl, "budget", { maxInitialFragments: 0 });
      for (let index = 0; index < 200; index++) chatty.send({ type: "H" });
      await using flood = await spectatorFor(node.wsUrl, "budget", { maxInitialFragments: 0 });
      const junk = `SOMETHINGNEW:${"x".repeat(8000)}`;
      for (let index = 0; index < 600; index++) flood.send(junk);
      assertEquals(await answer(flood), "PROTOCOL_ERROR");
      await flood.waitClosed();
      await using probe = await spectatorFor(node.wsUrl, "budget", { maxInitialFragments: 0 });
      assertEquals(chatty.closed, undefined, "heartbeats are never budgeted");
      assertEquals(probe.closed, undefined);
    });
  });

  Deno.test(`[${transport}] hardening: short secrets are named at every start`, async () => {
    {
      await using node = await startNode({ transport });
      assertMatch(node.output, /PULL_SECRET is shorter than 32 bytes/);
      assertMatch(node.output, /PUSH_SECRET is shorter than 32 bytes/);
    }
    await using strong = await startNode({
      transport,
      env: { PULL_SECRET: "p".repeat(32), PUSH_SECRET: "q".repeat(40) },
    });
    assert(!strong.output.includes("shorter than 32 bytes"), strong.output);
  });
}

/** A masked, final frame. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const bytes = new Uint8Array(size + 4 + length);
  bytes[0] = 0x80 | opcode;
  if (length < 126) bytes[1] = 0x80 | length;
  else if (length < 65536) {
    bytes[1] = 0x80 | 126;
    bytes[2] = length >> 8;
    bytes[3] = length & 0xff;
  } else {
    bytes[1] = 0x80 | 127;
    new DataView(bytes.buffer).setBigUint64(2, BigInt(length));
  }
  // A zero mask leaves the payload as it is.
  bytes.set(payload, size + 4);
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
