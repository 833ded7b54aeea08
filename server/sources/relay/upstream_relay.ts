/**
 * One relayed stream: a {@linkcode Stream} on this node fed by one pull from another node, however
 * many spectators it has. Relays of a registry hit and of `RELAY_FROM_URL` are the same class; only
 * their {@linkcode UpstreamLocator} differs.
 *
 * - **Start**: locate the upstream, pull with `parts=1` and the `via` path, then wait until the
 *   upstream's buffered fragments are in (the first part, or a quiet moment) so that the first
 *   spectators get the same initial fragments as on the origin.
 * - **Media** keeps its origin's `seq` and `time`.
 * - **Upstream ends**: `CLOSE` and `E` (publisher lost, loop) end the stream the same way for every
 *   spectator. A broken or silent connection, an upstream that is going away, or a stream that
 *   moved to another node (`STREAM_MOVED`), is resumed: the fragment in progress is dropped, and
 *   the relay pulls again with back-off and `after=<last complete seq>` (located again, so a
 *   publisher that moved is followed; media from another node or publisher is marked
 *   `discontinuity`) until `RELAY_RESUME_TIMEOUT_SECONDS` have passed; then spectators get `E`.
 * - **Abandoned fragments**: an upstream whose publisher changed (a takeover, a publisher back
 *   from its grace) starts a new fragment without finishing the one in progress; the relay drops
 *   that one too, as the upstream did.
 * - **Inactivity**: `RELAY_INACTIVITY_PERIOD_SEC` after the last spectator leaves, the upstream is
 *   closed and the stream ends.
 *
 * @example
 * ```ts ignore
 * const relay = new UpstreamRelay({ streamId: "room/a", via: ["edge-1"], origin: "relay", locator, ... });
 * const start = await relay.started; // { kind: "stream", stream } | { kind: "declined" } | { kind: "failed" }
 * ```
 * @module
 */

import { CLIENT_CAPABILITIES } from "../../../shared/capabilities.ts";
import { ErrorCode, isErrorCode, isRecoverable, ProtocolError } from "../../../shared/errors.ts";
import type { FragmentMessage, PartMessage } from "../../../shared/protocol.ts";
import { escapeControls, quote } from "../../../shared/quote.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import type { Stream } from "../../stream.ts";
import type { StreamEnd } from "../../stream_end.ts";
import type { UpstreamLocator, UpstreamTarget } from "./locator.ts";
import {
  ProtocolSession,
  type SessionEnd,
  SessionRefused,
} from "../../../shared/session/protocol_session.ts";
import { Reconnection } from "../../../shared/session/reconnection.ts";
import { ResumePoint } from "../../../shared/session/resume_point.ts";
import { showUrl, upstreamUrlProblem } from "./upstream_url.ts";

/** How a relay started: with a stream, declined (try the next source), or failed. */
export type RelayStart =
  | { kind: "stream"; stream: Stream }
  | { kind: "declined"; reason: string }
  | { kind: "failed"; error: ProtocolError };

/** Timers of a relay, in milliseconds. */
export interface RelayTiming {
  /** `UPSTREAM_TIMEOUT_SECONDS`: connect and answer. */
  upstreamTimeoutMs: number;
  /** `HEARTBEAT_INTERVAL_SECONDS`. */
  heartbeatMs: number;
  /** `IDLE_TIMEOUT_SECONDS`: a silent upstream counts as lost. */
  idleMs: number;
  /** `RELAY_RESUME_TIMEOUT_SECONDS`. */
  resumeTimeoutMs: number;
  /** `RELAY_INACTIVITY_PERIOD_SEC`. */
  inactivityMs: number;
}

/** How a relay is set up. */
export interface UpstreamRelayOptions {
  /** Stream id. */
  streamId: string;
  /** `via` of the pull that started the relay (it ends with this node's id). */
  via: readonly string[];
  /** Name of the source that started it (`registry`, `relay`), for stats. */
  origin: string;
  /** Where the upstream is. */
  locator: UpstreamLocator;
  /** Makes the local stream (called once, before the first pull). */
  createStream(): Stream;
  /** Signs this node's pull token for the stream. */
  signPull(streamId: string): Promise<string>;
  /** Timers. */
  timing: RelayTiming;
  /** Log. */
  log: Logger;
  /** Counters (`relay_errors_total`, `relay_reconnects_total`, `relay_upstream_connections`). */
  metrics?: Metrics;
}

