/**
 * Fan-out benchmark: one publisher at about 4 Mbit/s, N spectators in a separate process, on our
 * node and on a bare fan-out with no CDN logic, each on both WebSocket transports, in one run.
 * Prints delivered throughput, server CPU seconds per GB delivered, RSS per spectator, p50/p99
 * delay from publisher send to spectator receive, fragments not fully delivered, and the ratios
 * ours/bare. Not a test: numbers vary with the machine, the ratios much less.
 *
 * `--parts N` sends each fragment as N parts a second instead (ours: `P` messages to spectators
 * that pull with `parts=1`; bare: one binary frame per part), a list (`0,30`) measures each in
 * the same run (0: whole fragments); the table then adds the ratio to whole fragments.
 *
 * Run: `deno task bench fanout [--spectators 300,1000] [--fragment-seconds 1] [--fragments 15]
 * [--modes ours-ws,bare-ws,ours-deno,bare-deno] [--bitrate 4000000] [--parts 0,30]`
 * @module
 */

import { freePort, nodeCommand, startNode, TEST_SECRETS } from "../helpers/node_process.ts";

/** The `--v8-flags` of `deno task start`, so the bare servers run with the same heap settings. */
function startV8Flags(): string {
  return nodeCommand().find((arg) => arg.startsWith("--v8-flags="))?.slice("--v8-flags=".length) ??
    "";
}
import { signToken } from "../../shared/token.ts";
import { parseArgs } from "node:util";
import { cpuSeconds, formatTable, rssBytes, spawnDeno, waitForLine } from "./process_stats.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "fanout"),
  options: {
    spectators: { type: "string", default: "300,1000" },
    "fragment-seconds": { type: "string", default: "1" },
    fragments: { type: "string", default: "15" },
    modes: { type: "string", default: "ours-ws,bare-ws,ours-deno,bare-deno" },
    bitrate: { type: "string", default: "4000000" },
    parts: { type: "string", default: "0" },
    /** V8 flags of the bare servers; ours runs as `deno task start` does. */
    "bare-v8-flags": { type: "string", default: startV8Flags() },
  },
});

const counts = values.spectators.split(",").map(Number);
const fragmentSeconds = Number(values["fragment-seconds"]);
const fragmentCount = Number(values.fragments);
const modes = values.modes.split(",") as Mode[];
const fragmentBytes = Math.round(Number(values.bitrate) * fragmentSeconds / 8);
const partRates = values.parts.split(",").map(Number);
const HERE = new URL("./", import.meta.url);

type Mode = "ours-ws" | "ours-deno" | "bare-ws" | "bare-deno";

/** What one run measured. */
interface RunResult {
  mode: Mode;
  spectators: number;
  /** Parts a second, 0 for whole fragments. */
  parts: number;
  throughputMbps: number;
  cpuPerGb: number;
  rssPerSpectatorKb: number;
  idleRssPerSpectatorKb: number;
  peakRssMb: number;
  p50: number;
  p99: number;
  missing: number;
  /** Messages (fragments or parts) that did not reach every spectator. */
  fragmentsNotFullyDelivered: number;
  /** Messages sent. */
  unitCount: number;
}

/** A server under test: its pid, URL, how a spectator says hello, how to stop it. */
interface Server {
  pid: number;
  url: string;
  spectatorHello: string;
  publisherHello: string;
  stop(): Promise<void>;
}

