/**
 * A protocol client for tests: a real WebSocket that records every message in order, with
 * `next()` to await the next one under a deadline, and helpers to push and pull.
 *
 * @example
 * ```ts ignore
 * await using spectator = await TestClient.connect(node.wsUrl);
 * spectator.send({ type: "PULL", stream: "a", auth: await pullToken("a") });
 * assertEquals((await spectator.nextText()).type, "OK");
 * ```
 * @module
 */

import {
  type KnownMessage,
  type Message,
  parseMessage,
  writeMessage,
} from "../../shared/protocol.ts";
import { signToken } from "../../shared/token.ts";
import { CLIENT_CAPABILITIES } from "../../shared/capabilities.ts";
// @ts-types="@types/ws"
import { WebSocket as NodeWebSocket } from "ws";
import { sameBytes } from "./media.ts";
import { TEST_SECRETS } from "./node_process.ts";

/** A received frame: a parsed text message or binary bytes, with its arrival time. */
export type Received =
  | { kind: "text"; message: Message; raw: string; at: number }
  | { kind: "binary"; data: Uint8Array; at: number };

/** A pull token signed with the test secret (or another). */
export function pullToken(
  stream: string,
  secret: string = TEST_SECRETS.PULL_SECRET,
  lifetimeSeconds = 600,
): Promise<string> {
  return signToken({ secret, action: "PULL", stream, lifetimeSeconds });
}

/** A push token signed with the test secret (or another). */
export function pushToken(
  stream: string,
  secret: string = TEST_SECRETS.PUSH_SECRET,
  lifetimeSeconds = 600,
): Promise<string> {
  return signToken({ secret, action: "PUSH", stream, lifetimeSeconds });
}

/** A whole fragment as a spectator received it. */
export interface ReceivedFragment {
  /** The `F` message. */
  header: Extract<Message, { type: "F" }>;
  /** The binary frame after it. */
  data: Uint8Array;
  /** When the binary frame arrived (`performance.now()`). */
  at: number;
}

/** A WebSocket test client. */
export class TestClient {
  /** Everything received, in order. */
  readonly received: Received[] = [];
  /** Close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;
  #socket: WebSocket;
  #cursor = 0;
  #waiters: Array<() => void> = [];
  #closedPromise: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const at = performance.now();
      if (typeof event.data === "string") {
        let message: Message;
        try {
          message = parseMessage(event.data);
        } catch {
          message = { type: "UNKNOWN", name: `unparsable: ${event.data.slice(0, 50)}` };
        }
        this.received.push({ kind: "text", message, raw: event.data, at });
      } else {
        this.received.push({ kind: "binary", data: new Uint8Array(event.data as ArrayBuffer), at });
      }
      this.#wake();
    };
    this.#closedPromise = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.closed = { code: event.code, reason: event.reason };
        this.#wake();
        resolve();
      };
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Opens a connection; `from` picks the local address (any of 127.0.0.0/8, to play another
   * client address), `origin` sends an `Origin` header, as a browser page would, and `client`
   * sets TLS trust for `wss://` (`Deno.createHttpClient({ caCerts })`).
   */
  static async connect(
    url: string,
    options: { from?: string; origin?: string; client?: Deno.HttpClient } = {},
  ): Promise<TestClient> {
    const socket = options.from === undefined && options.origin === undefined
      ? new WebSocket(url, options.client ? { client: options.client } : undefined)
      : new NodeWebSocket(url, {
        localAddress: options.from,
        headers: options.origin === undefined ? {} : { origin: options.origin },
        perMessageDeflate: false,
      }) as unknown as WebSocket;
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    socket.onerror = () => {};
    return client;
  }

  /** Sends a message (or raw text). */
  send(message: KnownMessage | string): void {
    this.#socket.send(typeof message === "string" ? message : writeMessage(message));
  }

  /** Sends a binary frame. */
  sendBinary(data: Uint8Array): void {
    this.#socket.send(data);
  }

  /** Sends `F` + binary. */
  sendFragment(
    duration: number,
    data: Uint8Array,
    extra: Partial<KnownMessage & { type: "F" }> = {},
  ): void {
    this.send({ ...extra, type: "F", duration });
    this.sendBinary(data);
  }

  /** The next received frame, waiting up to `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    while (this.#cursor >= this.received.length) {
      if (this.closed) {
        throw new Error(
          `connection closed (${this.closed.code} ${this.closed.reason}) while waiting`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`nothing received within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.#cursor++];
  }

  /** The next frame, which must be a text message. */
  async nextText(timeoutMs = 5000): Promise<Message> {
    const item = await this.next(timeoutMs);
    if (item.kind !== "text") {
      throw new Error(`expected a text message, got ${item.data.byteLength} binary bytes`);
    }
    return item.message;
  }

