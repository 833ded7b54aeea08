/**
 * The spectators of the soak benchmark, in their own process: keeps `count` spectators of one
 * stream joining and leaving for `seconds` (each stays a random 1 to 8 s, then leaves with a close
 * handshake, or by dropping its TCP connection, and a new one joins). `npm:ws` clients, so the
 * swarm stays cheap next to the node it loads. Prints one JSON line of counts every 10 s and a
 * last one when done, after every socket is closed.
 *
 * Run: `deno run -A tests/bench/soak_swarm.ts <url> <stream> <token> <count> <seconds>`
 * @module
 */

// @ts-types="@types/ws"
import { WebSocket } from "ws";

const [url, stream, token, countText, secondsText] = Deno.args;
const count = Number(countText);
const endAt = performance.now() + Number(secondsText) * 1000;
const totals = { joined: 0, left: 0, dropped: 0, refused: 0, bytes: 0, fragments: 0 };
const open = new Set<WebSocket>();

/** One spectator's life; resolves when it has left. */
function spectator(): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    open.add(socket);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      open.delete(socket);
      resolve();
    };
    socket.on("open", () => {
      socket.send(
        `PULL:stream=${encodeURIComponent(stream)}&auth=${token}&max_initial_fragments=1`,
      );
    });
    socket.on("message", (data: Buffer, binary: boolean) => {
      if (binary) {
        totals.bytes += data.length;
        totals.fragments++;
        return;
      }
      const text = data.toString();
      if (text.startsWith("OK")) {
        totals.joined++;
        const stay = 1000 + Math.random() * 7000;
        timer = setTimeout(() => {
          totals.left++;
          if (Math.random() < 0.3) {
            totals.dropped++;
            socket.terminate();
          } else socket.close(1000);
        }, stay);
      } else if (text.startsWith("E")) totals.refused++;
    });
    socket.on("close", done);
    socket.on("error", () => {});
  });
}

async function slot(): Promise<void> {
  while (performance.now() < endAt) {
    await spectator();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
  }
}

const report = setInterval(
  () => console.log(JSON.stringify({ open: open.size, ...totals })),
  10_000,
);
await Promise.all(Array.from({ length: count }, () => slot()));
clearInterval(report);
for (const socket of open) socket.terminate();
console.log(JSON.stringify({ done: true, open: open.size, ...totals }));
Deno.exit(0);
