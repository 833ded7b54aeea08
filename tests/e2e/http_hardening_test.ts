/**
 * The plain HTTP side of a node as an attacker sees it (issue 13): the operator page takes its
 * token only by POST (then a cookie) or a header, never in the address, and backs off an address
 * that keeps guessing; every response says `nosniff`; the watch page cannot be framed and has a
 * Content-Security-Policy; `/player/` serves the player's public files only, with CORS only on
 * the files other sites load.
 */

import http from "node:http";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";
import { ensurePlayerBuilt } from "../browser/helpers/browser.ts";

const TOKEN = "operator-token-0123456789abcdef";

/** A request from a given local address (127.0.0.x plays another client). */
function request(
  node: NodeProcess,
  options: { path: string; method?: string; from?: string; headers?: Record<string, string> },
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      host: "127.0.0.1",
      port: node.port,
      path: options.path,
      method: options.method ?? "GET",
      localAddress: options.from ?? "127.0.0.1",
      headers: options.headers,
    }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => text += chunk);
      response.on(
        "end",
        () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

const form = { "content-type": "application/x-www-form-urlencoded" };

Deno.test("the operator page: POST, a cookie, and a back-off for guessers", async (t) => {
  await using node = await startNode({
    env: { OPERATOR_TOKEN: TOKEN, STATS_PUBLIC: "NO", LOG_INFO: "NO" },
  });

  await t.step("the token in the address opens nothing", async () => {
    const answer = await request(node, { path: `/operator?token=${TOKEN}` });
    assertEquals(answer.status, 401);
    assertMatch(answer.body, /<form method="post" action="\/operator">/);
    assertEquals((await request(node, { path: `/stats?token=${TOKEN}` })).status, 401);
  });

  let cookie = "";
  await t.step("POST the token: a cookie, HttpOnly and SameSite=Strict", async () => {
    const answer = await request(
      node,
      { path: "/operator", method: "POST", headers: form },
      `token=${encodeURIComponent(TOKEN)}`,
    );
    assertEquals(answer.status, 303);
    assertEquals(answer.headers.location, "/operator");
    const set = String(answer.headers["set-cookie"] ?? "");
    assertMatch(set, /HttpOnly/);
    assertMatch(set, /SameSite=Strict/);
    assert(!set.includes("Secure"), "plain HTTP: no Secure flag");
    assert(!set.includes(TOKEN), "the cookie is not the token itself");
    cookie = set.split(";")[0];
    const page = await request(node, { path: "/operator", headers: { cookie } });
    assertEquals(page.status, 200);
    assert(!page.body.includes(TOKEN), "the page never holds the token");
    const stats = await request(node, { path: "/stats", headers: { cookie } });
    assertEquals(stats.status, 200, "the cookie opens /stats for the page");
    const bearer = await request(node, {
      path: "/metrics",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assertEquals(bearer.status, 200, "scripts keep the bearer header");
  });

  await t.step("an address that keeps guessing is backed off; others are not", async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 8; index++) {
      const answer = await request(
        node,
        { path: "/operator", method: "POST", headers: form, from: "127.0.0.7" },
        `token=guess-${index}`,
      );
      statuses.push(answer.status);
      if (answer.status === 429) assert(Number(answer.headers["retry-after"]) >= 1);
    }
    assertEquals(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assertEquals(statuses.slice(5), [429, 429, 429]);
    const right = await request(
      node,
      { path: "/operator", method: "POST", headers: form, from: "127.0.0.7" },
      `token=${encodeURIComponent(TOKEN)}`,
    );
    assertEquals(right.status, 429, "not even the right token while backed off");
    const wrongBearer = await request(node, {
      path: "/stats",
      from: "127.0.0.7",
      headers: { authorization: "Bearer nope" },
    });
    assertEquals(wrongBearer.status, 429, "bearer guesses count too");
    const other = await request(node, {
      path: "/operator",
      headers: { cookie },
      from: "127.0.0.8",
    });
    assertEquals(other.status, 200, "another address is not affected");
  });
});

Deno.test("every response says nosniff; the watch page and player files are locked down", async () => {
  await ensurePlayerBuilt();
  await using node = await startNode({ env: { OPERATOR_TOKEN: TOKEN, LOG_INFO: "NO" } });
  for (
    const path of [
      "/health",
      "/metrics",
      "/stats",
      "/operator",
      "/",
      "/nothing",
      "/player/",
      "/player/hls-websocket-cdn.mjs",
      "/player/nothing.js",
    ]
  ) {
    const answer = await request(node, { path });
    assertEquals(answer.headers["x-content-type-options"], "nosniff", path);
  }
  const post = await request(node, { path: "/health", method: "POST" });
  assertEquals(post.status, 405);
  assertEquals(post.headers["x-content-type-options"], "nosniff", "POST /health");

  const watch = await request(node, { path: "/player/watch.html" });
  assertEquals(watch.status, 200);
  const csp = String(watch.headers["content-security-policy"] ?? "");
  assertMatch(csp, /frame-ancestors 'none'/);
  assertMatch(csp, /default-src 'none'/);
  assertEquals(watch.headers["x-frame-options"], "DENY");
  assertEquals(watch.headers["access-control-allow-origin"], undefined, "the page is ours");

  for (
    const file of ["hls-websocket-cdn.mjs", "hls-websocket-cdn.min.js"]
  ) {
    const answer = await request(node, { path: `/player/${file}` });
    assertEquals(answer.status, 200, file);
    assertEquals(
      answer.headers["access-control-allow-origin"],
      "*",
      `${file}: other sites load it`,
    );
  }
  for (const file of ["hls-websocket-cdn.mjs.map", "hls-websocket-cdn.min.js.map"]) {
    const answer = await request(node, { path: `/player/${file}` });
    assertEquals(answer.status, 404, `${file}: source maps are not served`);
  }
});