  /** The next non-heartbeat text message. */
  async nextMessage(timeoutMs = 5000): Promise<Message> {
    for (;;) {
      const message = await this.nextText(timeoutMs);
      if (message.type !== "H") return message;
    }
  }

  /** The next `F` + binary pair (skipping heartbeats). */
  async nextFragment(timeoutMs = 5000): Promise<ReceivedFragment> {
    const header = await this.nextMessage(timeoutMs);
    if (header.type !== "F") throw new Error(`expected F, got ${JSON.stringify(header)}`);
    const body = await this.next(timeoutMs);
    if (body.kind !== "binary") {
      throw new Error(`expected binary after F, got ${JSON.stringify(body.message)}`);
    }
    return { header, data: body.data, at: body.at };
  }

  /** Waits for the socket to close (up to `timeoutMs`) and returns its close code. */
  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closedPromise,
      new Promise((_, reject) =>
        timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs)
      ),
    ]).finally(() => clearTimeout(timer));
    return this.closed!;
  }

  /** Closes the socket. */
  close(): void {
    if (
      this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING
    ) {
      this.#socket.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await Promise.race([this.#closedPromise, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

/**
 * The `caps` a test client sends: ours (a new client) unless `old` (a client of the original
 * protocol, which sends none).
 */
export function capsFor(old: boolean | undefined): string[] | undefined {
  return old ? undefined : [...CLIENT_CAPABILITIES];
}

/** Pulls `stream` (as a new client) and expects `E` with `code`; returns how long the answer took in ms. */
export async function expectRefusal(
  url: string,
  stream: string,
  code: string,
  options: { onlySource?: boolean; parts?: boolean } = {},
  timeoutMs = 20000,
): Promise<number> {
  const start = performance.now();
  await using client = await TestClient.connect(url);
  client.send({
    type: "PULL",
    stream,
    auth: await pullToken(stream),
    ...options,
    caps: capsFor(false),
  });
  const answer = await client.nextMessage(timeoutMs);
  if ((answer.type === "E" ? answer.code : answer.type) !== code) {
    throw new Error(`pull of ${stream}: expected E ${code}, got ${JSON.stringify(answer)}`);
  }
  return performance.now() - start;
}

/** Expects the next fragments of `client` to be `expected`, byte-exact, numbered from `firstSeq`. */
export async function expectFragments(
  client: TestClient,
  expected: readonly { duration: number; data: Uint8Array }[],
  firstSeq = 0,
  timeoutMs = 10000,
): Promise<void> {
  for (const [index, fragment] of expected.entries()) {
    const received = await client.nextFragment(timeoutMs);
    if (received.header.seq !== firstSeq + index) {
      throw new Error(`expected fragment ${firstSeq + index}, got ${received.header.seq}`);
    }
    if (!sameBytes(received.data, fragment.data)) {
      throw new Error(`fragment ${firstSeq + index} is not byte-exact`);
    }
  }
}

/** Connects and pushes `stream` (as a new client unless `old`); resolves after `OK`. */
export async function publisherFor(
  url: string,
  stream: string,
  options: { parts?: boolean; old?: boolean } = {},
): Promise<TestClient> {
  const client = await TestClient.connect(url);
  client.send({
    type: "PUSH",
    stream,
    auth: await pushToken(stream),
    parts: options.parts,
    caps: capsFor(options.old),
  });
  const answer = await client.nextMessage();
  if (answer.type !== "OK") throw new Error(`PUSH refused: ${JSON.stringify(answer)}`);
  return client;
}

/**
 * What a test spectator asks for; `old` sends no `caps` (a client of the original protocol), and
 * `caps` sends those instead of ours.
 */
export interface SpectatorOptions {
  maxInitialFragments?: number;
  parts?: boolean;
  after?: number;
  onlySource?: boolean;
  old?: boolean;
  caps?: string[];
}

/** Connects and pulls `stream` (as a new client unless `old`); resolves after `OK`. */
export async function spectatorFor(
  url: string,
  stream: string,
  options: SpectatorOptions = {},
): Promise<TestClient> {
  const client = await TestClient.connect(url);
  const { old, caps, ...pull } = options;
  client.send({
    type: "PULL",
    stream,
    auth: await pullToken(stream),
    ...pull,
    caps: caps ?? capsFor(old),
  });
  const answer = await client.nextMessage();
  if (answer.type !== "OK") throw new Error(`PULL refused: ${JSON.stringify(answer)}`);
  return client;
}