/** What `/stats` shows of a relay. */
export interface RelayStats {
  /** Stream id. */
  id: string;
  /** The source that started it. */
  origin: string;
  /** The upstream's URL (the latest one). */
  upstream: string | null;
  /** Whether the upstream connection is open now (0 or 1 per stream, whatever the spectators). */
  upstreamConnections: number;
  /** Spectators on this node. */
  spectators: number;
  /** Newest complete fragment. */
  lastSeq: number;
  /** Times the upstream was pulled again after it dropped. */
  resumes: number;
  /** Media bytes received from upstreams. */
  bytesIn: number;
}

/** Quiet time after which the upstream's initial burst counts as received. */
const PRIME_QUIET_MS = 50;
/** Pauses between resume attempts: 100 ms doubling to 2 s, less up to 30 % at random. */
const RESUME_BACKOFF = { initialMs: 100, maxMs: 2000, jitter: 0.3 };

/** A code from an upstream as a metric label: one of ours, or `other` (never arbitrary text). */
function codeLabel(code: string): string {
  return isErrorCode(code) ? code : "other";
}

/** The code of an upstream's refusal: its `E` code, or `UPSTREAM_ERROR` when it sent none. */
function refusalCode(refusal: SessionRefused): string {
  return refusal.kind === "error" ? refusal.code! : ErrorCode.UPSTREAM_ERROR;
}

/** A refusal as a metric label: the upstream's code when it answered, else `connect`. */
function refusalLabel(refusal: SessionRefused): string {
  return refusal.answered ? codeLabel(refusalCode(refusal)) : "connect";
}

/** What an upstream's refusal was, for a spectator: its code if known, its text quoted. No URL. */
function describe(error: SessionRefused): string {
  const code = refusalCode(error);
  return `${isErrorCode(code) ? code : "an unknown code"} ${quote(error.message, 200)}`;
}

/** An upstream's own `E` text passed on to spectators: one line, of a readable length. */
function passOn(message: string): string {
  return escapeControls(message).slice(0, 300);
}

/** Pauses for `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One relayed stream. Event `ended` (once). */
export class UpstreamRelay extends EventTarget {
  /** Stream id. */
  readonly streamId: string;
  /** The source that started it. */
  readonly origin: string;
  /** Where the upstream is. */
  readonly locator: UpstreamLocator;
  /** The relay path its pulls carry (the starting pull's path, then this node's id). */
  readonly via: readonly string[];
  /** Settles once: the stream, or why there is none. */
  readonly started: Promise<RelayStart>;
  #options: UpstreamRelayOptions;
  #log: Logger;
  #stream: Stream;
  #connection: ProtocolSession | null = null;
  #url: string | null = null;
  #abort = new AbortController();
  #closed = false;
  /** Where a pull after a loss resumes (`after=`). */
  #resumePoint = new ResumePoint();
  /** The pauses between resume attempts, and the resume deadline. */
  #retry: Reconnection;
  /** The next connection's media comes from another publisher or node: mark it `discontinuity`. */
  #newTimeline = false;
  #resumes = 0;
  #bytesIn = 0;
  #inactivity: ReturnType<typeof setTimeout> | undefined;
  #primed: (() => void) | null = null;
  /** Upstream connections counted in `relay_upstream_connections` and not yet ended. */
  #counted = new WeakSet<ProtocolSession>();
  #quiet: ReturnType<typeof setTimeout> | undefined;

