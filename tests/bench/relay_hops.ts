/**
 * Relay benchmark (not a test). Two measurements, with real node processes:
 *
 * 1. **Delay per relay hop**: a chain A (origin) ← B (`RELAY_FROM_URL`=A) ← C (`RELAY_FROM_URL`=B)
 *    with 100 spectators on each node. One publisher sends a stream to A at a steady pace; every
 *    spectator notes when each fragment (or part) arrives. Prints p50/p99 of publisher send →
 *    spectator receive at 0, 1 and 2 hops, the delay each hop adds, and the ratios against 0 hops
 *    (the baseline of the same run). Once with whole fragments, once with parts, and once with parts
 *    where each relay joins its upstream before that node's own spectators (a node serves its
 *    spectators in the order they came, so this separates the cost of a hop from the fan-out ahead
 *    of it).
 * 2. **Upstream bandwidth of an edge**: an edge E relays one stream from A, first with 1 spectator,
 *    then with 100. Prints the media bytes per second E pulls from A (A's `bytes_out` while E is
 *    its only spectator) against the published rate, and what E sends downstream.
 *
 * Publisher and spectators run in this process, so both ends read one clock. Numbers vary with the
 * machine and its load; the ratios much less.
 *
 * Run: `deno run --allow-all tests/bench/relay_hops.ts [--transport ws|deno] [--spectators 100]
 * [--seconds 15] [--bitrate 2000000] [--fragment-ms 500] [--parts 5]`
 * @module
 */

import { parseArgs } from "node:util";
import { parseMessage, writeMessage } from "../../shared/protocol.ts";
import { pullToken, pushToken } from "../helpers/client.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "relay" && arg !== "relay-hops"),
  options: {
    transport: { type: "string", default: "ws" },
    spectators: { type: "string", default: "100" },
    seconds: { type: "string", default: "15" },
    bitrate: { type: "string", default: "2000000" },
    "fragment-ms": { type: "string", default: "500" },
    parts: { type: "string", default: "5" },
  },
});
const transport = values.transport as "ws" | "deno";
const spectatorsPerNode = Number(values.spectators);
const seconds = Number(values.seconds);
const fragmentMs = Number(values["fragment-ms"]);
const partsPerFragment = Number(values.parts);
const fragmentBytes = Math.round(Number(values.bitrate) / 8 * fragmentMs / 1000 / 188) * 188;
const WARMUP_FRAGMENTS = 3;

/** A spectator that keeps arrival delays, not bytes. */
class TimingSpectator {
  readonly delays: number[] = [];
  bytes = 0;
  #socket: WebSocket;
  #key = "";

  private constructor(socket: WebSocket, sentAt: Map<string, number>) {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const now = performance.now();
      if (typeof event.data === "string") {
        const message = parseMessage(event.data);
        if (message.type === "F") this.#key = `${message.seq}`;
        else if (message.type === "P") this.#key = `${message.seq}.${message.part}`;
        return;
      }
      this.bytes += (event.data as ArrayBuffer).byteLength;
      const sent = sentAt.get(this.#key);
      if (sent !== undefined && Number(this.#key.split(".")[0]) >= WARMUP_FRAGMENTS) {
        this.delays.push(now - sent);
      }
    };
  }

  static async connect(
    url: string,
    stream: string,
    parts: boolean,
    sentAt: Map<string, number>,
  ): Promise<TimingSpectator> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    const spectator = new TimingSpectator(socket, sentAt);
    const auth = await pullToken(stream);
    socket.send(writeMessage({ type: "PULL", stream, auth, parts, maxInitialFragments: 0 }));
    return spectator;
  }

  close(): void {
    this.#socket.close();
  }
}

