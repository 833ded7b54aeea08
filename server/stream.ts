/**
 * A stream on this node: the ring of recent fragments, the fragment being made from parts,
 * sequence numbers, and the set of subscribers (spectators, see `stream_subscriber.ts`). A local publisher and a relay from another node
 * feed it the same way, so spectators cannot tell them apart, and it is the one place that holds
 * every source to the same limits: a fragment (whole, or the sum of its parts) no larger than
 * `maxFragmentBytes`, a fragment in progress only while it fits the buffer memory limit, and
 * sequence numbers no larger than the protocol carries (past `MAX_SEQ` the numbering starts over
 * at 0, marked as a discontinuity, as after an encoder restart).
 *
 * @example
 * ```ts ignore
 * const stream = new Stream({ id: "room/a", maxFragments: 10, memory, metrics, log });
 * stream.attach(spectator, { maxInitialFragments: 2 });
 * stream.pushFragment({ type: "F", duration: 2 }, bytes); // the spectator gets it now
 * stream.end({ kind: "closed" });                          // and then CLOSE
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import { type FragmentMessage, MAX_SEQ, type PartMessage } from "../shared/protocol.ts";
import { type DetailEvents, TypedEventTarget } from "../shared/typed_event_target.ts";
import type { BufferMemory } from "./buffer_memory.ts";
import { concatParts, Fragment, Part } from "./fragment.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { StreamEnd } from "./stream_end.ts";
import type { AttachOptions, StreamSubscriber } from "./stream_subscriber.ts";

/** The events of a stream and their payloads. */
export type StreamEvents = DetailEvents<{
  /** The number of subscribers changed; the payload is the new count. */
  subscribers: number;
  /** The stream ended (once). */
  ended: StreamEnd;
}>;

/** How a stream is set up. */
export interface StreamOptions {
  /** Stream id. */
  id: string;
  /** Fragments kept for new spectators (`FRAGMENT_BUFFER_MAX_LENGTH`). */
  maxFragments: number;
  /** The node's buffer account. */
  memory: BufferMemory;
  /** Counters. */
  metrics: Metrics;
  /** Log with the stream's context. */
  log: Logger;
  /** The first sequence number to give when the publisher gives none. @default 0 */
  firstSeq?: number;
  /**
   * Largest fragment, in bytes, whole or made of parts (`MAX_BINARY_MESSAGE_SIZE`); a larger one is
   * refused with `MESSAGE_TOO_LARGE`, whichever source sends it. @default Infinity
   */
  maxFragmentBytes?: number;
}

/** The fragment being made from parts. */
interface FragmentInProgress {
  /** The publisher's sequence number for it (parts refer to it). */
  wireSeq: number;
  /** The sequence number given to it here. */
  seq: number;
  parts: Part[];
  bytes: number;
}

/** One stream on this node; see {@linkcode StreamEvents} for its events. */
export class Stream extends TypedEventTarget<StreamEvents> {
  /** Stream id. */
  readonly id: string;
  #options: StreamOptions;
  #ring: Fragment[] = [];
  #ringBytes = 0;
  #current: FragmentInProgress | null = null;
  #subscribers = new Set<StreamSubscriber>();
  #nextSeq: number;
  #discontinuityPending = false;
  #ended: StreamEnd | null = null;
  #warnedMemory = false;

  /** Creates an empty, live stream. */
  constructor(options: StreamOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#nextSeq = options.firstSeq ?? 0;
  }

  /** How the stream ended, or null while live. */
  get ended(): StreamEnd | null {
    return this.#ended;
  }

  /** Subscribers (spectators and other outputs) attached now. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Sequence number the next fragment gets unless its origin gives one. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Sequence number of the newest complete fragment, or -1. */
  get lastSeq(): number {
    return this.#ring.at(-1)?.seq ?? this.#nextSeq - 1;
  }

