import { assertEquals, assertRejects } from "../tests/helpers/assert.ts";
import { TokenVerifier } from "./token_verifier.ts";
import { signToken } from "../shared/token.ts";
import { ProtocolError } from "../shared/errors.ts";

const config = {
  pullSecret: "pull",
  pushSecret: "push",
  pushAllowed: true,
  pullAuthDisabled: false,
  pushAuthDisabled: false,
};

Deno.test("a token for the action and stream, signed with its secret, passes", async () => {
  const verifier = new TokenVerifier(config);
  await verifier.verify(
    "PULL",
    "room/a",
    await signToken({ secret: "pull", action: "PULL", stream: "room/a" }),
  );
  await verifier.verify(
    "PUSH",
    "room/a",
    await signToken({ secret: "push", action: "PUSH", stream: "room/a" }),
  );
});

Deno.test("refusals say why", async () => {
  const verifier = new TokenVerifier(config);
  const reasons: [string, Promise<string>][] = [
    [
      "the token is for another action or stream",
      signToken({ secret: "pull", action: "PULL", stream: "room/b" }),
    ],
    [
      "the token signature is not valid",
      signToken({ secret: "push", action: "PULL", stream: "room/a" }),
    ],
    [
      "the token has expired",
      signToken({ secret: "pull", action: "PULL", stream: "room/a", lifetimeSeconds: -5 }),
    ],
    ["the token is malformed", Promise.resolve("abc")],
    ["a token is required (auth parameter)", Promise.resolve("")],
  ];
  for (const [reason, token] of reasons) {
    const error = await assertRejects(
      verifier.verify("PULL", "room/a", await token),
      ProtocolError,
    );
    assertEquals([error.code, error.message], ["AUTH_FAILED", reason]);
  }
});

Deno.test("only an explicit opt-out with an empty secret accepts any token", async () => {
  const open = new TokenVerifier({ ...config, pullSecret: "", pullAuthDisabled: true });
  await open.verify("PULL", "x", "");
  await open.verify("PULL", "x", "whatever");
  assertEquals(await open.signPull("x"), "");
  const withSecret = new TokenVerifier({ ...config, pullAuthDisabled: true });
  await assertRejects(withSecret.verify("PULL", "x", ""), ProtocolError);
});
