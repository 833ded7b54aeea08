import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { RawWebSocket } from "../../../tests/helpers/raw_socket.ts";
import type { RequestHandler, ServerSocket } from "../transport.ts";
import { wsTransport } from "./websocket.ts";

/** A listener whose sockets start at 100 bytes and rise to 10 000 after a text frame "raise". */
async function listen() {
  const events: string[] = [];
  const handler: RequestHandler = {
    isWebSocketPath: () => true,
    fetch: () => new Response("no"),
    onSocket(socket: ServerSocket) {
      socket.setMaxMessageSize(100);
      socket.listen({
        onText(text) {
          events.push(`text ${text.length}`);
          if (text === "raise") socket.setMaxMessageSize(10_000);
        },
        onBinary(data) {
          events.push(`binary ${data.byteLength}`);
        },
        onTooLarge() {
          events.push("too large");
        },
        onClose() {},
      });
    },
  };
  const listener = await wsTransport.listen(
    { hostname: "127.0.0.1", port: 0, maxMessageSize: 1_000_000 },
    handler,
  );
  return { listener, events };
}

/** The header of a masked binary frame announcing `length` bytes (16-bit length). */
function header(length: number): Uint8Array {
  return new Uint8Array([0x82, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0]);
}

Deno.test("ws: a socket's size limit is checked from each frame header, and can change", async () => {
  const { listener, events } = await listen();
  const raw = await RawWebSocket.connect(listener.port);
  raw.resume();
  try {
    await raw.sendFrame(2, new Uint8Array(100));
    await raw.sendText("raise");
    await raw.sendFrame(2, new Uint8Array(5000));
    // Announced, never sent: refused from the header alone.
    await raw.sendRaw(header(20_000));
    assert(await raw.waitFor(() => raw.closed, 3000), "closed without the payload");
    assertEquals(events, ["binary 100", "text 5", "binary 5000", "too large"]);
  } finally {
    await raw.close();
    await listener.close();
  }
});

Deno.test("ws: a frame over the starting limit is refused before it is read", async () => {
  const { listener, events } = await listen();
  const raw = await RawWebSocket.connect(listener.port);
  raw.resume();
  try {
    await raw.sendRaw(header(101));
    assert(await raw.waitFor(() => raw.closed, 3000));
    assertEquals(events, ["too large"]);
  } finally {
    await raw.close();
    await listener.close();
  }
});
