/**
 * The player's connection to a node: a thin layer over the shared protocol session
 * (`shared/session/`), which pulls the stream, pairs each `F` or `P` with its binary frame (a
 * second `F`/`P` before the binary is a protocol error, as everywhere), sends heartbeats and drops
 * a silent node. This layer turns fragments and parts into {@linkcode MediaChunk}s and reconnects
 * with back-off and jitter after a loss, resuming after the last complete fragment (`after=`)
 * where the node knows it.
 *
 * It gives up only when no media came for `timeoutMs` in spite of retries, or when the node
 * refuses for good (a code that `isRetriable` rejects, like `AUTH_FAILED`). Runs in browsers and
 * in Deno (tests drive it on a fake WebSocket and against real nodes).
 *
 * @example
 * ```ts ignore
 * const connection = new PullConnection({ url, streamId: "a", authToken: token }, {
 *   media: (chunk) => console.log(chunk.kind, chunk.seq, chunk.data.byteLength),
 *   ended: () => console.log("CLOSE"),
 *   failed: (error) => console.error(error),
 * });
 * connection.start();
 * ```
 * @module
 */

import { Backoff } from "../shared/backoff.ts";
import { Capability, CLIENT_CAPABILITIES } from "../shared/capabilities.ts";
import { isRetriable } from "../shared/errors.ts";
import type { MediaHeader } from "../shared/media_pairing.ts";
import {
  ProtocolSession,
  type SessionEnd,
  type SessionRefused,
} from "../shared/session/protocol_session.ts";
import { Reconnection } from "../shared/session/reconnection.ts";
import { ResumePoint } from "../shared/session/resume_point.ts";
import type { ReconnectInfo } from "./events.ts";
import { PlayerError } from "./events.ts";
import { NodeClock } from "./latency/node_clock.ts";
import { ReceiveReporter } from "./receive_reporter.ts";

/** A fragment or part as received. */
export interface MediaChunk {
  /** `fragment` (`F`) or `part` (`P`). */
  kind: "fragment" | "part";
  /** Fragment sequence number (absent from older nodes). */
  seq?: number;
  /** Part index (parts only). */
  part?: number;
  /** Publisher's wall clock of the first frame, ms since the epoch, when given. */
  time?: number;
  /** The origin node's receive time, ms since the epoch on its clock (capability `clock`). */
  at?: number;
  /** Duration in seconds (fragments, and the last part of a fragment). */
  duration?: number;
  /** Fragments were skipped before this one. */
  jump: boolean;
  /** Timestamps may not continue from the previous fragment. */
  discontinuity: boolean;
  /** Starts a fragment (an `F`, or part 0): begins with tables and a keyframe. */
  starts: boolean;
  /** Starts with a keyframe. */
  independent: boolean;
  /** Ends a fragment (an `F`, or the last part). */
  ends: boolean;
  /** The first chunk of a new connection (after a loss). */
  resumed: boolean;
  /** Extension (`abr`): on the first chunk after a rendition switch, the rendition that follows. */
  rendition?: string;
  /** Extension (`abr`): with `rendition`, its codecs (RFC 6381) when the node knows them. */
  codecs?: string;
  /** Extension (`abr`): with `rendition`, why the node switched (`start`, `down`, `up`, `pin`). */
  reason?: string;
  /** MPEG-TS bytes. */
  data: Uint8Array;
  /** `performance.now()` when the bytes arrived. */
  receivedAt: number;
}

