/**
 * The WebSocket transport: the one small interface between the node and a WebSocket library.
 *
 * Two adapters implement it: `ws/websocket.ts` (`npm:ws` over `node:http`, the default, because it
 * fans out an order of magnitude cheaper) and `deno/websocket.ts` (`Deno.serve` with
 * `Deno.upgradeWebSocket`). Everything above this interface (connections, streams, spectator
 * queues) is the same for both. See `documentation/architecture.md`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextFrame } from "./transport.ts";
 * const frame = new TextFrame("F:duration=2");
 * assert(frame.bytes.length === 12);
 * ```
 * @module
 */

import { mediaPrefix } from "./frame.ts";

const encoder = new TextEncoder();

/**
 * The largest payload a {@linkcode MediaMessage} frames into one buffer with its header (parts,
 * and small fragments); larger ones are written from their own bytes, never copied.
 */
export const CONTIGUOUS_MAX_BYTES = 256 * 1024;

/**
 * A text message encoded once and sent to many sockets, so that fan-out never re-encodes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextFrame } from "./transport.ts";
 * const frame = new TextFrame("H");
 * assert(frame.text === "H" && frame.bytes[0] === 72);
 * ```
 */
export class TextFrame {
  /** The message text. */
  readonly text: string;
  #bytes: Uint8Array | undefined;

  /** Wraps a message text; its UTF-8 bytes are made on first use. */
  constructor(text: string) {
    this.text = text;
  }

  /** The UTF-8 bytes of the text, encoded once. */
  get bytes(): Uint8Array {
    return this.#bytes ??= encoder.encode(this.text);
  }
}

/**
 * A media message: the `F` or `P` text frame and the binary frame after it. Made once per fragment
 * (or part) and sent to every spectator; an adapter that writes frames itself uses `wirePrefix`,
 * framed once, so the per-spectator work is one write of shared bytes: of `wire`, both frames in
 * one buffer, for a small message (a part: copying it once costs less than a second write for each
 * spectator), of the prefix and the payload in one vectored write otherwise (a whole fragment,
 * which is not copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MediaMessage, TextFrame } from "./transport.ts";
 * const message = new MediaMessage(new TextFrame("F:duration=1"), new Uint8Array(188));
 * assert(message.wirePrefix.length === 2 + 12 + 4);
 * assert(message.wire?.length === 2 + 12 + 4 + 188, "small: framed whole, once");
 * ```
 */
export class MediaMessage {
  /** The text frame. */
  readonly header: TextFrame;
  /** The binary payload, shared, never copied per spectator. */
  readonly data: Uint8Array;
  #prefix: Uint8Array | undefined;
  #wire: Uint8Array | undefined;

  /** Pairs a header with its payload. */
  constructor(header: TextFrame, data: Uint8Array) {
    this.header = header;
    this.data = data;
  }