async function startServer(mode: Mode, stream: string, parts: boolean): Promise<Server> {
  const transport = mode.endsWith("deno") ? "deno" : "ws";
  if (mode.startsWith("ours")) {
    const node = await startNode({
      transport,
      env: {
        LOG_INFO: "NO",
        FRAGMENT_BUFFER_MAX_LENGTH: "2",
        SPECTATOR_STALL_TIMEOUT_SECONDS: "120",
      },
    });
    const pull = await signToken({ secret: TEST_SECRETS.PULL_SECRET, action: "PULL", stream });
    const push = await signToken({ secret: TEST_SECRETS.PUSH_SECRET, action: "PUSH", stream });
    return {
      pid: node.pid,
      url: node.wsUrl,
      spectatorHello: `PULL:stream=${stream}&auth=${pull}&max_initial_fragments=0${
        parts ? "&parts=1" : ""
      }`,
      publisherHello: `PUSH:stream=${stream}&auth=${push}${parts ? "&parts=1" : ""}`,
      stop: async () => void await node.stop(),
    };
  }
  const port = freePort();
  const flags = values["bare-v8-flags"] ? [`--v8-flags=${values["bare-v8-flags"]}`] : [];
  const child = spawnDeno([
    ...flags,
    new URL("bare_fanout.ts", HERE).pathname,
    String(port),
    transport,
  ]);
  await waitForLine(child.lines, (line) => line === "READY");
  return {
    pid: child.process.pid,
    url: `ws://127.0.0.1:${port}/`,
    spectatorHello: "SUB",
    publisherHello: "PUB",
    stop: () => child.stop(),
  };
}

async function run(mode: Mode, spectators: number, partRate: number): Promise<RunResult> {
  const stream = "bench/fanout";
  const server = await startServer(mode, stream, partRate > 0);
  // What one message carries: a whole fragment, or one of its parts.
  const perFragment = partRate > 0 ? Math.max(1, Math.round(partRate * fragmentSeconds)) : 1;
  const unitBytes = Math.floor(fragmentBytes / perFragment);
  const unitCount = fragmentCount * perFragment;
  try {
    const baselineRss = await rssBytes(server.pid);
    // The publisher first: spectators of our node pull a stream that must exist.
    const publisher = new WebSocket(server.url);
    await new Promise((resolve, reject) => {
      publisher.onopen = resolve;
      publisher.onerror = reject;
    });
    publisher.send(server.publisherHello);
    if (mode.startsWith("ours")) {
      await new Promise<void>((resolve) =>
        publisher.onmessage = (event) => String(event.data).startsWith("OK") && resolve()
      );
    }
    const swarm = spawnDeno(
      [
        new URL("spectator_swarm.ts", HERE).pathname,
        server.url,
        String(spectators),
        server.spectatorHello,
        String(unitCount),
        String(unitBytes),
      ],
      true,
    );
    await waitForLine(swarm.lines, (line) => line.startsWith("READY"), 120_000);

    const connectedRss = await rssBytes(server.pid);
    let peakRss = connectedRss;
    const sampler = setInterval(
      async () => peakRss = Math.max(peakRss, await rssBytes(server.pid)),
      200,
    );
    const cpuStart = await cpuSeconds(server.pid);
    const started = performance.now();
    const payload = new Uint8Array(unitBytes);
    crypto.getRandomValues(payload.subarray(0, Math.min(65536, unitBytes)));
    const view = new DataView(payload.buffer);
    const unitMs = fragmentSeconds * 1000 / perFragment;
    for (let unit = 0; unit < unitCount; unit++) {
      const due = started + unit * unitMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      view.setUint32(0, unit);
      view.setFloat64(4, performance.timeOrigin + performance.now());
      if (mode.startsWith("ours")) {
        const seq = Math.floor(unit / perFragment);
        const part = unit % perFragment;
        if (partRate === 0) publisher.send(`F:duration=${fragmentSeconds}`);
        else if (part < perFragment - 1) publisher.send(`P:seq=${seq}&part=${part}`);
        else publisher.send(`P:seq=${seq}&part=${part}&last=1&duration=${fragmentSeconds}`);
      }
      publisher.send(payload);
    }
    const writer = swarm.process.stdin!.getWriter();
    await writer.write(new TextEncoder().encode("DONE\n"));
    const summaryLine = await waitForLine(swarm.lines, (line) => line.startsWith("{"), 60_000);
    const cpu = await cpuSeconds(server.pid) - cpuStart;
    const elapsed = (performance.now() - started) / 1000;
    clearInterval(sampler);
    publisher.close();
    await writer.close().catch(() => {});
    await swarm.stop();
    const summary = JSON.parse(summaryLine);
    const deliveredBytes = summary.delivered * unitBytes;
    return {
      mode,
      spectators,
      parts: partRate,
      throughputMbps: deliveredBytes * 8 / elapsed / 1e6,
      cpuPerGb: cpu / (deliveredBytes / 1e9),
      rssPerSpectatorKb: (peakRss - baselineRss) / spectators / 1024,
      idleRssPerSpectatorKb: (connectedRss - baselineRss) / spectators / 1024,
      peakRssMb: peakRss / 1024 / 1024,
      p50: summary.p50,
      p99: summary.p99,
      missing: summary.missing,
      fragmentsNotFullyDelivered: summary.fragmentsNotFullyDelivered,
      unitCount,
    };
  } finally {
    await server.stop();
  }
}