  /** Fragments in the ring, oldest first (a copy). */
  get buffered(): Fragment[] {
    return [...this.#ring];
  }

  /** The next fragment starts a new timeline (a new publisher took over). */
  markDiscontinuity(): void {
    this.#discontinuityPending = true;
  }

  /**
   * Picks the sequence number of a new fragment from the origin's, keeping them increasing; once
   * they are exhausted (past `MAX_SEQ`, which only a made-up number reaches) they start over at 0.
   */
  #takeSeq(wireSeq: number | undefined): { seq: number; restarted: boolean } {
    if (wireSeq !== undefined && wireSeq >= this.#nextSeq) {
      this.#nextSeq = wireSeq + 1;
      return { seq: wireSeq, restarted: false };
    }
    if (this.#nextSeq > MAX_SEQ) {
      this.#options.log.warning(`sequence numbers past ${MAX_SEQ}: numbering starts over at 0`);
      this.#nextSeq = 0;
      return { seq: this.#nextSeq++, restarted: true };
    }
    return { seq: this.#nextSeq++, restarted: wireSeq !== undefined };
  }

  /** Refuses media no source may send: too large a fragment, or one the buffers cannot hold. */
  #checkSize(total: number, added: number, what: string): void {
    const max = this.#options.maxFragmentBytes ?? Infinity;
    if (total > max) {
      throw new ProtocolError(ErrorCode.MESSAGE_TOO_LARGE, `${what} more than ${max} bytes`);
    }
    if (added > 0 && !this.makeRoom(added)) {
      throw new ProtocolError(
        ErrorCode.BUFFER_MEMORY_LIMIT,
        "the node's buffer memory is full: it cannot hold the fragment being sent; retry later",
      );
    }
  }

  #takeDiscontinuity(flag: boolean | undefined, restarted: boolean): boolean {
    const result = this.#discontinuityPending || flag === true || restarted;
    this.#discontinuityPending = false;
    return result;
  }

