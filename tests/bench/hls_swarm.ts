/**
 * The clients of the HLS benchmark, in their own process: N WebSocket spectators pulling parts
 * (`ws`), or N simulated Low-Latency HLS clients (`hls`), each doing what an LL-HLS player does
 * at the live edge: a blocking playlist reload for the next part (`_HLS_msn`/`_HLS_part`), then
 * that part. Counts the bytes and requests, and the wait of each blocking reload.
 *
 * Run: `deno run -A tests/bench/hls_swarm.ts ws|hls <url> <count> <token> <stream>`; prints
 * `READY` once every client has started, then reads `DONE` on stdin and prints a JSON summary.
 * @module
 */

// @ts-types="@types/ws"
import { WebSocket } from "ws";

const [mode, url, countText, token, stream] = Deno.args;
const count = Number(countText);
let bytes = 0;
let mediaBytes = 0;
let requests = 0;
let errors = 0;
let running = true;
const waits: number[] = [];

function wsClient(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on(
      "open",
      () => socket.send(`PULL:stream=${stream}&auth=${token}&parts=1&max_initial_fragments=0`),
    );
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      bytes += data.length;
      if (isBinary) mediaBytes += data.length;
      else if (data.toString().startsWith("OK")) resolve();
    });
    socket.on("error", reject);
    sockets.push(socket);
  });
}
const sockets: WebSocket[] = [];

const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.ts\?([^"]+)"/;

async function get(target: string): Promise<Response> {
  requests++;
  return await fetch(target);
}

async function hlsClient(started: () => void): Promise<void> {
  const playlistUrl = `${url}/index.m3u8?token=${token}`;
  let text = await (await get(playlistUrl)).text();
  started();
  while (running) {
    const hint = HINT.exec(text);
    if (hint === null) {
      errors++;
      return;
    }
    const [, msn, part] = hint;
    const asked = performance.now();
    const response = await get(`${playlistUrl}&_HLS_msn=${msn}&_HLS_part=${part}`);
    text = await response.text();
    waits.push(performance.now() - asked);
    bytes += text.length;
    if (response.status !== 200) {
      errors++;
      continue;
    }
    const listed = new RegExp(`URI="(p${msn}\\.${part}\\.ts\\?[^"]+)"`).exec(text);
    if (listed === null) continue; // the segment ended before that part: take the next hint
    const media = await get(`${url}/${listed[1]}`);
    const body = new Uint8Array(await media.arrayBuffer());
    if (media.status !== 200) errors++;
    bytes += body.byteLength;
    mediaBytes += body.byteLength;
  }
}

const loops: Promise<void>[] = [];
if (mode === "ws") {
  for (let start = 0; start < count; start += 50) {
    const batch = [];
    for (let index = start; index < Math.min(count, start + 50); index++) batch.push(wsClient());
    await Promise.all(batch);
  }
} else {
  for (let start = 0; start < count; start += 50) {
    const batch: Promise<void>[] = [];
    for (let index = start; index < Math.min(count, start + 50); index++) {
      batch.push(
        new Promise((resolve) => loops.push(hlsClient(resolve).catch(() => void errors++))),
      );
    }
    await Promise.all(batch);
  }
}
const startBytes = bytes;
const startMedia = mediaBytes;
const startRequests = requests;
waits.length = 0;
console.log("READY");
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const chunk of input) if (chunk.includes("DONE")) break;
const summary = {
  bytes: bytes - startBytes,
  mediaBytes: mediaBytes - startMedia,
  requests: requests - startRequests,
  errors,
  waitP50: waits.sort((a, b) => a - b)[Math.floor(waits.length / 2)] ?? NaN,
};
running = false;
console.log(JSON.stringify(summary));
for (const socket of sockets) socket.terminate();
Deno.exit(0);
