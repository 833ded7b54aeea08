import { jwtVerify } from "jose";
import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PushTokenSource } from "./push_token.ts";

Deno.test("self-signed push tokens are reused while fresh and renewed at half their lifetime", async () => {
  let now = 1_000_000;
  const tokens = new PushTokenSource({
    streamId: "room/a",
    secret: "s",
    lifetimeSeconds: 60,
    now: () => now,
  });
  const first = await tokens.get();
  const { payload } = await jwtVerify(first, new TextEncoder().encode("s"), {
    subject: "PUSH:room/a",
  });
  assertEquals(payload.exp! - payload.iat!, 60);
  now += 29_000;
  assertEquals(await tokens.get(), first);
  now += 2_000;
  await new Promise((resolve) => setTimeout(resolve, 1100)); // a new iat
  assert((await tokens.get()) !== first, "renewed after half the lifetime");
});

Deno.test("ready tokens and token functions are passed through", async () => {
  assertEquals(await new PushTokenSource({ streamId: "a", token: "t" }).get(), "t");
  let calls = 0;
  const source = new PushTokenSource({ streamId: "a", token: () => `t${++calls}` });
  assertEquals([await source.get(), await source.get()], ["t1", "t2"]);
  assertThrows(() => new PushTokenSource({ streamId: "a" }), TypeError);
});
