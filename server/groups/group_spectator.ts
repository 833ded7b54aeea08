/**
 * A spectator of a rendition group: one {@linkcode Spectator} (the socket's queue and the
 * slow-spectator policy, unchanged) fed from whichever rendition's {@linkcode Stream} this viewer
 * is on. A {@linkcode Tap} on that stream forwards its media; when the {@linkcode SwitchPolicy}
 * names another rendition, a second tap joins that stream (so an edge relays only the renditions
 * its viewers need) and holds the start of its next fragment. The switch happens at a fragment
 * boundary: once the current rendition's fragment is complete, the held start of the next
 * fragment (same sequence numbers: the publisher cuts renditions at the same keyframes) goes out
 * instead of the current rendition's, stamped `rendition=` (`watched_socket.ts`), and the old tap
 * leaves. A fragment is never cut and no fragment is skipped, so a switch is no `jump`. When the
 * viewer moves down in the middle of a fragment (parts), the tail of that fragment (at most its
 * last 400 ms, `maxShedMs`) goes out without its video (`video_shedding.ts`): the decoder holds
 * its last picture until the lower rendition's keyframe, audio plays on, and the slow link drains
 * before the switch.
 *
 * @example
 * ```ts ignore
 * const group = new GroupSpectator(socket, { renditions, open, parts: true, policy, metrics, log, finish });
 * group.begin(0, topStream, { maxInitialFragments: 0 });
 * group.report(receiveReport); // from the client's R messages
 * ```
 * @module
 */

import type { RenditionId } from "../../shared/rendition.ts";
import { type Fragment, Part } from "../fragment.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type SlowSpectatorPolicy, Spectator } from "../spectator.ts";
import type { Stream } from "../stream.ts";
import type { StreamEnd } from "../stream_end.ts";
import type { AttachOptions, StreamSubscriber } from "../stream_subscriber.ts";
import type { ServerSocket } from "../transport/transport.ts";
import type { ReceiveReportMessage } from "../../shared/protocol.ts";
import { detectCodecs } from "../../shared/mpegts/codecs.ts";
import { abrMetrics } from "./abr_metrics.ts";
import { LinkEstimate } from "./link_estimate.ts";
import { nominalBitrate } from "./rendition_group.ts";
import { videoPid, withoutPid } from "./video_shedding.ts";
import { SwitchPolicy, type SwitchPolicyOptions, type SwitchReason } from "./switch_policy.ts";
import { WatchedSocket } from "./watched_socket.ts";

/** How a group spectator is set up. */
export interface GroupSpectatorOptions {
  /** The group's renditions, best first. */
  renditions: readonly RenditionId[];
  /** Finds a rendition's stream on this node (local, or relayed: the node's source chain). */
  open(streamId: string, signal: AbortSignal): Promise<Stream>;
  /** The spectator asked for parts. */
  parts: boolean;
  /** The spectator was granted `clock`: its `F` and `P` carry the origin's `at`. @default false */
  clock?: boolean;
  /** The slow-spectator policy (the last resort, below the lowest rendition). */
  policy: SlowSpectatorPolicy;
  /** Counters. */
  metrics: Metrics;
  /** The connection's log. */
  log: Logger;
  /** The stream ended for this spectator. */
  finish(end: StreamEnd): void;
  /** Switch thresholds. */
  switching?: SwitchPolicyOptions;
  /** Shed a fragment's video tail after a decision to move down (parts only). @default true */
  shedding?: boolean;
  /**
   * Shed at most the last this many ms of a fragment's video (the picture holds that long), when
   * parts carry their wall-clock `time` and the fragment's length is known from the one before.
   * @default 400
   */
  maxShedMs?: number;
}

/** What the group spectator shows in `/stats` and tests. */
export interface GroupSpectatorState {
  /** Rendition sent now. */
  rendition: string;
  /** Rendition being joined, if a switch waits for its keyframe. */
  target: string | null;
  /** Why the last switch happened. */
  reason: SwitchReason | "start";
  /** Pinned rendition, if any. */
  pinned: string | null;
  /** Lag and capacity as last estimated. */
  lagMs: number;
  /** Capacity estimate in bit/s. */
  capacityBps: number | undefined;
}

/** Longest wait, in ms, for the target's start of a fragment the current rendition has begun. */
const DEFER_MS = 1000;

/** Reports decide a switch at most this often, ms (media and the once-a-second check always do). */
const REPORT_EVALUATION_MS = 50;

/** How long a rendition that was too late to join is not tried again, ms. */
const LATE_TARGET_PAUSE_MS = 5000;

