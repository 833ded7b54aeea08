/**
 * `deno task bench preauth`: what anonymous sockets can make a node hold before they send
 * `PUSH`/`PULL` (issue 13). Sockets connect, announce a large binary frame (45 MB by default), send
 * part of it (30 MB) and stall. The node's RSS is read before (the baseline of the same run), every
 * 100 ms while they send and for a few seconds after; the table gives the peak over the baseline,
 * and whether and when the node cut each socket off.
 *
 * `--root DIR` runs the node of another checkout (an older commit exported with `git archive`), so
 * that old and new code are measured the same way.
 *
 * ```sh
 * deno task bench preauth -- --transport ws --sockets 2 --announce 45000000 --send 30000000
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { startNode } from "../helpers/node_process.ts";
import { RawWebSocket } from "../helpers/raw_socket.ts";
import { rssBytes } from "./process_stats.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "preauth" && arg !== "--"),
  options: {
    transport: { type: "string", default: "ws" },
    root: { type: "string" },
    sockets: { type: "string", default: "2" },
    announce: { type: "string", default: "45000000" },
    send: { type: "string", default: "30000000" },
    hold: { type: "string", default: "5" },
  },
});
const transport = values.transport === "deno" ? "deno" : "ws";
const sockets = Number(values.sockets);
const announced = Number(values.announce);
const toSend = Number(values.send);
const MB = 1024 * 1024;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const root = values.root === undefined ? undefined : values.root.replace(/\/$/, "");
await using node = await startNode({
  transport,
  env: { LOG_INFO: "NO", FIRST_MESSAGE_TIMEOUT_SECONDS: "60", IDLE_TIMEOUT_SECONDS: "120" },
  command: root === undefined ? undefined : [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--v8-flags=--max-semi-space-size=4",
    `${root}/server/main.ts`,
  ],
});
await pause(1000);
const baseline = await rssBytes(node.pid);
let peak = baseline;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    peak = Math.max(peak, await rssBytes(node.pid));
    await pause(100);
  }
})();

interface Result {
  sent: number;
  closedAfterMs: number | null;
}

async function attack(): Promise<Result> {
  const raw = await RawWebSocket.connect(node.port);
  raw.resume();
  const started = performance.now();
  const header = new Uint8Array(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(announced));
  let sent = 0;
  try {
    await raw.sendRaw(header);
    const chunk = new Uint8Array(256 * 1024);
    while (sent < toSend && !raw.closed) {
      const size = Math.min(chunk.length, toSend - sent);
      await raw.sendRaw(chunk.subarray(0, size));
      sent += size;
    }
  } catch { /* the node closed the socket */ }
  const closed = await raw.waitFor(() => raw.closed, Number(values.hold) * 1000);
  const result = { sent, closedAfterMs: closed ? Math.round(performance.now() - started) : null };
  await raw.close();
  return result;
}

const started = performance.now();
const results = await Promise.all(Array.from({ length: sockets }, () => attack()));
const held = await rssBytes(node.pid);
peak = Math.max(peak, held);
sampling = false;
await sampler;
const seconds = ((performance.now() - started) / 1000).toFixed(1);

console.log(
  `preauth: ${root ?? "this checkout"}, transport ${transport}, ${sockets} sockets announcing ` +
    `${(announced / 1e6).toFixed(0)} MB, sending ${
      (toSend / 1e6).toFixed(0)
    } MB each (${seconds} s)`,
);
console.log(`  RSS baseline ${(baseline / MB).toFixed(1)} MiB`);
console.log(
  `  RSS peak     ${(peak / MB).toFixed(1)} MiB (+${((peak - baseline) / MB).toFixed(1)} MiB, ` +
    `${(peak / baseline).toFixed(2)}x the baseline)`,
);
console.log(`  RSS at the end of the hold ${(held / MB).toFixed(1)} MiB`);
for (const [index, result] of results.entries()) {
  console.log(
    `  socket ${index + 1}: sent ${(result.sent / 1e6).toFixed(1)} MB; ` +
      (result.closedAfterMs === null
        ? `still open after the ${values.hold} s hold`
        : `closed by the node after ${result.closedAfterMs} ms`),
  );
}