  /**
   * Both frames in one buffer, exactly as they go on the wire (made once), for a payload of at most
   * {@linkcode CONTIGUOUS_MAX_BYTES}; undefined for a larger one (write `wirePrefix`, then `data`).
   */
  get wire(): Uint8Array | undefined {
    if (this.#wire !== undefined || this.data.byteLength > CONTIGUOUS_MAX_BYTES) return this.#wire;
    const prefix = this.wirePrefix;
    const wire = new Uint8Array(prefix.byteLength + this.data.byteLength);
    wire.set(prefix, 0);
    wire.set(this.data, prefix.byteLength);
    return this.#wire = wire;
  }

  /** The whole text frame plus the binary frame header, as they go on the wire (made once). */
  get wirePrefix(): Uint8Array {
    return this.#prefix ??= mediaPrefix(this.header.bytes, this.data.byteLength);
  }

  /** Bytes this message puts on the wire. */
  get wireLength(): number {
    return this.wirePrefix.byteLength + this.data.byteLength;
  }
}

/** What a socket tells its owner. Exactly one `onClose` ends every socket. */
export interface SocketListener {
  /** A text frame arrived. */
  onText(text: string): void;
  /** A binary frame arrived. */
  onBinary(data: Uint8Array): void;
  /**
   * A frame larger than the socket's limit (`setMaxMessageSize`) is arriving. The listener may
   * still send (an `E` message) before the transport closes the socket with code 1009.
   */
  onTooLarge(): void;
  /** The socket is closed (by either side, or because the connection broke). */
  onClose(code: number, reason: string): void;
}

/** One accepted WebSocket connection, as the node sees it. */
export interface ServerSocket {
  /** Bytes handed to `send*` that the transport has not yet written to the kernel. */
  readonly bufferedAmount: number;
  /** Sets the listener; call once, right after the socket is accepted. */
  listen(listener: SocketListener): void;
  /**
   * Sets the largest frame this socket accepts from now on (at most the listener's
   * `maxMessageSize`, which is where a socket starts). The `ws` adapter refuses a larger frame as
   * soon as its header announces it, before reading it; the `deno` adapter only once the whole
   * frame has arrived (Deno reads frames whole, up to its own 64 MiB).
   */
  setMaxMessageSize(bytes: number): void;
  /** Sends a text frame. Does nothing once the socket is closing. */
  sendText(frame: TextFrame): void;
  /** Sends a media message (text frame, then binary frame) as cheaply as the library allows. */
  sendMedia(message: MediaMessage): void;
  /** Starts the closing handshake after everything already sent. */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once, without a handshake (for a peer that stopped reading). */
  terminate(): void;
}

/** The parts of the upgrade request the node needs. */
export interface UpgradeRequest {
  /** Full request URL. */
  url: URL;
  /** Request headers (Origin, User-Agent...). */
  headers: Headers;
  /** Peer IP address, IPv4-mapped IPv6 addresses reduced to IPv4. */
  remoteAddress: string;
}

/** What the transport asks the node. */
export interface RequestHandler {
  /** Whether an upgrade request for this path is for the node's WebSocket endpoint. */
  isWebSocketPath(pathname: string): boolean;
  /** Answers a plain HTTP request (anything without `Upgrade: websocket`). */
  fetch(request: Request, remoteAddress: string): Response | Promise<Response>;
  /** A WebSocket connection was accepted on the endpoint. */
  onSocket(socket: ServerSocket, request: UpgradeRequest): void;
}

/** A certificate chain and private key, both PEM. */
export interface TlsCertificate {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
}

/** Where and how to listen. */
export interface ListenOptions {
  /** Address to bind; `""` or `0.0.0.0` for every interface. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /**
   * Largest frame any socket of this listener accepts, in bytes, and where each starts (see
   * `ServerSocket.setMaxMessageSize`); larger ones get `onTooLarge` and close code 1009.
   */
  maxMessageSize: number;
  /** Serve HTTPS/WSS with this certificate. */
  tls?: TlsCertificate;
  /**
   * A new TCP (or TLS) connection must send its HTTP request or upgrade within this many ms, or it
   * is dropped (slow clients that hold sockets open). Adapters that cannot do it ignore it.
   * @default 10000
   */
  requestTimeoutMs?: number;
}

/** A listening server. */
export interface Listener {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Replaces the TLS certificate for new connections. The `ws` adapter keeps open connections;
   * the `deno` adapter has to restart its listener, which closes them (code 1012).
   */
  setCertificate(certificate: TlsCertificate): Promise<void>;
  /** Stops accepting connections. Open WebSockets are the node's to close. */
  close(): Promise<void>;
}

/** A WebSocket library behind one interface. */
export interface Transport {
  /** `ws` or `deno`. */
  readonly name: TransportName;
  /** Starts a listener that hands upgrades and plain requests to `handler`. */
  listen(options: ListenOptions, handler: RequestHandler): Promise<Listener>;
}

/** Names of the available transports (`WEBSOCKET_TRANSPORT`). */
export type TransportName = "ws" | "deno";

/**
 * Reduces an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) to its IPv4 form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeAddress } from "./transport.ts";
 * assert(normalizeAddress("::ffff:127.0.0.1") === "127.0.0.1");
 * ```
 */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