/** Media held from the target rendition: the start of its next fragment and what followed. */
interface Held {
  seq: number;
  units: (Part | Fragment)[];
}

/** One rendition stream's subscriber, feeding its owner. */
class Tap implements StreamSubscriber {
  readonly wantsParts: boolean;
  readonly index: number;
  readonly stream: Stream;
  #owner: GroupSpectator;

  constructor(owner: GroupSpectator, index: number, stream: Stream, parts: boolean) {
    this.#owner = owner;
    this.index = index;
    this.stream = stream;
    this.wantsParts = parts;
  }

  sendInitial(fragments: readonly Fragment[], parts: readonly Part[], jumpFirst: boolean): void {
    this.#owner.initial(this, fragments, parts, jumpFirst);
  }
  offerFragment(fragment: Fragment): void {
    this.#owner.fragment(this, fragment);
  }
  offerPart(part: Part): void {
    this.#owner.part(this, part);
  }
  abortFragment(seq: number): void {
    this.#owner.abort(this, seq);
  }
  end(end: StreamEnd): void {
    this.#owner.ended(this, end);
  }
}

/** The per-viewer rendition chooser and forwarder of a group pull. */
export class GroupSpectator {
  #options: GroupSpectatorOptions;
  #socket: WatchedSocket;
  #inner: Spectator;
  #link = new LinkEstimate();
  #policy: SwitchPolicy;
  #current: Tap | null = null;
  #target: Tap | null = null;
  #targetIndex: number | null = null;
  #opening: AbortController | null = null;
  #held: Held | null = null;
  /** The current rendition's start of a fragment, kept back while the target's is awaited. */
  #deferred: (Held & { since: number }) | null = null;
  /** Times the target was too late for a deferred fragment. */
  #lateTargets = 0;
  /** Renditions that were too late to join, and until when they are not tried again. */
  #lateUntil = new Map<number, number>();
  /** The codecs of each rendition, read once from a fragment start ("" when not found). */
  #codecs = new Map<number, string>();
  /** The video PID of each rendition, read once from a fragment start (undefined when not found). */
  #videoPids = new Map<number, number | undefined>();
  /** Seq of the fragment whose video is shed (a move down waits for the next keyframe), or null. */
  #shedding: number | null = null;
  /** Wall-clock time of the current fragment's first part, when the publisher gave it. */
  #fragmentTime: number | undefined;
  /** Duration of the last complete fragment, seconds. */
  #lastDuration: number | undefined;
  /** Seq of the last fragment whose start was forwarded. */
  #lastStart = -1;
  /** The current rendition's fragment `#lastStart` is still in progress (parts). */
  #open = false;
  #pinned: number | undefined;
  #reason: SwitchReason | "start" = "start";
  #pendingReason: SwitchReason = "down";
  #done = false;
  #lastLag = 0;
  #lastCapacity: number | undefined;
  #reportEvaluatedAt = -Infinity;

