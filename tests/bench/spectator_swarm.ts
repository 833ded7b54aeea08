/**
 * The spectators of the fan-out benchmark, in their own process: opens N WebSocket connections
 * (`npm:ws` client, so the swarm is cheap next to the server it measures), records when each
 * fragment arrives, and prints a JSON summary when told the publisher is done.
 *
 * Every fragment (or part: `<fragments>` and `<fragmentBytes>` then count and size parts) starts with a 12-byte stamp: sequence number (u32) and send time (f64, ms since
 * the epoch with sub-ms precision), written by the publisher in the driver process.
 *
 * Run: `deno run -A tests/bench/spectator_swarm.ts <url> <count> <hello> <fragments> <fragmentBytes>`;
 * prints `READY` once every spectator is set up, then reads `DONE` on stdin.
 * @module
 */

// @ts-types="@types/ws"
import { WebSocket } from "ws";

const [url, countText, hello, fragmentsText, sizeText] = Deno.args;
const count = Number(countText);
const fragments = Number(fragmentsText);
const fragmentBytes = Number(sizeText);

/** Per spectator: arrival time of each fragment (NaN until it arrived). */
const arrivals: Float64Array[] = [];
const sentAt = new Float64Array(fragments).fill(NaN);
const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
let ready = 0;

function open(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const times = new Float64Array(fragments).fill(NaN);
    arrivals[index] = times;
    socket.binaryType = "nodebuffer";
    socket.on("open", () => {
      socket.send(hello);
      if (!hello.startsWith("PULL")) resolve();
    });
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const text = data.toString();
        if (text === "OK" || text.startsWith("OK:")) resolve();
        else if (text.startsWith("E")) reject(new Error(text));
        return;
      }
      if (data.length !== fragmentBytes) return;
      const seq = data.readUInt32BE(0);
      if (seq < fragments) {
        times[seq] = now();
        sentAt[seq] = data.readDoubleBE(4);
      }
    });
    socket.on("error", reject);
    sockets.push(socket);
  });
}

for (let start = 0; start < count; start += 50) {
  const batch = [];
  for (let index = start; index < Math.min(count, start + 50); index++) batch.push(open(index));
  await Promise.all(batch);
  ready += batch.length;
}
console.log(`READY ${ready}`);

const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const chunk of input) if (chunk.includes("DONE")) break;

// Wait until everything arrived, or the stragglers had 10 s.
const deadline = performance.now() + 10_000;
const complete = () => arrivals.every((times) => times.every((time) => !Number.isNaN(time)));
while (!complete() && performance.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const delays: number[] = [];
let missing = 0;
const incompleteFragments = new Set<number>();
for (const times of arrivals) {
  for (let seq = 0; seq < fragments; seq++) {
    if (Number.isNaN(times[seq])) {
      missing++;
      incompleteFragments.add(seq);
    } else delays.push(times[seq] - sentAt[seq]);
  }
}
delays.sort((a, b) => a - b);
const quantile = (q: number) =>
  delays.length ? delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] : NaN;
console.log(JSON.stringify({
  spectators: count,
  delivered: delays.length,
  missing,
  fragmentsNotFullyDelivered: incompleteFragments.size,
  p50: quantile(0.5),
  p99: quantile(0.99),
}));
for (const socket of sockets) socket.terminate();
Deno.exit(0);