/** How to connect. */
export interface PullConnectionOptions {
  /** Node WebSocket URL. */
  url: string;
  /** Stream id. */
  streamId: string;
  /** Pull token. */
  authToken: string;
  /** Ask for parts. @default true */
  parts?: boolean;
  /** `max_initial_fragments`. @default undefined (the node's default) */
  maxInitialFragments?: number;
  /** Give up after this long without media, in ms. @default 30000 */
  timeoutMs?: number;
  /** Send `H` after this long without sending, in ms. @default 30000 */
  heartbeatMs?: number;
  /** Drop a connection that received nothing for this long (or no answer to its `PULL`), in ms. @default 60000 */
  idleMs?: number;
  /** Reconnection delays. @default a Backoff of 250 ms to 5 s */
  backoff?: Backoff;
  /**
   * Extension (`abr`): `streamId` names a rendition group (`room/live`): pull it with `group=1`,
   * list `abr` in `caps`, and send receive reports (`R`). @default false
   */
  group?: boolean;
  /** Least ms between two receive reports (`R`) on a group pull (large frames go at once). @default 100 */
  reportMs?: number;
  /** Debug log. */
  log?: (message: string) => void;
  /** The WebSocket class. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
}

/** What the connection reports. */
export interface PullConnectionHandlers {
  /** A fragment or part arrived. */
  media(chunk: MediaChunk): void;
  /** The stream ended cleanly (`CLOSE`). */
  ended(): void;
  /** The connection gave up. */
  failed(error: PlayerError): void;
  /** A connection is being (re)opened. */
  connecting?(): void;
  /** The node accepted the pull; `parts` tells whether it will send parts. */
  accepted?(parts: boolean): void;
  /** The connection was lost and will be retried. */
  reconnect?(info: ReconnectInfo): void;
  /** Extension (`abr`): the node listed the group's renditions (`OK:renditions=`), best first. */
  renditions?(ids: string[]): void;
}

/** Counters of a connection. */
export interface ConnectionCounters {
  /** Media bytes received. */
  bytes: number;
  /** Fragments and parts received. */
  chunks: number;
  /** Reconnections made. */
  reconnects: number;
  /** Whether the node agreed to send parts. */
  parts: boolean;
  /** Sequence number of the last complete fragment, if known. */
  lastSeq: number | undefined;
  /** Whether the node granted `clock` (it stamps `at`, announces a delay, answers `T`). */
  clock: boolean;
  /** The node's default target delay for viewers (`OK:delay`), seconds, when it sent one. */
  nodeDelay: number | undefined;
  /** Whether the node granted `abr` on a group pull (it switches renditions, reads `R` and `PIN`). */
  abr: boolean;
  /** Receive reports (`R`) sent. */
  reports: number;
}

/** Pulls one stream from a node, across reconnections. */
export class PullConnection {
  #options: PullConnectionOptions;
  #handlers: PullConnectionHandlers;
  #retry: Reconnection;
  #resume = new ResumePoint();
  #session: ProtocolSession | null = null;
  /** Cancels the session being opened. */
  #opening: AbortController | null = null;
  #counters: ConnectionCounters = {
    bytes: 0,
    chunks: 0,
    reconnects: 0,
    parts: false,
    lastSeq: undefined,
    clock: false,
    nodeDelay: undefined,
    abr: false,
    reports: 0,
  };
  #pin: string | undefined;
  #report: ReceiveReporter | null = null;
  #clock: NodeClock | null = null;
  #freshConnection = false;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #done = false;
  #lastReason = "";

