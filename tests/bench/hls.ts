/**
 * HLS benchmark (not a test): one node, one publisher of real H.264/AAC MPEG-TS at about 2 Mbit/s
 * with one frame per part (the `publish` command's frame-level parts), and in the same run, on the
 * same node: N WebSocket spectators pulling parts (the baseline), then N simulated Low-Latency
 * HLS clients (`hls_swarm.ts`: a blocking playlist reload and a part fetch per HLS part). Prints,
 * for each, the node's CPU seconds per GB delivered (playlists counted), throughput, requests per
 * second, and the ratio HLS/WebSocket.
 *
 * `deno task bench hls [--clients 1000] [--seconds 20] [--size 640x360] [--bitrate 2000k]
 * [--transport ws|deno]`
 * @module
 */

import { parseArgs } from "node:util";
import { pullToken } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { LivePublisher } from "../browser/helpers/live_publisher.ts";
import { cpuSeconds, spawnDeno, waitForLine } from "./process_stats.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "hls"),
  options: {
    clients: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    size: { type: "string", default: "640x360" },
    bitrate: { type: "string", default: "2000k" },
    transport: { type: "string", default: "ws" },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const STREAM = "bench/hls";
const HERE = new URL("./", import.meta.url);

interface Summary {
  bytes: number;
  mediaBytes: number;
  requests: number;
  errors: number;
  waitP50: number;
}

const media = await tsFragments({
  seconds: 10,
  fragmentSeconds: 2,
  size: values.size,
  videoBitrate: values.bitrate,
});
const node = await startNode({
  transport: values.transport as "ws" | "deno",
  env: { LOG_INFO: "NO", LOG_WARNING: "NO" },
});
const publisher = new LivePublisher({ url: node.wsUrl, stream: STREAM, media, framesPerPart: 1 });
publisher.start();
await new Promise((resolve) => setTimeout(resolve, 5000));
const token = await pullToken(STREAM);

async function measure(mode: "ws" | "hls"): Promise<Summary & { cpu: number }> {
  const url = mode === "ws" ? node.wsUrl : `${node.httpUrl}/hls/${STREAM}`;
  const swarm = spawnDeno(
    [new URL("hls_swarm.ts", HERE).pathname, mode, url, String(clients), token, STREAM],
    true,
  );
  try {
    await waitForLine(swarm.lines, (line) => line === "READY", 180_000);
    const cpuStart = await cpuSeconds(node.pid);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpu = await cpuSeconds(node.pid) - cpuStart;
    const writer = swarm.process.stdin!.getWriter();
    await writer.write(new TextEncoder().encode("DONE\n"));
    const summary = JSON.parse(await waitForLine(swarm.lines, (line) => line.startsWith("{")));
    await writer.close().catch(() => {});
    return { ...summary, cpu };
  } finally {
    await swarm.stop();
  }
}

console.log(
  `HLS benchmark: ${clients} clients, ${seconds} s each, ${values.size} at ${values.bitrate}, ` +
    `transport ${values.transport}, ` +
    `2 s fragments, one frame per part; load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`,
);
try {
  const rows: [string, Summary & { cpu: number }][] = [];
  for (const mode of ["ws", "hls"] as const) {
    const result = await measure(mode);
    rows.push([mode === "ws" ? "WebSocket parts" : "LL-HLS (blocking reload + part)", result]);
    console.log(JSON.stringify({ mode, ...result }));
  }
  console.log(
    "\n| clients | path | node CPU s | delivered MB | Mbit/s | requests/s | CPU s per GB | blocking wait p50 | errors |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const [name, row] of rows) {
    console.log(
      `| ${clients} | ${name} | ${row.cpu.toFixed(1)} | ${(row.bytes / 1e6).toFixed(0)} | ${
        (row.bytes * 8 / seconds / 1e6).toFixed(0)
      } | ${(row.requests / seconds).toFixed(0)} | ${(row.cpu / (row.bytes / 1e9)).toFixed(1)} | ${
        Number.isFinite(row.waitP50) ? `${row.waitP50.toFixed(0)} ms` : "-"
      } | ${row.errors} |`,
    );
  }
  const [ws, hls] = rows.map(([, row]) => row.cpu / (row.bytes / 1e9));
  console.log(`\nCPU per GB, LL-HLS / WebSocket: ${(hls / ws).toFixed(2)}x`);
} finally {
  await publisher.close();
  await node.stop();
}
