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
import { ErrorCode, isRecoverable, ProtocolError } from "../../../shared/errors.ts";
import type { FragmentMessage, PartMessage } from "../../../shared/protocol.ts";
import { quote } from "../../../shared/quote.ts";
import { type DetailEvents, TypedEventTarget } from "../../../shared/typed_event_target.ts";
import type { Logger } from "../../log.ts";
import type { Stream } from "../../stream.ts";
import type { StreamEnd } from "../../stream_end.ts";
import type { UpstreamLocator, UpstreamTarget } from "./locator.ts";
import {
  ProtocolSession,
  type SessionEnd,
  SessionRefused,
} from "../../../shared/session/protocol_session.ts";
import { pause, Reconnection } from "../../../shared/session/reconnection.ts";
import { ResumePoint } from "../../../shared/session/resume_point.ts";
import { InitialBurst } from "./initial_burst.ts";
import type { RelayStart, RelayStats, UpstreamRelayOptions } from "./relay_options.ts";
import {
  codeLabel,
  describeRefusal,
  passOn,
  refusalCode,
  refusalLabel,
} from "./upstream_refusal.ts";
import { showUrl, upstreamUrlProblem } from "./upstream_url.ts";

/** Pauses between resume attempts: 100 ms doubling to 2 s, less up to 30 % at random. */
const RESUME_BACKOFF = { initialMs: 100, maxMs: 2000, jitter: 0.3 };

/** The events of a relay. */
export type UpstreamRelayEvents = DetailEvents<{
  /** The relay ended (once), and its stream with it. */
  ended: StreamEnd;
}>;

/** One relayed stream (see {@linkcode UpstreamRelayEvents}). */
export class UpstreamRelay extends TypedEventTarget<UpstreamRelayEvents> {
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
  #burst = new InitialBurst();
  /** Upstream connections counted in `relay_upstream_connections` and not yet ended. */
  #counted = new WeakSet<ProtocolSession>();

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
        : `the upstream node failed: ${describeRefusal(error)}`;
      this.#finish({ kind: "failed", code, message: text });
      return { kind: "failed", error: new ProtocolError(code, text) };
    }
    await this.#burst.wait(this.#options.timing.upstreamTimeoutMs, signal);
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
      WebSocket: this.#options.WebSocket,
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
    this.#burst.fragment();
  }

  #onPart(message: PartMessage, data: Uint8Array): void {
    if (this.#closed) return;
    if (message.part === 0) this.#stream.abortFragmentInProgress();
    if (!this.#feed(() => this.#stream.pushPart({ ...message, jump: undefined }, data))) return;
    this.#resumePoint.note(message);
    this.#burst.part();
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
        last = `${showUrl(target.url)}: ${describeRefusal(error)}`;
        const code = refusalCode(error);
        gone = code === ErrorCode.STREAM_NOT_FOUND;
        if (code === ErrorCode.LOOP_DETECTED || code === ErrorCode.AUTH_FAILED) {
          this.#log.warning(`cannot resume: ${last}`);
          this.#finish({
            kind: "failed",
            code: code === ErrorCode.LOOP_DETECTED ? code : ErrorCode.UPSTREAM_ERROR,
            message: `the upstream node refused: ${describeRefusal(error)}`,
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
    this.#abort.abort();
    this.#burst.stop();
    this.#connection?.close();
    this.#stream.end(end);
    this.emit("ended", end);
  }
}
