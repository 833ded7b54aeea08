/**
 * Soak benchmark (not a test, not in CI): one node, one publisher, and 500 spectators joining and
 * leaving for several minutes (`soak_swarm.ts`, in its own process). It samples the node's
 * resident memory, open file descriptors (sockets included), connections and buffered bytes before
 * the swarm (the baseline of the same run), while it runs, and after it has left, and prints them
 * with the ratio to the baseline: after the swarm, connections and sockets must be back where they
 * started and memory close to it.
 *
 * Run: `deno task bench soak [--minutes 3] [--spectators 500] [--transport ws|deno]
 * [--bitrate 800000]`
 * @module
 */

import { parseArgs } from "node:util";
import { pullToken, pushToken, TestClient } from "../helpers/client.ts";
import { stats as nodeStats } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";
import { formatTable, rssBytes, spawnDeno, waitForLine } from "./process_stats.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "soak"),
  options: {
    minutes: { type: "string", default: "3" },
    spectators: { type: "string", default: "500" },
    transport: { type: "string", default: "ws" },
    bitrate: { type: "string", default: "800000" },
  },
});
const minutes = Number(values.minutes);
const spectators = Number(values.spectators);
const transport = values.transport as "ws" | "deno";
const FRAGMENT_MS = 500;
const fragmentBytes = Math.round(Number(values.bitrate) / 8 * FRAGMENT_MS / 1000 / 188) * 188;

interface Sample {
  label: string;
  rss: number;
  fds: number;
  connections: number;
  bufferBytes: number;
}

async function openFds(pid: number): Promise<number> {
  let count = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) count++;
  return count;
}

async function sample(node: NodeProcess, label: string): Promise<Sample> {
  const stats = await nodeStats(node);
  return {
    label,
    rss: await rssBytes(node.pid),
    fds: await openFds(node.pid),
    connections: stats.connections,
    bufferBytes: stats.bufferBytes,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const node = await startNode({
  transport,
  env: { LOG_INFO: "NO", LOG_WARNING: "YES", FRAGMENT_BUFFER_MAX_LENGTH: "4" },
});
const publisher = await TestClient.connect(node.wsUrl);
publisher.send({ type: "PUSH", stream: "soak", auth: await pushToken("soak") });
await publisher.nextMessage();
let seq = 0;
const pump = setInterval(() => {
  const data = new Uint8Array(fragmentBytes).fill(0x47);
  publisher.sendFragment(FRAGMENT_MS / 1000, data, { seq: seq++ });
}, FRAGMENT_MS);
const samples: Sample[] = [];
try {
  // Warm up with the publisher alone, so the baseline includes a full buffer ring.
  await sleep(5000);
  samples.push(await sample(node, "before"));
  console.log(
    `soak: ${spectators} spectators joining and leaving for ${minutes} min, ` +
      `${transport} transport, ${(fragmentBytes * 8 / FRAGMENT_MS / 1000).toFixed(2)} Mbit/s`,
  );
  const swarm = spawnDeno([
    "tests/bench/soak_swarm.ts",
    node.wsUrl,
    "soak",
    await pullToken("soak", undefined, 3600 * 24),
    String(spectators),
    String(minutes * 60),
  ]);
  let last = "";
  const started = performance.now();
  const ticker = setInterval(async () => {
    samples.push(await sample(node, `t+${Math.round((performance.now() - started) / 1000)} s`));
  }, 30_000);
  for (;;) {
    last = await waitForLine(swarm.lines, () => true, minutes * 60_000 + 60_000);
    console.log(`  swarm ${last}`);
    if (last.includes('"done":true')) break;
  }
  clearInterval(ticker);
  await swarm.stop();
  // Let the node notice every close and collect garbage.
  const deadline = performance.now() + 30_000;
  while ((await sample(node, "")).connections > 1 && performance.now() < deadline) await sleep(500);
  await sleep(10_000);
  samples.push(await sample(node, "after"));
} finally {
  clearInterval(pump);
  publisher.close();
  await node.stop();
}

const base = samples[0];
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  formatTable(
    ["sample", "RSS MiB", "x before", "open fds", "delta", "connections", "buffer KiB"],
    samples.map((s) => [
      s.label,
      mb(s.rss),
      (s.rss / base.rss).toFixed(2),
      String(s.fds),
      String(s.fds - base.fds),
      String(s.connections),
      (s.bufferBytes / 1024).toFixed(0),
    ]),
  ),
);
const after = samples[samples.length - 1];
const peak = Math.max(...samples.map((s) => s.rss));
console.log(
  `after/before: RSS ${(after.rss / base.rss).toFixed(2)} (peak ${
    (peak / base.rss).toFixed(2)
  }), ` +
    `open fds ${base.fds} -> ${after.fds}, connections ${base.connections} -> ${after.connections}`,
);