  /** Creates the connection; nothing happens until `start()`. */
  constructor(options: PullConnectionOptions, handlers: PullConnectionHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#retry = new Reconnection({
      backoff: options.backoff ?? new Backoff({ initialMs: 250, maxMs: 5000, jitter: 0.5 }),
      limitMs: options.timeoutMs ?? 30000,
    });
  }

  /** Counters so far. */
  get counters(): Readonly<ConnectionCounters> {
    return this.#counters;
  }

  /**
   * The node's clock now (ms since the epoch), estimated from `T` round trips; undefined while
   * unknown or when the node did not grant `clock`.
   */
  nodeNow(): number | undefined {
    return this.#counters.clock ? this.#clock?.nodeNow() : undefined;
  }

  /** Whether a socket is open or opening. */
  get connected(): boolean {
    return this.#session !== null || this.#opening !== null;
  }

  /** Connects and pulls. */
  start(): void {
    if (this.#done || this.connected || this.#ticker !== undefined) return;
    this.#retry.lost(); // media is due from now on
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#connect();
  }

  /** Closes the socket and stops every timer. Idempotent. */
  destroy(): void {
    this.#done = true;
    clearInterval(this.#ticker);
    clearTimeout(this.#retryTimer);
    this.#ticker = undefined;
    this.#opening?.abort();
    this.#opening = null;
    this.#session?.close();
    this.#session = null;
    this.#clock?.stop();
    this.#report?.stop();
    this.#report = null;
  }

  #log(message: string): void {
    this.#options.log?.(message);
  }

  #connect(): void {
    if (this.#done) return;
    this.#handlers.connecting?.();
    const { url, streamId, authToken } = this.#options;
    const opening = new AbortController();
    this.#opening = opening;
    this.#freshConnection = true;
    const after = this.#resume.lastSeq;
    this.#log(`connecting to ${url}; PULL${after !== undefined ? ` after ${after}` : ""}`);
    const idleMs = this.#options.idleMs ?? 60000;
    ProtocolSession.open({
      url,
      hello: {
        type: "PULL",
        stream: streamId,
        auth: authToken,
        parts: this.#options.parts !== false || undefined,
        maxInitialFragments: this.#options.maxInitialFragments,
        after,
        caps: this.#options.group === true
          ? [...CLIENT_CAPABILITIES, Capability.ABR]
          : [...CLIENT_CAPABILITIES],
        group: this.#options.group === true || undefined,
      },
      openMs: idleMs,
      heartbeatMs: this.#options.heartbeatMs ?? 30000,
      idleMs,
      WebSocket: this.#options.WebSocket,
      signal: opening.signal,
    }, {
      onMedia: (header, data, headerAt) => this.#onMedia(header, data, headerAt),
      onMessage: (message) => {
        if (message.type === "T" && message.now !== undefined) {
          this.#clock?.answer(message.id, message.now);
        }
      },
      onEnd: (end) => this.#onEnd(end),
    }).then((session) => {
      if (this.#opening !== opening) return session.close();
      this.#opening = null;
      this.#session = session;
      this.#counters.parts = session.accepted.parts === true;
      this.#startClock(session);
      this.#startAbr(session);
      this.#handlers.accepted?.(this.#counters.parts);
    }, (refusal: SessionRefused) => {
      if (this.#opening !== opening) return;
      this.#opening = null;
      this.#refused(refusal);
    });
  }

  /** A node that granted `clock`: sample its clock over this session (a new node, new samples). */
  #startClock(session: ProtocolSession): void {
    const granted = session.accepted.caps?.includes(Capability.CLOCK) === true;
    this.#counters.clock = granted;
    this.#counters.nodeDelay = granted ? session.accepted.delay : undefined;
    if (!granted) return;
    this.#clock?.stop();
    this.#clock = new NodeClock({ send: (id) => session.send({ type: "T", id }) });
  }

  /** A group pull the node granted `abr`: reports from now on, and the pin again after a loss. */
  #startAbr(session: ProtocolSession): void {
    const granted = this.#options.group === true &&
      session.accepted.caps?.includes(Capability.ABR) === true;
    this.#counters.abr = granted;
    this.#report = granted
      ? new ReceiveReporter((message) => {
        session.send(message);
        this.#counters.reports++;
      }, this.#options.reportMs ?? 100)
      : null;
    if (!granted) return;
    if (session.accepted.renditions !== undefined) {
      this.#handlers.renditions?.(session.accepted.renditions);
    }
    if (this.#pin !== undefined) session.send({ type: "PIN", rendition: this.#pin });
  }

  /**
   * Extension (`abr`): keep the rendition `id` (`PIN:rendition=`), or let the node choose again
   * (`undefined`: `PIN` alone). Kept across reconnections; ignored on a node without `abr`.
   */
  pin(id: string | undefined): void {
    this.#pin = id;
    if (!this.#counters.abr || this.#session === null) return;
    this.#session.send(id === undefined ? { type: "PIN" } : { type: "PIN", rendition: id });
  }

  /** The node did not accept the pull. */
  #refused(refusal: SessionRefused): void {
    if (refusal.kind === "url") {
      this.#fail(new PlayerError("INVALID_URL", refusal.message));
    } else if (refusal.kind === "error") {
      this.#onError(refusal.code!, refusal.message);
    } else if (refusal.kind !== "cancelled") {
      this.#lost(refusal.message);
    }
  }

  #onEnd(end: SessionEnd): void {
    this.#session = null;
    this.#report?.stop();
    this.#report = null;
    this.#clock?.stop();
    if (this.#done) return;
    switch (end.kind) {
      case "closed":
        this.#log("stream ended (CLOSE)");
        this.destroy();
        this.#handlers.ended();
        return;
      case "error":
        this.#onError(end.code, end.message);
        return;
      case "lost":
        this.#lost(end.reason);
    }
  }

  /** An `E` from the node: retried when the code may pass, the end otherwise. */
  #onError(code: string, message: string): void {
    if (isRetriable(code)) this.#lost(`${code}: ${message}`);
    else this.#fail(new PlayerError(code, message || code));
  }

  #onMedia(header: MediaHeader, data: Uint8Array, headerAt?: number): void {
    const receivedAt = performance.now();
    const isPart = header.type === "P";
    const starts = !isPart || header.part === 0;
    const ends = !isPart || header.last === true;
    this.#resume.note(header);
    this.#counters.lastSeq = this.#resume.lastSeq;
    this.#counters.bytes += data.byteLength;
    this.#counters.chunks++;
    this.#retry.progress();
    const resumed = this.#freshConnection && this.#counters.reconnects > 0;
    this.#freshConnection = false;
    this.#report?.received(header, data.byteLength, receivedAt, headerAt);
    this.#handlers.media({
      kind: isPart ? "part" : "fragment",
      seq: header.seq,
      part: isPart ? header.part : undefined,
      time: header.time,
      at: header.at,
      duration: header.duration,
      jump: header.jump === true,
      discontinuity: header.discontinuity === true,
      starts,
      independent: starts || (isPart && header.independent === true),
      ends,
      resumed,
      rendition: header.rendition,
      codecs: header.codecs,
      reason: header.reason,
      data,
      receivedAt,
    });
  }

  /** The connection was lost or refused for now: retry after a back-off, unless it is time to give up. */
  #lost(reason: string): void {
    if (this.#done) return;
    this.#lastReason = reason;
    this.#retry.lost();
    if (this.#givingUp()) return;
    const delayMs = this.#retry.nextDelay() ?? 0;
    this.#counters.reconnects++;
    this.#log(`${reason}; reconnecting in ${delayMs} ms`);
    this.#handlers.reconnect?.({ attempt: this.#retry.attempts, delayMs, reason });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  /** No media for `timeoutMs`: the end. */
  #givingUp(): boolean {
    if (!this.#retry.expired()) return false;
    const last = this.#lastReason ? ` (last: ${this.#lastReason})` : "";
    const timeout = this.#retry.limitMs;
    this.#fail(new PlayerError("TIMEOUT", `no media from the node within ${timeout} ms${last}`));
    return true;
  }

  #fail(error: PlayerError): void {
    if (this.#done) return;
    this.#log(`giving up: ${error.code}: ${error.message}`);
    this.destroy();
    this.#handlers.failed(error);
  }

  #tick(): void {
    if (!this.#done) this.#givingUp();
  }
}