  /** Starts the relay at once; `started` says how it went. */
  constructor(options: UpstreamRelayOptions) {
    super();
    this.streamId = options.streamId;
    this.origin = options.origin;
    this.locator = options.locator;
    this.via = options.via;
    this.#options = options;
    this.#log = options.log.child(`relay ${options.streamId}`);
    this.#stream = options.createStream();
    this.#retry = new Reconnection({
      backoff: RESUME_BACKOFF,
      limitMs: options.timing.resumeTimeoutMs,
    });
    this.started = this.#start().catch((error) => this.#unexpected(error));
  }

  /** An error no code path expects: end the relay rather than the node. */
  #unexpected(error: unknown): RelayStart {
    const message = `relay failed: ${error instanceof Error ? error.message : error}`;
    this.#log.error(error instanceof Error ? error.stack ?? message : message);
    this.#finish({ kind: "failed", code: ErrorCode.UPSTREAM_ERROR, message });
    return { kind: "failed", error: new ProtocolError(ErrorCode.UPSTREAM_ERROR, message) };
  }

  /** The local stream (live once `started` gave it). */
  get stream(): Stream {
    return this.#stream;
  }

  /** Whether the relay has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** What `/stats` shows. */
  stats(): RelayStats {
    return {
      id: this.streamId,
      origin: this.origin,
      upstream: this.#url,
      upstreamConnections: this.#connection === null ? 0 : 1,
      spectators: this.#stream.subscriberCount,
      lastSeq: this.#stream.lastSeq,
      resumes: this.#resumes,
      bytesIn: this.#bytesIn + (this.#connection?.bytesReceived ?? 0),
    };
  }

  async #start(): Promise<RelayStart> {
    const signal = this.#abort.signal;
    let target: UpstreamTarget | null;
    try {
      target = await this.#options.locator.locate(signal);
    } catch (error) {
      return this.#decline(`cannot locate the upstream: ${error}`);
    }
    if (target === null) return this.#decline("no upstream knows the stream");
    try {
      await this.#connect(target, signal);
    } catch (error) {
      if (!(error instanceof SessionRefused)) throw error;
      this.#options.metrics?.relayErrors.inc({ reason: refusalLabel(error) });
      const refused = refusalCode(error);
      this.#log.info(
        `upstream ${showUrl(target.url)} refused the pull: ${quote(refused)} ${
          quote(error.message, 200)
        }`,
      );
      if (refused === ErrorCode.STREAM_NOT_FOUND) {
        return this.#decline(`the upstream does not have the stream`);
      }
      const code = refused === ErrorCode.LOOP_DETECTED
        ? ErrorCode.LOOP_DETECTED
        : ErrorCode.UPSTREAM_ERROR;
      const text = code === ErrorCode.LOOP_DETECTED
        ? `relay loop through the upstream node: ${quote(error.message, 200)}`
        : `the upstream node failed: ${describe(error)}`;
      this.#finish({ kind: "failed", code, message: text });
      return { kind: "failed", error: new ProtocolError(code, text) };
    }
    const cap = setTimeout(() => this.#primed?.(), this.#options.timing.upstreamTimeoutMs);
    await new Promise<void>((resolve) => {
      this.#primed = resolve;
      this.#bumpQuiet();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#primed = null;
    clearTimeout(this.#quiet);
    clearTimeout(cap);
    if (this.#closed) {
      const end = this.#stream.ended;
      const message = end?.kind === "failed" ? end.message : "the upstream stream ended";
      return { kind: "declined", reason: message };
    }
    this.#stream.addEventListener("subscribers", () => this.#checkInactivity());
    this.#checkInactivity();
    return { kind: "stream", stream: this.#stream };
  }

  #decline(reason: string): RelayStart {
    this.#finish({ kind: "failed", code: ErrorCode.STREAM_NOT_FOUND, message: reason });
    return { kind: "declined", reason };
  }

  /** Opens one pull (resuming after the last complete fragment when there is one). */
  async #connect(target: UpstreamTarget, signal: AbortSignal): Promise<void> {
    const { timing, via, streamId } = this.#options;
    const resume = this.#resumePoint;
    const resuming = resume.started;
    const previousUrl = this.#url;
    this.#url = target.url;
    const problem = upstreamUrlProblem(target.url);
    if (problem !== null) throw new SessionRefused("url", `bad upstream URL: ${problem}`);
    const session = await ProtocolSession.open({
      url: target.url,
      hello: {
        type: "PULL",
        stream: streamId,
        auth: await this.#options.signPull(streamId),
        onlySource: target.onlySource || undefined,
        parts: true,
        via: [...via],
        after: resume.lastSeq,
        maxInitialFragments: resume.known ? undefined : 0,
        caps: [...CLIENT_CAPABILITIES],
      },
      openMs: timing.upstreamTimeoutMs,
      heartbeatMs: timing.heartbeatMs,
      idleMs: timing.idleMs,
      signal,
    }, {
      onMedia: (header, data) =>
        header.type === "F" ? this.#onFragment(header, data) : this.#onPart(header, data),
      onEnd: (end) => this.#onEnd(session, end),
    });
    if (this.#closed) {
      session.close();
      return;
    }
    this.#connection = session;
    this.#counted.add(session);
    this.#options.metrics?.relayUpstreams.inc();
    if (resuming && this.#url !== previousUrl) this.#newTimeline = true;
    if (!resume.known || this.#newTimeline) this.#stream.markDiscontinuity();
    this.#newTimeline = false;
    this.#log.info(
      `${resuming ? "resumed" : "pulling"} from ${showUrl(target.url)}${
        resuming && resume.lastSeq !== undefined ? ` after ${resume.lastSeq}` : ""
      }${session.accepted.parts ? " (parts)" : ""}`,
    );
  }

  /**
   * Hands media to the stream, which holds every source to the same limits; media past them ends
   * the relay for its spectators (`BUFFER_MEMORY_LIMIT`, or `UPSTREAM_ERROR` for an oversize
   * fragment). Returns whether the stream took it.
   */
  #feed(push: () => void): boolean {
    try {
      push();
      return true;
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : undefined;
      if (code !== ErrorCode.MESSAGE_TOO_LARGE && code !== ErrorCode.BUFFER_MEMORY_LIMIT) {
        throw error;
      }
      const message = `the upstream's media was refused: ${(error as Error).message}`;
      this.#log.warning(message);
      this.#options.metrics?.relayErrors.inc({ reason: code });
      this.#finish({
        kind: "failed",
        code: code === ErrorCode.BUFFER_MEMORY_LIMIT ? code : ErrorCode.UPSTREAM_ERROR,
        message,
      });
      return false;
    }
  }

  #onFragment(message: FragmentMessage, data: Uint8Array): void {
    if (this.#closed) return;
    this.#stream.abortFragmentInProgress();
    if (!this.#feed(() => this.#stream.pushFragment({ ...message, jump: undefined }, data))) return;
    this.#resumePoint.note(message);
    this.#bumpQuiet();
  }

  #onPart(message: PartMessage, data: Uint8Array): void {
    if (this.#closed) return;
    if (message.part === 0) this.#stream.abortFragmentInProgress();
    if (!this.#feed(() => this.#stream.pushPart({ ...message, jump: undefined }, data))) return;
    this.#resumePoint.note(message);
    this.#primed?.();
  }

  /** Waits for a quiet moment before declaring the initial burst received. */
  #bumpQuiet(): void {
    if (this.#primed === null) return;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#primed?.(), PRIME_QUIET_MS);
  }

  #onEnd(connection: ProtocolSession, end: SessionEnd): void {
    const metrics = this.#options.metrics;
    if (this.#counted.delete(connection)) metrics?.relayUpstreams.dec();
    if (!this.#closed && end.kind !== "closed") {
      metrics?.relayErrors.inc({ reason: end.kind === "error" ? codeLabel(end.code) : "lost" });
    }
    if (this.#connection === connection) {
      this.#connection = null;
      this.#bytesIn += connection.bytesReceived;
    }
    if (this.#closed) return;
    if (end.kind === "closed") {
      this.#log.info(`upstream ${showUrl(connection.url)} ended the stream`);
      this.#finish({ kind: "closed" });
      return;
    }
    if (end.kind === "error" && !isRecoverable(end.code)) {
      const code = end.code === ErrorCode.LOOP_DETECTED || end.code === ErrorCode.PUBLISHER_LOST
        ? end.code
        : ErrorCode.UPSTREAM_ERROR;
      this.#log.info(
        `upstream ${showUrl(connection.url)} sent E ${quote(end.code)}: ${quote(end.message, 200)}`,
      );
      this.#finish({ kind: "failed", code, message: passOn(end.message) });
      return;
    }
    if (end.kind === "error" && end.code === ErrorCode.STREAM_MOVED) this.#newTimeline = true;
    const why = end.kind === "error"
      ? `E ${quote(end.code)}: ${quote(end.message, 200)}`
      : end.reason;
    this.#log.warning(`upstream ${showUrl(connection.url)} dropped (${why}); resuming`);
    this.#resume().catch((error) => this.#unexpected(error));
  }

  async #resume(): Promise<void> {
    this.#stream.abortFragmentInProgress();
    const signal = this.#abort.signal;
    const { resumeTimeoutMs, upstreamTimeoutMs } = this.#options.timing;
    const retry = this.#retry;
    retry.lost();
    let last = "no attempt";
    let gone = false;
    for (let delay = retry.nextDelay(); delay !== null; delay = retry.nextDelay()) {
      await pause(delay, signal);
      if (this.#closed) return;
      let target: UpstreamTarget | null;
      try {
        target = await this.#options.locator.locate(signal);
      } catch (error) {
        last = `cannot locate the upstream: ${error}`;
        continue;
      }
      if (target === null) {
        last = "no upstream knows the stream";
        gone = true;
        continue;
      }
      const timeout = AbortSignal.timeout(
        Math.max(100, Math.min(upstreamTimeoutMs, retry.remainingMs())),
      );
      try {
        await this.#connect(target, AbortSignal.any([signal, timeout]));
        retry.progress();
        this.#resumes++;
        this.#options.metrics?.relayReconnects.inc();
        return;
      } catch (error) {
        if (!(error instanceof SessionRefused)) throw error;
        if (this.#closed) return;
        this.#options.metrics?.relayErrors.inc({ reason: refusalLabel(error) });
        last = `${showUrl(target.url)}: ${describe(error)}`;
        const code = refusalCode(error);
        gone = code === ErrorCode.STREAM_NOT_FOUND;
        if (code === ErrorCode.LOOP_DETECTED || code === ErrorCode.AUTH_FAILED) {
          this.#log.warning(`cannot resume: ${last}`);
          this.#finish({
            kind: "failed",
            code: code === ErrorCode.LOOP_DETECTED ? code : ErrorCode.UPSTREAM_ERROR,
            message: `the upstream node refused: ${describe(error)}`,
          });
          return;
        }
      }
    }
    if (this.#closed) return;
    const seconds = Math.round(resumeTimeoutMs / 100) / 10;
    this.#log.warning(`could not resume within ${seconds} s (${last})`);
    this.#finish({
      kind: "failed",
      code: gone ? ErrorCode.PUBLISHER_LOST : ErrorCode.UPSTREAM_ERROR,
      message: `the upstream went away and the stream could not be resumed within ${seconds} s`,
    });
  }

  #checkInactivity(): void {
    clearTimeout(this.#inactivity);
    if (this.#closed || this.#stream.subscriberCount > 0) return;
    this.#inactivity = setTimeout(() => {
      if (this.#stream.subscriberCount > 0) return;
      this.#log.info("no spectators: closing the upstream");
      this.#finish({ kind: "closed" });
    }, this.#options.timing.inactivityMs);
  }

  /** Ends the relay: closes the upstream and ends the stream for its spectators. */
  close(end: StreamEnd): void {
    this.#finish(end);
  }

  #finish(end: StreamEnd): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#inactivity);
    clearTimeout(this.#quiet);
    this.#abort.abort();
    this.#primed?.();
    this.#connection?.close();
    this.#stream.end(end);
    this.dispatchEvent(new Event("ended"));
  }
}
