/**
 * The node serves the built player under `/player/` (`SERVE_PLAYER`, default YES): the files with
 * their types, the watch page at `/player/`, nothing outside `client/dist/`, and nothing at all
 * with `SERVE_PLAYER=NO`.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { startNode } from "../helpers/node_process.ts";
import { ensurePlayerBuilt } from "./helpers/browser.ts";

Deno.test("the node serves the built player under /player/", async () => {
  await ensurePlayerBuilt();
  await using node = await startNode({ env: { LOG_INFO: "NO" } });
  const get = (path: string) => fetch(`${node.httpUrl}${path}`, { redirect: "manual" });
  for (
    const [path, type] of [
      ["/player/hls-websocket-cdn.mjs", "text/javascript"],
      ["/player/hls-websocket-cdn.min.js", "text/javascript"],
      ["/player/hls-websocket-cdn.worker.js", "text/javascript"],
      ["/player/watch.html", "text/html"],
      ["/player/", "text/html"],
    ]
  ) {
    const response = await get(path);
    const body = await response.text();
    assertEquals(response.status, 200, path);
    assert(response.headers.get("content-type")?.startsWith(type), `${path} is ${type}`);
    assert(body.length > 100, `${path} has a body`);
  }
  const global = await (await get("/player/hls-websocket-cdn.min.js")).text();
  assert(global.includes("HlsWebSocketCdn"), "the script build defines the global");
  const redirect = await get("/player?stream=a");
  assertEquals(redirect.status, 308);
  assertEquals(redirect.headers.get("location"), "/player/?stream=a");
  await redirect.body?.cancel();
  for (
    const path of [
      "/player/%2e%2e/deno.json",
      "/player/..%2fdeno.json",
      "/player/types/../../deno.json",
      "/player/nothing.js",
      "/player/build.ts",
      "/player/operator.js", // built with the player, but the operator page's, inlined there
    ]
  ) {
    const response = await get(path);
    const body = await response.text();
    assert(response.status >= 400, `${path}: status ${response.status}`);
    assert(!body.includes("nodeModulesDir"), `${path} does not leak files outside client/dist/`);
  }
});

Deno.test("SERVE_PLAYER=NO serves no player", async () => {
  await ensurePlayerBuilt();
  await using node = await startNode({ env: { LOG_INFO: "NO", SERVE_PLAYER: "NO" } });
  const response = await fetch(`${node.httpUrl}/player/watch.html`);
  await response.body?.cancel();
  assert(response.status >= 400, `status ${response.status}`);
});
