/**
 * Start-up: bad configuration stops the node with one line naming the variable and the value;
 * a `.env` file configures it; `/health` and other plain requests.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { stats } from "../helpers/node_metrics.ts";
import {
  freePort,
  nodeCommand,
  startNode,
  startTaskCommand,
  TEST_SECRETS,
} from "../helpers/node_process.ts";

async function runNode(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const [command, ...args] = nodeCommand();
  const result = await new Deno.Command(command, {
    args,
    cwd: new URL("../../", import.meta.url),
    env: { ENV_FILE: "", NO_COLOR: "1", HTTP_PORT: String(freePort()), ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: result.code, stderr: new TextDecoder().decode(result.stderr).trim() };
}

Deno.test("a bad configuration value stops start-up with one line naming it", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { ...TEST_SECRETS, HTTP_PORT: "http" },
      /^error: invalid configuration: HTTP_PORT="http": expected a whole number from 0 to 65535$/,
    ],
    [
      { ...TEST_SECRETS, LOG_INFO: "perhaps" },
      /^error: invalid configuration: LOG_INFO="perhaps": expected YES or NO$/,
    ],
    [
      {
        ...TEST_SECRETS,
        TLS_ENABLED: "YES",
        TLS_CERTIFICATE: "/missing/cert.pem",
        TLS_PRIVATE_KEY: "/missing/key.pem",
      },
      /^error: invalid configuration: TLS_CERTIFICATE="\/missing\/cert.pem": no such file/,
    ],
    [
      { PUSH_SECRET: "x" },
      /^error: invalid configuration: PULL_SECRET="": empty; set a secret, or PULL_AUTH_DISABLED=YES/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const { code, stderr } = await runNode(env);
    assertEquals(code, 2, JSON.stringify(env));
    assertEquals(stderr.split("\n").length, 1, `one line: ${stderr}`);
    assertMatch(stderr, pattern);
  }
});

Deno.test("a .env file configures the node; the environment wins over it", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      `HTTP_PORT=${port}\nPULL_SECRET=from-file\nPUSH_SECRET=from-file\nNODE_ID=from-file\n`,
    );
    await using node = await startNode({
      port,
      env: { ENV_FILE: `${dir}/.env`, NODE_ID: "from-env", HTTP_PORT: undefined },
    });
    assertEquals((await stats(node)).nodeId, "from-env");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /health answers 200 whatever the prefix; other plain requests a clear 4xx", async () => {
  await using node = await startNode({ env: { WEBSOCKET_PREFIX: "/ws" } });
  const health = await fetch(`${node.httpUrl}/health`);
  assertEquals(health.status, 200);
  assertMatch(await health.text(), /^OK/);
  const endpoint = await fetch(`${node.httpUrl}/ws`);
  assertEquals(endpoint.status, 426);
  assertMatch(await endpoint.text(), /WebSocket endpoint/);
  const other = await fetch(`${node.httpUrl}/nothing-here`);
  assertEquals(other.status, 404);
  assertMatch(await other.text(), /not found/);
  const post = await fetch(`${node.httpUrl}/health`, { method: "POST", body: "x" });
  assertEquals(post.status, 405);
  await post.body?.cancel();
  // The WebSocket endpoint is only on the prefix.
  const wrong = new WebSocket(`ws://127.0.0.1:${node.port}/elsewhere`);
  const failed = await new Promise<boolean>((resolve) => {
    wrong.onopen = () => resolve(false);
    wrong.onerror = () => resolve(true);
  });
  assert(failed, "no WebSocket outside WEBSOCKET_PREFIX");
  const right = new WebSocket(`ws://127.0.0.1:${node.port}/ws`);
  await new Promise((resolve, reject) => {
    right.onopen = resolve;
    right.onerror = reject;
  });
  right.close();
  await new Promise((resolve) => right.onclose = resolve);
});

Deno.test("deno task start builds what is missing, then grants the node what it needs: no subprocesses, reads only a few folders", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)))
    .tasks;
  assertEquals(tasks.start.dependencies, ["build-missing"], "what the node serves is built first");
  assert(tasks["build-missing"].includes("tools/ensure_built.ts"), tasks["build-missing"]);
  const command = startTaskCommand();
  const start = command.split(/\s+/);
  assert(!start.some((arg) => arg.startsWith("--allow-run") || arg === "-A"), command);
  assert(!start.includes("--allow-read") && !start.includes("--allow-all"), "no unrestricted read");
  assert(start.includes("--no-prompt"), "a missing permission fails, it never waits at a prompt");
  // A file outside what the node may read stops it with the variable and the fix.
  const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hlswscdn-perm-" });
  try {
    await Deno.writeTextFile(`${dir}/keys.pem`, "not read");
    const { code, stderr } = await runNode({
      ...TEST_SECRETS,
      PULL_PUBLIC_KEY_FILE: `${dir}/keys.pem`,
    });
    assertEquals(code, 2);
    assertEquals(stderr.split("\n").length, 1, `one line: ${stderr}`);
    assertMatch(
      stderr,
      /^error: invalid configuration: PULL_PUBLIC_KEY_FILE=".*keys.pem".*--allow-read/,
    );
    const envFile = await runNode({ ENV_FILE: `${dir}/.env` });
    assertEquals(envFile.code, 2);
    assertMatch(envFile.stderr, /^error: invalid configuration: ENV_FILE=.*--allow-read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
