/**
 * The events of the publisher client ({@linkcode ./publisher.ts}): state changes, errors, and
 * what was sent or dropped. One map, {@linkcode PublisherEventMap}, types every listener.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * publisher.addEventListener("state", (event) => console.log(event.previous, "->", event.state));
 * publisher.addEventListener("error", (event) => console.error(event.fatal, event.code, event.message));
 * ```
 * @module
 */

/**
 * Where a publisher is: `idle` (not started), `connecting` (first connection), `ready` (the node
 * said `OK`; fragments go out at once), `reconnecting` (the connection was lost or refused for a
 * while; fragments are held, newest only), `closed` (after `close()` or a fatal error; final).
 */
export type PublisherState = "idle" | "connecting" | "ready" | "reconnecting" | "closed";

/**
 * Codes of publisher errors: every code a node sends in `E`, plus the client's own:
 * `UNREACHABLE` (no connection could be made in time: fatal), `CONNECTION_FAILED` (one attempt
 * failed), `CONNECTION_LOST` (the node went away), `TOKEN_FAILED` (the token source failed).
 */
export type PublisherErrorCode =
  | string
  | "UNREACHABLE"
  | "CONNECTION_FAILED"
  | "CONNECTION_LOST"
  | "TOKEN_FAILED";

/** The state changed. */
export class PublisherStateEvent extends Event {
  /** The new state. */
  readonly state: PublisherState;
  /** The state before. */
  readonly previous: PublisherState;

  /** Creates the event. */
  constructor(state: PublisherState, previous: PublisherState) {
    super("state");
    this.state = state;
    this.previous = previous;
  }
}

/** Something failed. With `fatal` the publisher has stopped (state `closed`); otherwise it retries. */
export class PublisherErrorEvent extends Event {
  /** Error code (from the node's `E`, or one of the client's own). */
  readonly code: PublisherErrorCode;
  /** A readable explanation. */
  readonly message: string;
  /** Whether the publisher has given up. */
  readonly fatal: boolean;

  /** Creates the event. */
  constructor(code: PublisherErrorCode, message: string, fatal: boolean) {
    super("error");
    this.code = code;
    this.message = message;
    this.fatal = fatal;
  }

  /** The error as an `Error` (its `name` is the code). */
  get error(): Error {
    const error = new Error(this.message);
    error.name = this.code;
    return error;
  }
}

/** A fragment or a part went out to the node, or a fragment was dropped. */
export class PublisherSentEvent extends Event {
  /** `fragment` (a whole `F`), `part` (a `P`), or `dropped` (a fragment that will not be sent). */
  readonly kind: "fragment" | "part" | "dropped";
  /** Sequence number of the fragment. */
  readonly seq: number;
  /** Index of the part (parts only). */
  readonly part: number | undefined;
  /** Media bytes sent (0 when dropped). */
  readonly bytes: number;
  /** The fragment is complete at the node with this (whole fragments and last parts). */
  readonly complete: boolean;

  /** Creates the event. */
  constructor(
    kind: "fragment" | "part" | "dropped",
    seq: number,
    bytes: number,
    complete: boolean,
    part?: number,
  ) {
    super(kind === "dropped" ? "dropped" : "sent");
    this.kind = kind;
    this.seq = seq;
    this.bytes = bytes;
    this.complete = complete;
    this.part = part;
  }
}

/** Every event a publisher dispatches, by name. */
export interface PublisherEventMap {
  /** The state changed. */
  state: PublisherStateEvent;
  /** Something failed (see `fatal`). */
  error: PublisherErrorEvent;
  /** A fragment or part went out. */
  sent: PublisherSentEvent;
  /** A fragment was dropped (held too long while disconnected, or the socket was congested). */
  dropped: PublisherSentEvent;
}
