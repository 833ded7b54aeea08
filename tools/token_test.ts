import { jwtVerify } from "jose";
import { assert, assertEquals, assertMatch } from "../tests/helpers/assert.ts";
import { decodeToken, parseLifetime, tokenCommand } from "./token.ts";

async function run(args: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const code = await tokenCommand(args, env, (text) => out += text, (text) => err += text);
  return { code, out, err };
}

Deno.test("token command: a push token the node's check accepts, with its claims", async () => {
  const { code, out, err } = await run([
    "--action",
    "push",
    "--stream",
    "room/a",
    "--secret",
    "s3",
    "--lifetime",
    "2h",
    "--claims",
  ]);
  assertEquals(code, 0);
  const token = out.trim();
  const { payload } = await jwtVerify(token, new TextEncoder().encode("s3"), {
    algorithms: ["HS256"],
    subject: "PUSH:room/a",
  });
  assertEquals(payload.exp! - payload.iat!, 7200);
  assertEquals((decodeToken(token).header as { alg: string }).alg, "HS256");
  assertMatch(err, /"sub": "PUSH:room\/a"/);
  assertMatch(err, /expires \d{4}-/);
});

Deno.test("token command: the secret from the environment, for the action", async () => {
  const { code, out } = await run(["--action", "PULL", "--stream", "x"], {
    PULL_SECRET: "pull",
    PUSH_SECRET: "push",
  });
  assertEquals(code, 0);
  const { payload } = await jwtVerify(out.trim(), new TextEncoder().encode("pull"));
  assertEquals(payload.sub, "PULL:x");
  assertEquals(payload.exp! - payload.iat!, 3600);
});

Deno.test("token command: bad arguments exit 2 with one message", async () => {
  for (
    const [args, pattern] of [
      [["--stream", "x", "--secret", "s"], /--action must be push or pull/],
      [["--action", "push", "--secret", "s"], /--stream must be/],
      [["--action", "push", "--stream", "x"], /--secret \(or \$PUSH_SECRET\) is required/],
      [
        ["--action", "push", "--stream", "x", "--secret", "s", "--lifetime", "soon"],
        /--lifetime must be/,
      ],
      [["--bogus"], /Unknown option/],
    ] as [string[], RegExp][]
  ) {
    const { code, out, err } = await run(args);
    assertEquals(code, 2);
    assertEquals(out, "");
    assertMatch(err, pattern);
    assertEquals(err.trim().split("\n").length, 1, "one line");
  }
  assert((await run(["--help"])).out.includes("Usage: deno task token"));
  assertEquals([parseLifetime("30m"), parseLifetime("7d"), parseLifetime("x")].map(String), [
    "1800",
    "604800",
    "NaN",
  ]);
});