/** A publisher that sends fragments (or parts) of synthetic MPEG-TS-sized payloads at a pace. */
async function publish(
  url: string,
  stream: string,
  options: { parts: boolean; durationMs: number; sentAt?: Map<string, number> },
): Promise<{ bytes: number }> {
  const socket = new WebSocket(url);
  await new Promise((resolve) => socket.onopen = resolve);
  const answered = new Promise((resolve) => socket.onmessage = resolve);
  socket.send(writeMessage({ type: "PUSH", stream, auth: await pushToken(stream), parts: true }));
  await answered;
  const payload = new Uint8Array(fragmentBytes).map((_, index) => index % 188 === 0 ? 0x47 : 0);
  const partBytes = Math.floor(fragmentBytes / partsPerFragment / 188) * 188;
  const start = performance.now();
  let bytes = 0;
  const fragments = Math.round(options.durationMs / fragmentMs);
  for (let seq = 0; seq < fragments; seq++) {
    const fragmentStart = start + seq * fragmentMs;
    if (!options.parts) {
      await sleepUntil(fragmentStart + fragmentMs);
      options.sentAt?.set(`${seq}`, performance.now());
      socket.send(writeMessage({ type: "F", duration: fragmentMs / 1000, seq }));
      socket.send(payload);
      bytes += payload.byteLength;
      continue;
    }
    for (let part = 0; part < partsPerFragment; part++) {
      await sleepUntil(fragmentStart + (part + 1) * fragmentMs / partsPerFragment);
      const last = part === partsPerFragment - 1;
      const data = payload.subarray(part * partBytes, last ? undefined : (part + 1) * partBytes);
      options.sentAt?.set(`${seq}.${part}`, performance.now());
      socket.send(writeMessage({
        type: "P",
        seq,
        part,
        last: last || undefined,
        duration: last ? fragmentMs / 1000 : undefined,
      }));
      socket.send(data);
      bytes += data.byteLength;
    }
  }
  socket.send(writeMessage({ type: "CLOSE" }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.close();
  return { bytes };
}

function sleepUntil(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - performance.now())));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

/** The value of a counter in a node's `/metrics`. */
async function counter(node: NodeProcess, name: string): Promise<number> {
  const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
  const line = text.split("\n").find((line) => line.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, column) =>
    Math.max(...rows.map((row) => String(row[column]).length))
  );
  return rows.map((row) =>
    row.map((cell, column) => String(cell).padStart(widths[column])).join("  ")
  )
    .join("\n");
}

const fixed = (value: number, digits = 1) => Number.isFinite(value) ? value.toFixed(digits) : "-";

