/**
 * A WebSocket client over a raw TCP connection that reads only when told to, so a test can play a
 * spectator that stops reading (its kernel buffers fill and the node sees the backlog), or send
 * frames a browser never would.
 *
 * @example
 * ```ts ignore
 * const raw = await RawWebSocket.connect(port);
 * await raw.sendText("PULL:stream=a&auth=...");
 * await delay(10_000);                 // read nothing for 10 s
 * raw.resume();
 * await raw.waitFor((frames) => frames.length > 10, 5000);
 * ```
 * @module
 */

/** A frame read from the node. */
export interface RawFrame {
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  /** Payload bytes. */
  payload: Uint8Array;
}

const encoder = new TextEncoder();

/** A minimal RFC 6455 client over `Deno.connect`. */
export class RawWebSocket {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects and completes the opening handshake. */
  static async connect(port: number, path = "/"): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(encoder.encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const socket = new RawWebSocket(conn);
    const head = await socket.#readUntil(encoder.encode("\r\n\r\n"));
    const status = new TextDecoder().decode(head).split("\r\n")[0];
    if (!status.includes(" 101 ")) throw new Error(`upgrade refused: ${status}`);
    return socket;
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const read = await this.#conn.read(chunk);
    if (read === null) {
      this.#closed = true;
      return false;
    }
    const next = new Uint8Array(this.#buffer.length + read);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, read), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  async #readUntil(marker: Uint8Array): Promise<Uint8Array> {
    for (;;) {
      const index = indexOf(this.#buffer, marker);
      if (index !== -1) {
        const head = this.#buffer.slice(0, index);
        this.#buffer = this.#buffer.slice(index + marker.length);
        return head;
      }
      if (!await this.#fill()) throw new Error("connection closed during handshake");
    }
  }

  /** Parses one complete frame from the buffer, if there is one. */
  #takeFrame(): RawFrame | null {
    const data = this.#buffer;
    if (data.length < 2) return null;
    const opcode = data[0] & 0x0f;
    let length = data[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return null;
      length = data[2] << 8 | data[3];
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return null;
      length = Number(new DataView(data.buffer, data.byteOffset + 2, 8).getBigUint64(0));
      offset = 10;
    }
    if (data.length < offset + length) return null;
    const payload = data.slice(offset, offset + length);
    this.#buffer = data.slice(offset + length);
    return { opcode, payload };
  }

  /** Frames received so far (filled once `resume()` was called). */
  readonly frames: RawFrame[] = [];
  #loop: Promise<void> | undefined;
  #waiters: Array<() => void> = [];

  /** Whether the node closed the TCP connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts reading (a new connection reads nothing until this is called). */
  resume(): void {
    this.#loop ??= (async () => {
      for (;;) {
        for (let frame = this.#takeFrame(); frame !== null; frame = this.#takeFrame()) {
          this.frames.push(frame);
          // Answer the closing handshake, as every compliant client does.
          if (frame.opcode === 8) {
            await this.sendFrame(8, frame.payload.slice(0, 2)).catch(() => {});
          }
        }
        this.#wake();
        if (this.#closed) return;
        try {
          if (!await this.#fill()) break;
        } catch {
          this.#closed = true;
          break;
        }
      }
      for (let frame = this.#takeFrame(); frame !== null; frame = this.#takeFrame()) {
        this.frames.push(frame);
      }
      this.#wake();
    })();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `done(frames)` is true, the connection closes, or `timeoutMs` pass; returns whether `done`. */
  async waitFor(done: (frames: RawFrame[]) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!done(this.frames)) {
      const left = deadline - performance.now();
      if (this.#closed || left <= 0) return done(this.frames);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Sends a masked frame. */
  async sendFrame(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const length = payload.length;
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = new Uint8Array(header + 4 + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame[2] = length >> 8;
      frame[3] = length & 0xff;
    } else {
      frame[1] = 0x80 | 127;
      new DataView(frame.buffer).setBigUint64(2, BigInt(length));
    }
    frame.set(mask, header);
    for (let index = 0; index < length; index++) {
      frame[header + 4 + index] = payload[index] ^ mask[index & 3];
    }
    let written = 0;
    while (written < frame.length) written += await this.#conn.write(frame.subarray(written));
  }

  /** Writes bytes as they are (a partial or malformed frame). */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Sends a text frame. */
  sendText(text: string): Promise<void> {
    return this.sendFrame(1, encoder.encode(text));
  }

  /** Closes the TCP connection and waits for the reader to stop. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* closed */ }
    this.#closed = true;
    await this.#loop?.catch(() => {});
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let index = 0; index + needle.length <= haystack.length; index++) {
    for (let offset = 0; offset < needle.length; offset++) {
      if (haystack[index + offset] !== needle[offset]) continue outer;
    }
    return index;
  }
  return -1;
}
