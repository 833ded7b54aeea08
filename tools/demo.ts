/**
 * `deno task demo`: one command to see the CDN work. It builds the player, starts a node on
 * 127.0.0.1 with freshly generated development secrets, publishes the test pattern (a burned-in
 * wall clock and frame counter, with a tone) in parts with the `publish` command's function, and
 * prints the address of the watch page, which plays the stream and shows the measured latency and
 * buffer live. Ctrl-C ends the stream cleanly and stops the node.
 *
 * Options: `--port N` (default 8080, or a free port when 8080 is taken), `--stream ID` (default
 * `demo/test-pattern`).
 *
 * @example
 * ```sh
 * deno task demo
 * # Watch: http://127.0.0.1:8080/player/watch.html?stream=demo%2Ftest-pattern&token=...
 * ```
 * @module
 */

import { buildPlayer } from "./build.ts";
import { signToken } from "../shared/token.ts";
import { publish, PublishError } from "./publish.ts";

const ROOT = new URL("../", import.meta.url);

function option(name: string): string | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The wanted port if it is free, else one the system picks. */
function choosePort(wanted: number): number {
  for (const port of [wanted, 0]) {
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const chosen = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return chosen;
    } catch { /* taken */ }
  }
  throw new Error("no free port");
}

async function waitHealthy(url: string, node: Deno.ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  node.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(exited ? "the node exited at start" : `the node did not answer ${url}`);
}

async function waitLive(statsUrl: string, streamId: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const stats = await (await fetch(statsUrl)).json() as { streams?: Array<{ id: string }> };
      if (stats.streams?.some((stream) => stream.id === streamId)) return true;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function main(): Promise<number> {
  const port = choosePort(Number(option("port") ?? 8080));
  const streamId = option("stream") ?? "demo/test-pattern";
  const pullSecret = randomSecret();
  const pushSecret = randomSecret();
  const httpUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/`;

  await buildPlayer({ declarations: false });
  const node = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      "--allow-run",
      "server/main.ts",
    ],
    cwd: ROOT,
    env: {
      HTTP_PORT: String(port),
      HTTP_BIND_ADDRESS: "127.0.0.1",
      EXTERNAL_WEBSOCKET_URL: wsUrl,
      PULL_SECRET: pullSecret,
      PUSH_SECRET: pushSecret,
      LOG_REQUESTS: "NO",
      ENV_FILE: "",
      // A node on 127.0.0.1 for one person: its /stats may be open.
      STATS_PUBLIC: "YES",
    },
    stdin: "null",
  }).spawn();
  const controller = new AbortController();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await waitHealthy(`${httpUrl}/health`, node, 15000);
    const publishing = publish({
      url: wsUrl,
      streamId,
      secret: pushSecret,
      input: { kind: "test" },
      onLog: (line) => console.log(`[publish] ${line}`),
    }, controller.signal);
    publishing.catch(() => {});
    const live = await Promise.race([
      waitLive(`${httpUrl}/stats`, streamId, 15000),
      publishing.then(() => false),
    ]);
    if (!live) throw new Error("the test pattern did not go live within 15 s");
    const token = await signToken({
      secret: pullSecret,
      action: "PULL",
      stream: streamId,
      lifetimeSeconds: 7 * 86400,
    });
    const query = new URLSearchParams({ stream: streamId, token });
    console.log("");
    console.log(
      `Development secrets (this run only): PULL_SECRET=${pullSecret} PUSH_SECRET=${pushSecret}`,
    );
    console.log(`Node: ${wsUrl}  (stats: ${httpUrl}/stats)`);
    console.log(`Watch: ${httpUrl}/player/watch.html?${query}`);
    console.log("Ctrl-C stops the demo.");
    console.log("");
    const summary = await publishing;
    console.log(`[demo] publishing ${summary.reason}`);
    return 0;
  } catch (error) {
    if (stopping) return 0;
    const message = error instanceof PublishError || error instanceof Error
      ? error.message
      : String(error);
    console.error(`demo: ${message}`);
    return 1;
  } finally {
    controller.abort();
    try {
      node.kill("SIGTERM");
    } catch { /* gone */ }
    await node.status;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
}

if (import.meta.main) Deno.exit(await main());