  /** A whole fragment (`F` + binary) from the publisher or upstream. */
  pushFragment(message: FragmentMessage, data: Uint8Array): Fragment {
    this.#assertLive();
    if (this.#current !== null) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `F while the parts of fragment ${this.#current.wireSeq} are incomplete`,
      );
    }
    this.#checkSize(data.byteLength, 0, "a fragment of");
    const { seq, restarted } = this.#takeSeq(message.seq);
    const fragment = new Fragment({
      seq,
      duration: message.duration,
      time: message.time,
      at: message.at,
      discontinuity: this.#takeDiscontinuity(message.discontinuity, restarted),
      assembled: false,
    }, data);
    this.#options.metrics.bytesIn.inc(data.byteLength);
    this.#complete(fragment);
    return fragment;
  }

  /** A part (`P` + binary) from the publisher or upstream; the last one completes the fragment. */
  pushPart(message: PartMessage, data: Uint8Array): void {
    this.#assertLive();
    const current = this.#current;
    if (message.part === 0 && current !== null) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `part 0 of ${message.seq} before fragment ${current.wireSeq} ended`,
      );
    }
    if (
      message.part !== 0 &&
      (current === null || message.seq !== current.wireSeq || message.part !== current.parts.length)
    ) {
      const expected = current
        ? `${current.wireSeq} part ${current.parts.length}`
        : "part 0 of a new fragment";
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `part ${message.part} of ${message.seq} out of order (expected ${expected})`,
      );
    }
    const before = message.part === 0 ? 0 : current!.bytes;
    this.#checkSize(
      before + data.byteLength,
      data.byteLength,
      `the parts of fragment ${message.seq} add up to`,
    );
    let info;
    if (message.part === 0) {
      const { seq, restarted } = this.#takeSeq(message.seq);
      const discontinuity = this.#takeDiscontinuity(message.discontinuity, restarted);
      this.#current = { wireSeq: message.seq, seq, parts: [], bytes: 0 };
      info = { seq, discontinuity };
    } else {
      info = { seq: current!.seq, discontinuity: false };
    }
    const progress = this.#current!;
    const part = new Part({
      seq: info.seq,
      index: message.part,
      independent: message.part === 0 || message.independent === true,
      last: message.last === true,
      duration: message.duration,
      time: message.time,
      at: message.at,
      discontinuity: info.discontinuity,
    }, data);
    progress.parts.push(part);
    progress.bytes += data.byteLength;
    this.#options.memory.reserve(data.byteLength);
    const metrics = this.#options.metrics;
    metrics.bytesIn.inc(data.byteLength);
    metrics.partsIn.inc();
    for (const subscriber of this.#subscribers) subscriber.offerPart(part);
    if (part.info.last) {
      this.#current = null;
      this.#options.memory.release(progress.bytes);
      const first = progress.parts[0].info;
      this.#complete(
        new Fragment({
          seq: progress.seq,
          duration: message.duration ?? 0,
          time: first.time,
          at: first.at,
          discontinuity: first.discontinuity,
          assembled: true,
        }, concatParts(progress.parts)),
      );
    }
  }

  /** Keeps a complete fragment in the ring and hands it to the subscribers. */
  #complete(fragment: Fragment): void {
    this.#options.metrics.fragmentsIn.inc();
    this.#keep(fragment);
    for (const subscriber of this.#subscribers) subscriber.offerFragment(fragment);
  }

  #keep(fragment: Fragment): void {
    const { maxFragments, memory, metrics, log } = this.#options;
    if (maxFragments === 0) return;
    while (this.#ring.length >= maxFragments) this.#evictOldest();
    const size = fragment.data.byteLength;
    while (!memory.tryReserve(size)) {
      if (this.#ring.length === 0) {
        metrics.bufferEvictions.inc();
        if (!this.#warnedMemory) {
          this.#warnedMemory = true;
          log.warning(
            `buffer memory limit reached: fragment ${fragment.seq} is relayed but not buffered`,
          );
        }
        return;
      }
      this.#evictOldest();
      metrics.bufferEvictions.inc();
    }
    this.#ring.push(fragment);
    this.#ringBytes += size;
  }

  /**
   * Whether `bytes` more fit in the buffer memory limit, evicting this stream's own oldest
   * buffered fragments to make room (never another stream's). Always true without a limit.
   */
  makeRoom(bytes: number): boolean {
    const memory = this.#options.memory;
    while (memory.used + bytes > memory.limit) {
      if (this.#ring.length === 0) return false;
      this.#evictOldest();
      this.#options.metrics.bufferEvictions.inc();
    }
    return true;
  }

  #evictOldest(): void {
    const oldest = this.#ring.shift();
    if (oldest === undefined) return;
    this.#ringBytes -= oldest.data.byteLength;
    this.#options.memory.release(oldest.data.byteLength);
  }

  /** Picks the buffered fragments a new subscriber gets, and whether it missed some before them. */
  #initialFragments(options: AttachOptions): { fragments: Fragment[]; jump: boolean } {
    let fragments = this.#ring;
    let jump = false;
    const after = options.after;
    if (after !== undefined && after <= this.lastSeq) {
      // Resume: what came after the client's last fragment; a gap is a jump.
      fragments = fragments.filter((fragment) => fragment.seq > after);
      const firstAvailable = fragments[0]?.seq ?? this.#current?.seq ?? this.#nextSeq;
      jump = firstAvailable > after + 1;
    } else if (after !== undefined) {
      // The client is ahead of this stream: the stream was restarted with new numbers.
      jump = true;
    }
    const max = options.maxInitialFragments;
    if (max !== undefined && fragments.length > max) {
      jump ||= after !== undefined;
      fragments = fragments.slice(fragments.length - max);
    }
    return { fragments: [...fragments], jump };
  }

  /** The parts made so far of the fragment in progress that a new parts subscriber gets. */
  #initialParts(options: AttachOptions): Part[] {
    const current = this.#current;
    if (current === null) return [];
    if (options.after !== undefined && options.after >= current.seq) return [];
    if (options.maxInitialFragments !== 0) return [...current.parts];
    // Live edge only: start at the newest part a decoder can start from.
    let start = 0;
    for (let index = current.parts.length - 1; index > 0; index--) {
      if (current.parts[index].info.independent) {
        start = index;
        break;
      }
    }
    return current.parts.slice(start);
  }

  /** Adds a subscriber: it gets the buffered fragments it asked for, then live ones. */
  attach(subscriber: StreamSubscriber, options: AttachOptions = {}): void {
    if (this.#ended !== null) {
      subscriber.end(this.#ended);
      return;
    }
    const { fragments, jump } = this.#initialFragments(options);
    const parts = subscriber.wantsParts ? this.#initialParts(options) : [];
    subscriber.sendInitial(fragments, parts, jump);
    this.#subscribers.add(subscriber);
    this.emit("subscribers", this.#subscribers.size);
  }

  /** Removes a subscriber (a spectator's connection closed). */
  detach(subscriber: StreamSubscriber): void {
    if (this.#subscribers.delete(subscriber)) this.emit("subscribers", this.#subscribers.size);
  }

  /**
   * Drops the fragment in progress (its source went away mid-fragment). Parts subscribers that had
   * some of it wait for the next fragment start; a source that resumes sends the fragment again.
   */
  abortFragmentInProgress(): void {
    const current = this.#current;
    if (current === null) return;
    this.#current = null;
    this.#options.memory.release(current.bytes);
    this.#nextSeq = current.seq;
    for (const subscriber of this.#subscribers) subscriber.abortFragment(current.seq);
  }

  /** Ends the stream: subscribers get `CLOSE` or `E`, buffers are released. Idempotent. */
  end(end: StreamEnd): void {
    if (this.#ended !== null) return;
    this.#ended = end;
    const memory = this.#options.memory;
    if (this.#current !== null) {
      memory.release(this.#current.bytes);
      this.#current = null;
    }
    memory.release(this.#ringBytes);
    this.#ring = [];
    this.#ringBytes = 0;
    const subscribers = [...this.#subscribers];
    this.#subscribers.clear();
    for (const subscriber of subscribers) subscriber.end(end);
    this.emit("ended", end);
  }

  #assertLive(): void {
    if (this.#ended !== null) {
      throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "the stream has ended");
    }
  }
}
