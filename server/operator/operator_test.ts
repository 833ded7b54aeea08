import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { parseConfig } from "../config.ts";
import { Logger } from "../log.ts";
import { createHttpHandler } from "../http.ts";
import { CdnNode } from "../node.ts";
import { OperatorAccess, SESSION_COOKIE } from "./access.ts";

const TOKEN = "a-long-enough-operator-token";

/** A node without listeners, its HTTP handler called directly. */
function node(env: Record<string, string>) {
  const config = parseConfig({ PULL_SECRET: "p", PUSH_SECRET: "q", ...env });
  const cdnNode = new CdnNode(config, Logger.silent());
  return { fetch: createHttpHandler(cdnNode), shutdown: () => cdnNode.shutdown() };
}

Deno.test("the token is read from a bearer header or the session cookie, never the query", () => {
  const access = new OperatorAccess(TOKEN);
  const check = (request: Request) => access.check(request, "10.0.0.1").kind;
  const bearer = new Request("http://n/stats", { headers: { authorization: `Bearer ${TOKEN}` } });
  assertEquals(check(bearer), "operator");
  assertEquals(check(new Request(`http://n/operator?token=${TOKEN}`)), "anonymous");
  assertEquals(check(new Request("http://n/operator")), "anonymous");
  assertEquals(
    check(new Request("http://n/", { headers: { authorization: `Bearer ${TOKEN}!` } })),
    "wrong",
  );
  assertEquals(
    check(new Request("http://n/", { headers: { authorization: `Basic ${TOKEN}` } })),
    "anonymous",
  );
  const set = access.sessionCookie(new Request("http://n/operator"));
  assert(set.includes("HttpOnly") && set.includes("SameSite=Strict") && !set.includes("Secure"));
  assert(!set.includes(TOKEN), "the cookie is derived from the token, not the token");
  assert(access.sessionCookie(new Request("https://n/operator")).includes("; Secure"));
  const cookie = set.split(";")[0];
  assertEquals(check(new Request("http://n/stats", { headers: { cookie } })), "operator");
  assertEquals(
    check(new Request("http://n/stats", { headers: { cookie: `${SESSION_COOKIE}=forged` } })),
    "wrong",
  );
  assertEquals(
    new OperatorAccess("").check(new Request("http://n/", { headers: { cookie } }), "10.0.0.1")
      .kind,
    "anonymous",
    "no token configured: nobody",
  );
});