console.log(
  `fan-out: ${
    Number(values.bitrate) / 1e6
  } Mbit/s in ${fragmentSeconds} s fragments (${fragmentBytes} bytes), ` +
    `${fragmentCount} fragments, spectators ${counts.join(", ")}, modes ${
      modes.join(", ")
    }, parts/s ${partRates.join(", ")}`,
);
const results: RunResult[] = [];
for (const spectators of counts) {
  for (const partRate of partRates) {
    for (const mode of modes) {
      const result = await run(mode, spectators, partRate);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  }
}

const rows = results.map((result) => {
  const bare = results.find((other) =>
    other.spectators === result.spectators && other.parts === result.parts &&
    other.mode === result.mode.replace("ours", "bare")
  );
  const whole = results.find((other) =>
    other.spectators === result.spectators && other.parts === 0 && other.mode === result.mode
  );
  const ratio = (value: number, base: number | undefined) => base ? (value / base).toFixed(2) : "";
  return [
    result.mode,
    String(result.spectators),
    result.parts === 0 ? "whole" : `${result.parts}/s`,
    result.throughputMbps.toFixed(0),
    result.cpuPerGb.toFixed(3),
    result.rssPerSpectatorKb.toFixed(1),
    result.idleRssPerSpectatorKb.toFixed(1),
    result.peakRssMb.toFixed(0),
    result.p50.toFixed(1),
    result.p99.toFixed(1),
    `${result.fragmentsNotFullyDelivered}/${result.unitCount}`,
    result.mode.startsWith("ours") ? ratio(result.cpuPerGb, bare?.cpuPerGb) : "",
    result.mode.startsWith("ours") ? ratio(result.p99, bare?.p99) : "",
    result.parts > 0 ? ratio(result.cpuPerGb, whole?.cpuPerGb) : "",
  ];
});
console.log();
console.log(formatTable(
  [
    "mode",
    "N",
    "parts",
    "Mbit/s",
    "CPU s/GB",
    "RSS/spect KB",
    "idle RSS/spect KB",
    "peak RSS MB",
    "p50 ms",
    "p99 ms",
    "incomplete",
    "CPU ours/bare",
    "p99 ours/bare",
    "CPU parts/whole",
  ],
  rows,
));
const oursWs = results.filter((result) => result.mode === "ours-ws");
const bareWs = results.filter((result) => result.mode === "bare-ws");
for (const result of oursWs) {
  const bare = bareWs.find((other) =>
    other.spectators === result.spectators && other.parts === result.parts
  );
  if (bare) {
    console.log(
      `N=${result.spectators} ${
        result.parts ? `${result.parts} parts/s` : "whole"
      }: ours-ws CPU/GB is ${(result.cpuPerGb / bare.cpuPerGb).toFixed(2)}x bare ws ` +
        `(target <= 1.3), RSS/spectator ${result.rssPerSpectatorKb.toFixed(1)} KB (target < 40), ` +
        `${result.fragmentsNotFullyDelivered} fragments not fully delivered (target 0)`,
    );
  }
}
