/**
 * The baseline of the fan-out benchmark: a bare WebSocket fan-out with no CDN logic, on either
 * transport. The first client that sends `PUB` is the publisher; every other client is a spectator;
 * each binary frame from the publisher goes to every spectator.
 *
 * Run: `deno run -A tests/bench/bare_fanout.ts <port> <ws|deno>`; prints `READY` when listening.
 * @module
 */

// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import http from "node:http";

const port = Number(Deno.args[0]);
const transport = Deno.args[1] ?? "ws";

if (transport === "ws") {
  const server = http.createServer((_request, response) => response.end("OK"));
  const sockets = new WebSocketServer({
    server,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: 64 << 20,
  });
  // deno-lint-ignore no-explicit-any
  const spectators = new Set<any>();
  sockets.on("connection", (socket) => {
    let publisher = false;
    spectators.add(socket);
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        if (data.toString() === "PUB") {
          publisher = true;
          spectators.delete(socket);
        }
        return;
      }
      if (publisher) { for (const spectator of spectators) spectator.send(data, { binary: true }); }
    });
    socket.on("close", () => spectators.delete(socket));
    socket.on("error", () => {});
  });
  server.listen(port, "127.0.0.1", () => console.log("READY"));
} else {
  const spectators = new Set<WebSocket>();
  Deno.serve({ port, hostname: "127.0.0.1", onListen: () => console.log("READY") }, (request) => {
    if (request.headers.get("upgrade") !== "websocket") return new Response("OK");
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    let publisher = false;
    socket.onopen = () => spectators.add(socket);
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        if (event.data === "PUB") {
          publisher = true;
          spectators.delete(socket);
        }
        return;
      }
      if (publisher) {
        const data = new Uint8Array(event.data as ArrayBuffer);
        for (const spectator of spectators) spectator.send(data);
      }
    };
    socket.onclose = () => spectators.delete(socket);
    socket.onerror = () => {};
    return response;
  });
}