Deno.test("the login form POSTs the token; wrong guesses back the address off", async () => {
  const served = node({ OPERATOR_TOKEN: TOKEN });
  const post = (token: string, address = "10.0.0.1") =>
    served.fetch(
      new Request("http://n/operator", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
      }),
      address,
    );
  try {
    const login = await served.fetch(new Request("http://n/operator"), "10.0.0.1");
    assertEquals(login.status, 401);
    assert((await login.text()).includes('<form method="post" action="/operator">'));
    const ok = await post(TOKEN);
    assertEquals(ok.status, 303);
    assert(ok.headers.get("set-cookie")?.startsWith(`${SESSION_COOKIE}=`));
    const statuses = [];
    for (let index = 0; index < 7; index++) {
      const answer = await post(`guess-${index}`);
      statuses.push(answer.status);
      await answer.body?.cancel();
    }
    assertEquals(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assertEquals((await post(TOKEN)).status, 429, "backed off, even with the right token");
    assertEquals((await post(TOKEN, "10.0.0.2")).status, 303, "other addresses are not");
    const huge = await served.fetch(
      new Request("http://n/operator", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${"x".repeat(10_000)}`,
      }),
      "10.0.0.3",
    );
    assertEquals(huge.status, 401, "a form larger than 4 KB is not read");
    const other = await served.fetch(
      new Request("http://n/health", { method: "POST" }),
      "10.0.0.3",
    );
    assertEquals(other.status, 405);
    assertEquals(other.headers.get("x-content-type-options"), "nosniff");
  } finally {
    await served.shutdown();
  }
});

Deno.test("by default /metrics is public and /stats (stream ids) needs the operator token", async () => {
  for (const env of [{}, { OPERATOR_TOKEN: TOKEN }] as Record<string, string>[]) {
    const fresh = node(env);
    try {
      assertEquals((await fresh.fetch(new Request("http://n/metrics"), "10.0.0.1")).status, 200);
      const refused = await fresh.fetch(new Request("http://n/stats"), "10.0.0.1");
      assertEquals(refused.status, 401);
      const hint = await refused.text();
      assert(hint.includes(env.OPERATOR_TOKEN ? "Bearer" : "STATS_PUBLIC=YES"), hint);
      const withToken = await fresh.fetch(
        new Request("http://n/stats", { headers: { authorization: `Bearer ${TOKEN}` } }),
        "10.0.0.1",
      );
      assertEquals(withToken.status, env.OPERATOR_TOKEN ? 200 : 401);
      await withToken.body?.cancel();
    } finally {
      await fresh.shutdown();
    }
  }
});

Deno.test("STATS_PUBLIC=YES keeps both open, without an operator page", async () => {
  const open = node({ STATS_PUBLIC: "YES" });
  try {
    assertEquals((await open.fetch(new Request("http://n/operator"), "10.0.0.1")).status, 404);
    assertEquals((await open.fetch(new Request("http://n/stats"), "10.0.0.1")).status, 200);
    assertEquals((await open.fetch(new Request("http://n/metrics"), "10.0.0.1")).status, 200);
  } finally {
    await open.shutdown();
  }
});

Deno.test("STATS_PUBLIC=NO: /stats and /metrics need the operator token", async () => {
  const closed = node({ OPERATOR_TOKEN: TOKEN, STATS_PUBLIC: "NO" });
  try {
    for (const path of ["/stats", "/metrics"]) {
      const refused = await closed.fetch(new Request(`http://n${path}`), "10.0.0.1");
      assertEquals(refused.status, 401);
      assertEquals(refused.headers.get("www-authenticate"), 'Bearer realm="hls-websocket-cdn"');
      const allowed = await closed.fetch(
        new Request(`http://n${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
        "10.0.0.1",
      );
      assertEquals(allowed.status, 200);
      await allowed.body?.cancel();
    }
    assertEquals((await closed.fetch(new Request("http://n/health"), "10.0.0.1")).status, 200);
  } finally {
    await closed.shutdown();
  }
});

Deno.test("plain HTTP requests over the rate get 429 with Retry-After", async () => {
  const limited = node({ RATE_LIMIT_ENABLED: "YES", RATE_LIMIT_REQ_PER_SEC: "2" });
  try {
    const statuses = [];
    for (let index = 0; index < 4; index++) {
      const response = await limited.fetch(new Request("http://n/health"), "10.0.0.1");
      statuses.push(response.status);
      if (response.status === 429) assertEquals(response.headers.get("retry-after"), "1");
      await response.body?.cancel();
    }
    assertEquals(statuses, [200, 200, 429, 429]);
    const other = await limited.fetch(new Request("http://n/health"), "10.0.0.2");
    assertEquals(other.status, 200);
  } finally {
    await limited.shutdown();
  }
});

Deno.test("configuration: short operator tokens and closed stats without a token are refused", () => {
  const base = { PULL_SECRET: "p", PUSH_SECRET: "q" };
  for (
    const [env, name] of [
      [{ OPERATOR_TOKEN: "short" }, "OPERATOR_TOKEN"],
      [{ STATS_PUBLIC: "NO" }, "STATS_PUBLIC"],
      [{ RATE_LIMIT_WHITELIST: "10.0.0.0/33" }, "RATE_LIMIT_WHITELIST"],
      [{ ALLOWED_ORIGINS: "example.com" }, "ALLOWED_ORIGINS"],
      [{ PULL_JWKS_URL: "ftp://keys" }, "PULL_JWKS_URL"],
    ] as const
  ) {
    try {
      parseConfig({ ...base, ...env });
      throw new Error(`${name} accepted`);
    } catch (error) {
      assert(error instanceof Error && error.message.startsWith(`${name}=`), String(error));
    }
  }
  const keys = parseConfig({ PUSH_SECRET: "q", PULL_JWKS_URL: "https://auth.example/jwks.json" });
  assertEquals(keys.auth.pullSecret, "", "public keys alone are enough to start");
});