async function hopDelays(
  nodes: NodeProcess[],
  parts: boolean,
  relaysFirst: boolean,
): Promise<void> {
  const stream = `hops-${parts ? "parts" : "fragments"}-${relaysFirst ? "first" : "last"}`;
  const sentAt = new Map<string, number>();
  // The publisher must be on the origin before the relays pull.
  const publishing = publish(nodes[0].wsUrl, stream, {
    parts,
    durationMs: seconds * 1000,
    sentAt,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  // A node sends to its spectators in the order they came: the relay of the next hop is served
  // after the node's own spectators when they came first, before them otherwise.
  const groups: TimingSpectator[][] = new Array(nodes.length);
  const order = relaysFirst ? [...nodes.keys()].reverse() : [...nodes.keys()];
  for (const index of order) {
    groups[index] = await Promise.all(
      Array.from(
        { length: spectatorsPerNode },
        () => TimingSpectator.connect(nodes[index].wsUrl, stream, parts, sentAt),
      ),
    );
  }
  await publishing;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rows: (string | number)[][] = [[
    "hops",
    "samples",
    "p50 ms",
    "p99 ms",
    "added p50",
    "added p99",
    "p50 ratio",
    "p99 ratio",
  ]];
  const base = { p50: 0, p99: 0 };
  for (const [hops, group] of groups.entries()) {
    const delays = group.flatMap((spectator) => spectator.delays).sort((x, y) => x - y);
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    if (hops === 0) Object.assign(base, { p50, p99 });
    rows.push([
      hops,
      delays.length,
      fixed(p50, 2),
      fixed(p99, 2),
      hops === 0 ? "-" : fixed((p50 - base.p50) / hops, 2) + "/hop",
      hops === 0 ? "-" : fixed((p99 - base.p99) / hops, 2) + "/hop",
      fixed(p50 / base.p50, 2),
      fixed(p99 / base.p99, 2),
    ]);
    for (const spectator of group) spectator.close();
  }
  const unit = parts
    ? `parts of ${Math.round(fragmentBytes / partsPerFragment / 1024)} KiB`
    : `fragments of ${Math.round(fragmentBytes / 1024)} KiB`;
  const relays = relaysFirst ? "relays joined first" : "relays joined after local spectators";
  console.log(
    `\nDelay publisher → spectator, ${unit}, ${spectatorsPerNode} spectators per node, ${relays}:`,
  );
  console.log(table(rows));
}

async function upstreamBandwidth(origin: NodeProcess, edge: NodeProcess): Promise<void> {
  const rows: (string | number)[][] = [[
    "edge spectators",
    "published KB/s",
    "upstream KB/s",
    "upstream/published",
    "downstream KB/s",
    "downstream/published",
  ]];
  const upstream: number[] = [];
  for (const count of [1, spectatorsPerNode]) {
    const stream = `bandwidth-${count}`;
    const durationMs = Math.max(5000, seconds * 1000 / 2);
    // E is A's only spectator here: A's bytes out are E's upstream bytes for this stream.
    const before = {
      up: await counter(origin, "hlswscdn_bytes_out_total"),
      down: await counter(edge, "hlswscdn_bytes_out_total"),
    };
    const publishing = publish(origin.wsUrl, stream, { parts: true, durationMs });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const spectators = await Promise.all(
      Array.from(
        { length: count },
        () => TimingSpectator.connect(edge.wsUrl, stream, true, new Map()),
      ),
    );
    const { bytes } = await publishing;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const runSeconds = durationMs / 1000;
    const up = await counter(origin, "hlswscdn_bytes_out_total") - before.up;
    const down = await counter(edge, "hlswscdn_bytes_out_total") - before.down;
    upstream.push(up);
    rows.push([
      count,
      fixed(bytes / runSeconds / 1000),
      fixed(up / runSeconds / 1000),
      fixed(up / bytes, 3),
      fixed(down / runSeconds / 1000),
      fixed(down / bytes, 2),
    ]);
    for (const spectator of spectators) spectator.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  console.log(`\nUpstream bandwidth of one edge for one stream (media bytes, parts):`);
  console.log(table(rows));
  console.log(
    `upstream bytes with ${spectatorsPerNode} spectators / with 1: ${
      fixed(upstream[1] / upstream[0], 3)
    }`,
  );
}

console.log(
  `relay hops benchmark: transport ${transport}, ${spectatorsPerNode} spectators per node, ` +
    `${seconds} s, ${Number(values.bitrate) / 1e6} Mbit/s, fragments every ${fragmentMs} ms`,
);
const quiet = { LOG_INFO: "NO", LOG_WARNING: "NO", RELAY_INACTIVITY_PERIOD_SEC: "1" };
const a = await startNode({ transport, env: { ...quiet, NODE_ID: "A" } });
const relayFrom = (node: NodeProcess) => ({
  RELAY_FROM_ENABLED: "YES",
  RELAY_FROM_URL: node.wsUrl,
});
const b = await startNode({ transport, env: { ...quiet, NODE_ID: "B", ...relayFrom(a) } });
const c = await startNode({ transport, env: { ...quiet, NODE_ID: "C", ...relayFrom(b) } });
const e = await startNode({ transport, env: { ...quiet, NODE_ID: "E", ...relayFrom(a) } });
try {
  await hopDelays([a, b, c], false, false);
  await hopDelays([a, b, c], true, false);
  await hopDelays([a, b, c], true, true);
  await upstreamBandwidth(a, e);
} finally {
  await Promise.all([a, b, c, e].map((node) => node.stop()));
}
