/**
 * Connection rules: tokens, the first message, stream ids, frame order, sizes, timeouts,
 * heartbeats, and what a second PUSH does. Every refusal is an `E` with its code, then a close.
 * Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, pullToken, pushToken, spectatorFor, TestClient } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import {
  type NodeProcess,
  startNode,
  TEST_SECRETS,
  testTransports,
} from "../helpers/node_process.ts";
import { signToken } from "../../shared/token.ts";
import { SignJWT } from "jose";

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
}

/** Sends `first` (then `then`) on a new connection and returns the `E` code the node answers. */
async function refusal(
  node: NodeProcess,
  first: string | Uint8Array,
  then: (string | Uint8Array)[] = [],
): Promise<string> {
  await using client = await TestClient.connect(node.wsUrl);
  for (const message of [first, ...then]) {
    if (typeof message === "string") client.send(message);
    else client.sendBinary(message);
  }
  for (;;) {
    const message = await client.nextMessage();
    if (message.type === "OK") continue;
    assert(message.type === "E", `expected E, got ${JSON.stringify(message)}`);
    await client.waitClosed();
    return message.code;
  }
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] connection rules`, async (t) => {
    await using node = await startNode({
      transport,
      env: {
        FIRST_MESSAGE_TIMEOUT_SECONDS: "1",
        HEARTBEAT_INTERVAL_SECONDS: "1",
        IDLE_TIMEOUT_SECONDS: "3",
        MAX_BINARY_MESSAGE_SIZE: "100000",
      },
    });
    const media = await tsFragments();
    await using publisher = await publisherFor(node.wsUrl, "s");

    await t.step("every bad token is refused with AUTH_FAILED", async () => {
      const now = Math.floor(Date.now() / 1000);
      const hs512 = await new SignJWT({}).setProtectedHeader({ alg: "HS512" }).setSubject("PULL:s")
        .setExpirationTime(now + 60).sign(new TextEncoder().encode(TEST_SECRETS.PULL_SECRET));
      const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("PULL:s")
        .sign(new TextEncoder().encode(TEST_SECRETS.PULL_SECRET));
      const tokens: Record<string, string> = {
        "wrong secret": await pullToken("s", "not-the-secret"),
        "other stream": await pullToken("t"),
        "push token used to pull": await pushToken("s"),
        "expired": await signToken({
          secret: TEST_SECRETS.PULL_SECRET,
          action: "PULL",
          stream: "s",
          lifetimeSeconds: -10,
        }),
        "garbage": "not.a.token",
        "empty": "",
        "alg none": `${base64url({ alg: "none", typ: "JWT" })}.${
          base64url({ sub: "PULL:s", exp: now + 60 })
        }.`,
        "alg HS512": hs512,
        "no exp": noExp,
      };
      for (const [name, token] of Object.entries(tokens)) {
        assertEquals(
          await refusal(node, `PULL:stream=s&auth=${encodeURIComponent(token)}`),
          "AUTH_FAILED",
          name,
        );
      }
      assertEquals(
        await refusal(node, `PUSH:stream=s2&auth=${await pullToken("s2")}`),
        "AUTH_FAILED",
        "pull token used to push",
      );
      // And the right token works.
      await using spectator = await spectatorFor(node.wsUrl, "s");
      assertEquals(spectator.closed, undefined, "the right token is accepted");
    });

    await t.step("the first message must be PUSH or PULL", async () => {
      assertEquals(await refusal(node, "H"), "PROTOCOL_ERROR");
      assertEquals(await refusal(node, "F:duration=1"), "PROTOCOL_ERROR");
      assertEquals(await refusal(node, new Uint8Array([0x47, 0, 0])), "PROTOCOL_ERROR");
      assertEquals(await refusal(node, "!!!"), "INVALID_MESSAGE");
      assertEquals(await refusal(node, "PULL:auth=x"), "INVALID_MESSAGE");
    });

    await t.step("no first message within the timeout gets E TIMEOUT", async () => {
      await using client = await TestClient.connect(node.wsUrl);
      const started = performance.now();
      const message = await client.nextMessage(5000);
      assertEquals(message.type === "E" && message.code, "TIMEOUT");
      assert(performance.now() - started >= 900, "not before the timeout");
      await client.waitClosed();
    });

    await t.step("stream ids of 255 characters work, 256 are refused", async () => {
      const id255 = "x".repeat(255);
      await using pub = await publisherFor(node.wsUrl, id255);
      await using spectator = await spectatorFor(node.wsUrl, id255);
      pub.sendFragment(media[0].duration, media[0].data);
      assertEquals((await spectator.nextFragment()).data.byteLength, media[0].data.byteLength);
      const id256 = "x".repeat(256);
      assertEquals(
        await refusal(node, `PUSH:stream=${id256}&auth=${await pushToken(id256)}`),
        "INVALID_STREAM_ID",
      );
      assertEquals(
        await refusal(node, `PULL:stream=${id256}&auth=${await pullToken(id256)}`),
        "INVALID_STREAM_ID",
      );
      assertEquals(await refusal(node, `PULL:stream=&auth=x`), "INVALID_STREAM_ID");
    });

    await t.step(
      "binary without F, and text where binary was due, break the protocol",
      async () => {
        const push = `PUSH:stream=b&auth=${await pushToken("b")}`;
        assertEquals(await refusal(node, push, [new Uint8Array([1, 2, 3])]), "PROTOCOL_ERROR");
        assertEquals(await refusal(node, push, ["F:duration=1", "F:duration=1"]), "PROTOCOL_ERROR");
        assertEquals(await refusal(node, push, ["PULL:stream=b&auth=x"]), "PROTOCOL_ERROR");
      },
    );

    await t.step(
      "a publisher that breaks the protocol ends the stream for its spectators",
      async () => {
        await using pub = await publisherFor(node.wsUrl, "broken");
        await using spectator = await spectatorFor(node.wsUrl, "broken");
        pub.sendBinary(new Uint8Array(10));
        const error = await pub.nextMessage();
        assertEquals(error.type === "E" && error.code, "PROTOCOL_ERROR");
        const told = await spectator.nextMessage();
        assertEquals(told.type === "E" && told.code, "PUBLISHER_LOST");
      },
    );

    await t.step("a spectator may not send media", async () => {
      assertEquals(
        await refusal(node, `PULL:stream=s&auth=${await pullToken("s")}&caps=errors`, [
          "F:duration=1",
        ]),
        "PROTOCOL_ERROR",
      );
    });

    await t.step(
      "a binary frame over MAX_BINARY_MESSAGE_SIZE gets E MESSAGE_TOO_LARGE",
      async () => {
        await using pub = await publisherFor(node.wsUrl, "large");
        await using spectator = await spectatorFor(node.wsUrl, "large");
        pub.send("F:duration=1");
        pub.sendBinary(new Uint8Array(200000));
        const error = await pub.nextMessage();
        assertEquals(error.type === "E" && error.code, "MESSAGE_TOO_LARGE");
        const told = await spectator.nextMessage();
        assertEquals(told.type === "E" && told.code, "PUBLISHER_LOST");
      },
    );

    await t.step("unknown message types are ignored", async () => {
      await using spectator = await spectatorFor(node.wsUrl, "s", { maxInitialFragments: 0 });
      spectator.send("SOMETHINGNEW:x=1");
      publisher.sendFragment(media[1].duration, media[1].data);
      assertEquals((await spectator.nextFragment()).data.byteLength, media[1].data.byteLength);
    });

    await t.step("the node sends heartbeats and closes connections that send nothing", async () => {
      await using quiet = await spectatorFor(node.wsUrl, "s", { maxInitialFragments: 0 });
      await using chatty = await spectatorFor(node.wsUrl, "s", { maxInitialFragments: 0 });
      const beat = setInterval(() => chatty.send({ type: "H" }), 500);
      try {
        assertEquals(await quiet.nextText(2500), { type: "H" }, "a heartbeat after 1 s of silence");
        let message = await quiet.nextText(4000);
        while (message.type === "H") message = await quiet.nextText(4000);
        assertEquals(message.type === "E" && message.code, "TIMEOUT");
        await quiet.waitClosed();
        assertEquals(chatty.closed, undefined, "a connection that sends heartbeats stays open");
      } finally {
        clearInterval(beat);
      }
    });

    await t.step("a second PUSH takes the stream over; spectators stay", async () => {
      await using first = await publisherFor(node.wsUrl, "takeover");
      await using spectator = await spectatorFor(node.wsUrl, "takeover", {
        maxInitialFragments: 0,
      });
      first.sendFragment(media[0].duration, media[0].data);
      assertEquals((await spectator.nextFragment()).header.seq, 0);
      await using second = await publisherFor(node.wsUrl, "takeover");
      const replaced = await first.nextMessage();
      assertEquals(replaced.type === "E" && replaced.code, "PUBLISHER_REPLACED");
      second.sendFragment(media[1].duration, media[1].data);
      const next = await spectator.nextFragment();
      assertEquals(next.header.seq, 1, "numbering continues");
      assertEquals(
        next.header.discontinuity,
        true,
        "the new publisher's first fragment is a discontinuity",
      );
      await first.waitClosed();
      second.sendFragment(media[2].duration, media[2].data);
      assertEquals((await spectator.nextFragment()).header.discontinuity, undefined);
    });
  });

  Deno.test(`[${transport}] a node with PUSH_ALLOWED=NO refuses publishers`, async () => {
    await using node = await startNode({ transport, env: { PUSH_ALLOWED: "NO", PUSH_SECRET: "" } });
    assertEquals(
      await refusal(node, `PUSH:stream=a&auth=${await pushToken("a")}`),
      "PUSH_NOT_ALLOWED",
    );
  });
}