  /** Creates the spectator; nothing is sent until `begin`. */
  constructor(socket: ServerSocket, options: GroupSpectatorOptions) {
    this.#options = options;
    this.#socket = new WatchedSocket(socket, this.#link);
    this.#policy = new SwitchPolicy(options.switching);
    this.#inner = new Spectator(this.#socket, {
      parts: options.parts,
      clock: options.clock,
      policy: options.policy,
      metrics: options.metrics,
      finish: (end) => {
        this.#done = true;
        this.#leave();
        options.finish(end);
      },
    });
  }

  /** Bytes sent to the client so far. */
  get sentBytes(): number {
    return this.#inner.sentBytes;
  }

  /** Where this viewer stands. */
  get state(): GroupSpectatorState {
    const renditions = this.#options.renditions;
    return {
      rendition: renditions[this.#current?.index ?? 0].streamId,
      target: this.#targetIndex === null ? null : renditions[this.#targetIndex].streamId,
      reason: this.#reason,
      pinned: this.#pinned === undefined ? null : renditions[this.#pinned].streamId,
      lagMs: this.#lastLag,
      capacityBps: this.#lastCapacity,
    };
  }

  /** Starts on rendition `index`, whose stream is `stream`: its buffered media, then live media. */
  begin(index: number, stream: Stream, options: AttachOptions): void {
    const tap = new Tap(this, index, stream, this.#options.parts);
    this.#current = tap;
    this.#count(index, +1);
    this.#policy.started(performance.now());
    this.#socket.announce(null, { rendition: this.#id(index), reason: "start" });
    stream.attach(tap, options);
  }

  /** A receive report from the client. */
  report(report: ReceiveReportMessage): void {
    const now = performance.now();
    this.#link.report(report, now);
    if (now - this.#reportEvaluatedAt >= REPORT_EVALUATION_MS) {
      this.#reportEvaluatedAt = now;
      this.#evaluate();
    }
  }

  /** Pins a rendition (by id; false when the group has none of that id), or undefined for automatic. */
  pin(streamId: string | undefined): boolean {
    if (streamId === undefined) {
      this.#pinned = undefined;
      return true;
    }
    const index = this.#options.renditions.findIndex((r) => r.streamId === streamId);
    if (index === -1) return false;
    this.#pinned = index;
    this.#evaluate();
    return true;
  }

  /** Once a second: the slow-spectator check, and a decision even when no media comes. */
  check(now: number): void {
    if (this.#deferred !== null && now - this.#deferred.since > DEFER_MS) this.#gaveUp();
    this.#inner.check(now);
    this.#evaluate();
  }

  /** The connection closed: leave every stream. */
  close(): void {
    this.#done = true;
    this.#leave();
  }

  // --- what the taps report ---

  /** A tap joined its stream. The current one sends its buffered media; a target may hold it. */
  initial(tap: Tap, fragments: readonly Fragment[], parts: readonly Part[], jump: boolean): void {
    if (tap === this.#current) {
      this.#inner.sendInitial(fragments, parts, jump);
      const last = parts.at(-1);
      if (last !== undefined && this.#options.parts) {
        this.#lastStart = last.info.seq;
        this.#open = !last.info.last;
      } else if (fragments.length > 0) {
        this.#lastStart = fragments[fragments.length - 1].seq;
        this.#open = false;
      }
      return;
    }
    if (tap !== this.#target) return;
    if (parts.length > 0 && parts[0].info.index === 0 && parts[0].info.seq > this.#lastStart) {
      this.#held = { seq: parts[0].info.seq, units: [...parts] };
      if (!this.#open) this.#switch();
    }
  }

  /** A whole fragment from a tap. */
  fragment(tap: Tap, fragment: Fragment): void {
    if (this.#done || (this.#options.parts && fragment.info.assembled)) return;
    const seq = fragment.seq;
    if (tap === this.#current) {
      if (this.#held?.seq === seq) return this.#switch();
      if (this.#deferred !== null) this.#gaveUp();
      if (this.#target !== null && (this.#held === null || this.#held.seq < seq)) {
        this.#deferred = { seq, units: [fragment], since: performance.now() };
        return;
      }
      this.#forward(fragment);
      this.#evaluate();
      return;
    }
    if (tap !== this.#target || seq <= this.#lastStart) return;
    this.#held = { seq, units: [fragment] };
    if (this.#deferred?.seq === seq) this.#deferred = null;
    if (this.#deferred === null && !this.#open) this.#switch();
  }

  /** A part from a tap. */
  part(tap: Tap, part: Part): void {
    if (this.#done) return;
    const { seq, index } = part.info;
    if (tap === this.#current) {
      const deferred = this.#deferred;
      if (deferred !== null && deferred.seq === seq) {
        deferred.units.push(part);
        return;
      }
      if (index === 0) {
        if (this.#held?.seq === seq) return this.#switch();
        if (deferred !== null) this.#gaveUp(); // the target did not start that fragment in time
        if (this.#held !== null && this.#held.seq < seq) this.#held = null;
        if (this.#target !== null && this.#held === null) {
          // Renditions do not arrive at the same instant: wait for the target's start of `seq`.
          this.#deferred = { seq, units: [part], since: performance.now() };
          return;
        }
      }
      this.#forward(part);
      if (!this.#open && this.#held !== null && this.#held.seq > this.#lastStart) {
        return this.#switch();
      }
      this.#evaluate();
      return;
    }
    if (tap !== this.#target) return;
    if (index === 0) {
      this.#held = seq > this.#lastStart ? { seq, units: [part] } : null;
      if (this.#held !== null && this.#deferred?.seq === seq) this.#deferred = null;
      if (this.#held !== null && this.#deferred === null && !this.#open) this.#switch();
    } else if (this.#held?.seq === seq) {
      this.#held.units.push(part);
    }
  }

  /** The codecs of rendition `index`, read from `start` (a fragment start) the first time. */
  #codecsOf(index: number, start: Uint8Array): string {
    let codecs = this.#codecs.get(index);
    if (codecs === undefined) {
      codecs = detectCodecs(start)?.codecs ?? "";
      this.#codecs.set(index, codecs);
    }
    return codecs;
  }

  /** Sends a unit of the current rendition. */
  #forward(unit: Part | Fragment): void {
    const current = this.#current;
    if (current !== null && (!(unit instanceof Part) || unit.info.index === 0)) {
      if (!this.#codecs.has(current.index)) this.#codecsOf(current.index, unit.data);
      if (!this.#videoPids.has(current.index)) {
        this.#videoPids.set(current.index, videoPid(unit.data));
      }
    }
    if (unit instanceof Part) {
      if (unit.info.index === 0) this.#fragmentTime = unit.info.time;
      if (this.#shedding !== null && this.#shedding !== unit.info.seq) this.#shedding = null;
      if (
        this.#shedding !== null && unit.info.index > 0 && current !== null && this.#shedNow(unit)
      ) {
        const shed = this.#shed(unit, this.#videoPids.get(current.index));
        if (shed === null) return;
        unit = shed;
      }
      this.#inner.offerPart(unit);
      if (unit.info.last && unit.info.duration !== undefined) {
        this.#lastDuration = unit.info.duration;
      }
      if (unit.info.index === 0) this.#lastStart = unit.info.seq;
      if (unit.info.seq === this.#lastStart) this.#open = !unit.info.last;
    } else {
      this.#inner.offerFragment(unit);
      this.#lastStart = Math.max(this.#lastStart, unit.info.seq);
      this.#open = false;
    }
  }

  /**
   * Whether `part` falls in the shed tail of its fragment: the last `maxShedMs` of it, by the
   * parts' wall-clock times and the previous fragment's length (when either is unknown, all of the
   * rest). Once a part is shed, every later one of the fragment is too (times only grow).
   */
  #shedNow(part: Part): boolean {
    const start = this.#fragmentTime;
    const duration = this.#lastDuration;
    const time = part.info.time;
    if (start === undefined || duration === undefined || time === undefined) return true;
    return time >= start + duration * 1000 - (this.#options.maxShedMs ?? 400);
  }

  /**
   * `part` without its video (PID `pid`), counted in the metrics; null when nothing is left of a
   * part that does not close its fragment (the last part goes out even empty: it carries the
   * fragment's duration).
   */
  #shed(part: Part, pid: number | undefined): Part | null {
    if (pid === undefined) return part;
    const data = withoutPid(part.data, pid);
    if (data === part.data) return part;
    abrMetrics(this.#options.metrics).shedBytes.inc(part.data.byteLength - data.byteLength);
    if (data.byteLength === 0 && !part.info.last) return null;
    return new Part(part.info, data, part.receivedAt);
  }

  /** The target did not start the deferred fragment in time: send it, and drop a target late twice. */
  #gaveUp(): void {
    this.#flushDeferred();
    if (++this.#lateTargets >= 2 && this.#targetIndex !== null) {
      this.#lateTargets = 0;
      this.#lateUntil.set(this.#targetIndex, performance.now() + LATE_TARGET_PAUSE_MS);
      this.#dropTarget();
    }
  }

  /** The current rendition's fragment waited for a switch that did not come: send it after all. */
  #flushDeferred(): void {
    const deferred = this.#deferred;
    if (deferred === null) return;
    this.#deferred = null;
    for (const unit of deferred.units) this.#forward(unit);
  }

  /** A tap's stream abandoned a fragment in progress. */
  abort(tap: Tap, seq: number): void {
    if (tap === this.#current) {
      if (this.#deferred?.seq === seq) this.#deferred = null;
      this.#inner.abortFragment(seq);
      if (seq === this.#lastStart) this.#open = false;
    } else if (tap === this.#target && this.#held?.seq === seq) {
      this.#held = null;
    }
  }

  /** A tap's stream ended: the viewer's stream ends with the current one; a target is dropped. */
  ended(tap: Tap, end: StreamEnd): void {
    if (tap === this.#current) {
      this.#current = null;
      this.#count(tap.index, -1);
      this.#dropTarget();
      this.#inner.end(end);
    } else if (tap === this.#target) {
      this.#target = null;
      this.#targetIndex = null;
      this.#held = null;
      this.#flushDeferred();
    }
  }

  // --- choosing ---

  #evaluate(): void {
    if (this.#done || this.#current === null) return;
    const now = performance.now();
    const lag = this.#link.lagMs(now, this.#inner.backlog(now).ageMs);
    const capacity = this.#link.capacityBps(now);
    this.#lastLag = lag;
    this.#lastCapacity = capacity;
    const current = this.#targetIndex ?? this.#current.index;
    const decision = this.#policy.decide(now, {
      lagMs: lag,
      capacityBps: capacity,
      bitrates: this.#bitrates(),
      current,
      pinned: this.#pinned,
    });
    if (decision === null) return;
    if (decision.target === this.#current.index) {
      this.#dropTarget();
      return;
    }
    if ((this.#lateUntil.get(decision.target) ?? 0) > now) return;
    this.#pendingReason = decision.reason;
    this.#join(decision.target);
    const shedding = this.#options.shedding ?? true;
    if (shedding && decision.reason === "down" && this.#options.parts && this.#open) {
      this.#shedding = this.#lastStart;
    }
  }

  /** Bit/s of each rendition: measured from its buffered fragments where this node has them. */
  #bitrates(): number[] {
    return this.#options.renditions.map((rendition, index) => {
      const stream = index === this.#current?.index
        ? this.#current.stream
        : index === this.#targetIndex
        ? this.#target?.stream
        : undefined;
      return (stream && measuredBitrate(stream)) ?? nominalBitrate(rendition);
    });
  }

  /** Starts joining rendition `index` (the switch follows at its next fragment start). */
  #join(index: number): void {
    if (this.#targetIndex === index) return;
    this.#dropTarget();
    this.#targetIndex = index;
    const abort = new AbortController();
    this.#opening = abort;
    const id = this.#id(index);
    this.#options.open(id, abort.signal).then(
      (stream) => {
        if (abort.signal.aborted || this.#done || this.#targetIndex !== index) return;
        this.#opening = null;
        const tap = new Tap(this, index, stream, this.#options.parts);
        this.#target = tap;
        stream.attach(tap, { maxInitialFragments: 0 });
      },
      (error) => {
        if (abort.signal.aborted || this.#targetIndex !== index) return;
        this.#options.log.info(`rendition ${id} cannot be joined: ${error?.message ?? error}`);
        this.#opening = null;
        this.#targetIndex = null;
      },
    );
  }

  /** Moves to the target: its held fragment start goes out now, then its live media. */
  #switch(): void {
    const target = this.#target;
    const held = this.#held;
    const old = this.#current;
    if (target === null || held === null || old === null) return;
    if (this.#deferred !== null && this.#deferred.seq !== held.seq) this.#flushDeferred();
    this.#deferred = null;
    this.#held = null;
    this.#target = null;
    this.#targetIndex = null;
    this.#lateTargets = 0;
    this.#current = target;
    old.stream.detach(old);
    this.#count(old.index, -1);
    this.#count(target.index, +1);
    const reason = this.#pendingReason;
    this.#reason = reason;
    abrMetrics(this.#options.metrics).switches.inc({ direction: reason });
    this.#options.log.debug(
      `rendition ${this.#id(old.index)} -> ${this.#id(target.index)} (${reason}) at ${held.seq}`,
    );
    const before = this.#codecs.get(old.index);
    const codecs = this.#codecsOf(target.index, held.units[0].data);
    this.#socket.announce(held.units[0].data, {
      rendition: this.#id(target.index),
      reason,
      codecs: codecs !== "" && before !== undefined && codecs !== before ? codecs : undefined,
    });
    for (const unit of held.units) this.#forward(unit);
  }

  #dropTarget(): void {
    this.#opening?.abort();
    this.#opening = null;
    if (this.#target !== null) this.#target.stream.detach(this.#target);
    this.#target = null;
    this.#targetIndex = null;
    this.#held = null;
    this.#flushDeferred();
  }

  #leave(): void {
    this.#dropTarget();
    const current = this.#current;
    if (current !== null) {
      this.#current = null;
      current.stream.detach(current);
      this.#count(current.index, -1);
    }
  }

  #count(index: number, delta: number): void {
    abrMetrics(this.#options.metrics).viewers.inc({ rendition: this.#id(index) }, delta);
  }

  #id(index: number): string {
    return this.#options.renditions[index].streamId;
  }
}

/** A stream's bit/s on the wire from its buffered fragments (at least 2 s of them), or undefined. */
export function measuredBitrate(stream: Stream): number | undefined {
  let bytes = 0;
  let seconds = 0;
  for (const fragment of stream.buffered) {
    bytes += fragment.data.byteLength;
    seconds += fragment.info.duration;
  }
  return seconds >= 2 ? (bytes * 8) / seconds : undefined;
}
