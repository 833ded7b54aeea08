/**
 * The HLS WebSocket CDN protocol: parse and write every text message.
 *
 * Text frames carry `TYPE` or `TYPE:QUERY`, where `TYPE` is letters and digits (compared
 * case-insensitively) and `QUERY` is `application/x-www-form-urlencoded`. Binary frames carry
 * media and are only valid right after an `F` (whole fragment) or `P` (part) message.
 * Parameters a receiver does not know are ignored, which is how every extension stays
 * compatible with older clients and nodes. See `documentation/protocol.md`.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMessage, writeMessage } from "./protocol.ts";
 *
 * const text = writeMessage({ type: "F", duration: 2, seq: 7 });
 * assert(text === "F:duration=2&seq=7");
 * const message = parseMessage(text);
 * assert(message.type === "F" && message.seq === 7);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "./errors.ts";
import { quote } from "./quote.ts";

/** The longest text message a node accepts, in characters. */
export const MAX_TEXT_MESSAGE_LENGTH = 8192;

/**
 * The largest sequence number (`seq`, `after`) the protocol carries: 2^53 − 1, the largest whole
 * number every peer (JavaScript included) holds exactly. A larger one is refused.
 */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The longest relay path (`via` on `PULL`): a node that finds its own id in `via`, or this many
 * ids, answers `LOOP_DETECTED`.
 */
export const MAX_RELAY_HOPS = 8;

/**
 * What a node id (`NODE_ID`, and each id of `via`) may be: 1 to 64 letters, digits, `.`, `_`,
 * `~` or `-` (hostnames and generated ids fit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidNodeId } from "./protocol.ts";
 * assert(isValidNodeId("edge-1.fra") && !isValidNodeId("a b") && !isValidNodeId(""));
 * ```
 */
export function isValidNodeId(id: string): boolean {
  return /^[A-Za-z0-9._~-]{1,64}$/.test(id);
}

/** `H`: heartbeat, sent by either side after 30 s without sending anything. */
export interface HeartbeatMessage {
  /** Message type. */
  type: "H";
}

/** `E`: an error; the sender closes the connection afterwards. */
export interface ErrorMessage {
  /** Message type. */
  type: "E";
  /** One of `ErrorCode`, or another code from an older node. */
  code: string;
  /** A readable explanation. */
  message: string;
}

/** `OK`: the `PUSH` or `PULL` was accepted. */
export interface OkMessage {
  /** Message type. */
  type: "OK";
  /** Extension: the node will accept (for `PUSH`) or send (for `PULL`) parts. Only sent to clients that asked. */
  parts?: boolean;
  /** Extension: the capabilities the node grants; only sent to clients that sent `caps`. */
  caps?: string[];
  /**
   * Extension (`clock`): the node's default target delay for viewers, in seconds behind the
   * origin's receive time `at`. Only sent on a `PULL`'s `OK` to clients granted `clock`.
   */
  delay?: number;
  /** Extension (`abr`): the rendition ids of the group pulled, best first. */
  renditions?: string[];
}

/** Fields shared by `F` and `P`: the identity and timing of a fragment. */
export interface FragmentStamp {
  /** Extension: the fragment's sequence number, given at its origin and kept through relays. */
  seq?: number;
  /** Extension: wall-clock time (milliseconds since the Unix epoch) of the first frame, taken by the publisher. */
  time?: number;
  /**
   * Extension (`clock`): the origin node's receive time of this fragment or part, in milliseconds
   * since the Unix epoch on that node's clock; relays keep it unchanged.
   */
  at?: number;
  /** Extension: fragments were skipped before this one for this spectator (it fell behind, or resumed after a gap). */
  jump?: boolean;
  /** Extension: media timestamps may not continue from the previous fragment (new publisher, new encoder). */
  discontinuity?: boolean;
  /** Extension (`abr`): on the first fragment or part after a rendition switch, the rendition that follows. */
  rendition?: string;
  /** Extension (`abr`): with `rendition`, the codecs of the rendition (RFC 6381) when the node knows them. */
  codecs?: string;
  /** Extension (`abr`): with `rendition`, why the node switched (`start`, `down`, `up`, `pin`). */
  reason?: string;
}

/** `F`: the next binary frame is one whole fragment (MPEG-TS). */
export interface FragmentMessage extends FragmentStamp {
  /** Message type. */
  type: "F";
  /** Duration of the fragment in seconds. */
  duration: number;
}

/**
 * `P` (extension): the next binary frame is one part of the fragment `seq` (MPEG-TS packets).
 * Parts of a fragment come in order, starting at 0; the one with `last` closes the fragment.
 */
export interface PartMessage extends FragmentStamp {
  /** Message type. */
  type: "P";
  /** The fragment this part belongs to. */
  seq: number;
  /** Index of the part in its fragment, from 0. */
  part: number;
  /** The part starts with a keyframe (a player may start decoding here). Part 0 always does. */
  independent?: boolean;
  /** This part closes the fragment. */
  last?: boolean;
  /** On the last part: duration of the whole fragment in seconds. */
  duration?: number;
}

/**
 * `T` (extension, `clock`): a clock sample. A client sends `T:id=<n>`; the node answers at once
 * with the same `id` and `now`, its own clock.
 */
export interface TimeMessage {
  /** Message type. */
  type: "T";
  /** The request's id, 1 to 2^53 − 1, echoed in the answer. */
  id: number;
  /** In the node's answer: the node's clock (milliseconds since the Unix epoch, maybe fractional). */
  now?: number;
}

/** `CLOSE`: the stream ended; no more fragments follow. */
export interface CloseMessage {
  /** Message type. */
  type: "CLOSE";
}

/** `PUSH`: start publishing a stream. */
export interface PushMessage {
  /** Message type. */
  type: "PUSH";
  /** Stream id, 1 to 255 characters. */
  stream: string;
  /** Push token (JWT); may be empty where the node needs none. */
  auth: string;
  /** Extension: the publisher can send parts (`P`). */
  parts?: boolean;
  /** Extension: capability names (`shared/capabilities.ts`); present, even empty, marks a new client. */
  caps?: string[];
}

/** `PULL`: start receiving a stream. */
export interface PullMessage {
  /** Message type. */
  type: "PULL";
  /** Stream id, 1 to 255 characters. */
  stream: string;
  /** Pull token (JWT); may be empty where the node needs none. */
  auth: string;
  /** Serve only a stream published on this node; never ask other nodes. Wire name `only_source`. */
  onlySource?: boolean;
  /** At most this many buffered fragments before live ones. Wire name `max_initial_fragments`. */
  maxInitialFragments?: number;
  /** Extension: the client wants parts (`P`) as they are made. */
  parts?: boolean;
  /** Extension: resume after this fragment sequence number (the last one the client has). */
  after?: number;
  /** Extension: ids of the nodes this pull already passed through (relay loop detection). */
  via?: string[];
  /** Extension: capability names (`shared/capabilities.ts`); present, even empty, marks a new client. */
  caps?: string[];
  /** Extension (`abr`): `stream` names a rendition group; the node picks the rendition. */
  group?: boolean;
}

/**
 * `R` (extension, `abr`): a receive report from a spectator of a group: what arrived, when. Sent
 * after media frames, at most a few times a second.
 */
export interface ReceiveReportMessage {
  /** Message type. */
  type: "R";
  /** Media bytes (binary frames) received since `OK`. */
  bytes: number;
  /** The client's clock (ms, any origin, monotonic) when the last of them arrived. */
  t?: number;
  /** Sequence number of the last fragment or part received. */
  seq?: number;
  /** Part index of the last part received. */
  part?: number;
  /** Size of the last binary frame, in bytes. */
  size?: number;
  /** Ms from the `F`/`P` text of that frame to its binary (its transfer time, for a capacity sample). */
  span?: number;
}

/** `PIN` (extension, `abr`): keep this rendition (`rendition` given) or choose again (none). */
export interface PinMessage {
  /** Message type. */
  type: "PIN";
  /** The rendition id to keep; absent or empty for automatic choice. */
  rendition?: string;
}

/** A message of a type this code does not know; receivers ignore it. */
export interface UnknownMessage {
  /** Marks the message as unknown. */
  type: "UNKNOWN";
  /** The message type as received, upper-cased. */
  name: string;
}

/** Every message of the protocol, tagged by `type`. */
export type Message =
  | HeartbeatMessage
  | ErrorMessage
  | OkMessage
  | FragmentMessage
  | PartMessage
  | CloseMessage
  | TimeMessage
  | PushMessage
  | PullMessage
  | ReceiveReportMessage
  | PinMessage
  | UnknownMessage;

/** A message this code can write (everything but `UNKNOWN`). */
export type KnownMessage = Exclude<Message, UnknownMessage>;

const TYPE_PATTERN = /^[A-Za-z0-9]+$/;

function invalid(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.INVALID_MESSAGE, message);
}

/** Reads typed parameters from a query string, naming the bad one when a value is wrong. */
class Params {
  #params: URLSearchParams;
  #type: string;

  constructor(query: string, type: string) {
    this.#params = new URLSearchParams(query);
    this.#type = type;
  }

  /** A present, non-empty value, or undefined. */
  #raw(name: string): string | undefined {
    const value = this.#params.get(name);
    return value === null || value === "" ? undefined : value;
  }

  string(name: string): string {
    return this.#params.get(name) ?? "";
  }

  requiredString(name: string): string {
    const value = this.#params.get(name);
    if (value === null) throw invalid(`${this.#type}: missing parameter '${name}'`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    switch (value.toLowerCase()) {
      case "1":
      case "true":
      case "yes":
        return true;
      case "0":
      case "false":
      case "no":
        return false;
    }
    throw invalid(`${this.#type}: '${name}' must be true or false, got ${quote(value)}`);
  }

  number(name: string, { min = 0, max = Number.MAX_VALUE } = {}): number | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isFinite(number) || number < min || number > max) {
      throw invalid(
        `${this.#type}: '${name}' must be a number from ${min} to ${max}, got ${quote(value)}`,
      );
    }
    return number;
  }

  integer(name: string): number | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!/^\d{1,16}$/.test(value) || Number(value) > MAX_SEQ) {
      throw invalid(
        `${this.#type}: '${name}' must be a whole number from 0 to ${MAX_SEQ}, got ${quote(value)}`,
      );
    }
    return Number(value);
  }

  requiredInteger(name: string): number {
    const value = this.integer(name);
    if (value === undefined) throw invalid(`${this.#type}: missing parameter '${name}'`);
    return value;
  }

  /** A comma separated list; empty items are dropped. */
  list(name: string): string[] | undefined {
    const value = this.#raw(name);
    return value === undefined ? undefined : value.split(",").filter((item) => item !== "");
  }

  /** A comma separated list of node ids (`via`); a bad id is refused, named. */
  nodeIds(name: string): string[] | undefined {
    const ids = this.list(name);
    if (ids === undefined) return undefined;
    const bad = ids.find((id) => !isValidNodeId(id));
    if (bad !== undefined) {
      throw invalid(`${this.#type}: '${name}' holds a node id that is not valid: ${quote(bad)}`);
    }
    return ids;
  }

  /** A list whose presence counts even when empty (`caps=`): `[]` then, undefined when absent. */
  presentList(name: string): string[] | undefined {
    if (!this.#params.has(name)) return undefined;
    return this.list(name) ?? [];
  }
}

/** The longest fragment duration accepted, in seconds (one hour). */
const MAX_DURATION = 3600;

/** The largest wall-clock time accepted, in milliseconds since the epoch (the end of `Date`). */
const MAX_TIME = 8.64e15;

function stamp(params: Params): FragmentStamp {
  const result: FragmentStamp = {};
  const seq = params.integer("seq");
  if (seq !== undefined) result.seq = seq;
  const time = params.number("time", { min: 0, max: MAX_TIME });
  if (time !== undefined) result.time = time;
  const at = params.number("at", { min: 0, max: MAX_TIME });
  if (at !== undefined) result.at = at;
  if (params.boolean("jump")) result.jump = true;
  if (params.boolean("discontinuity")) result.discontinuity = true;
  const rendition = params.string("rendition");
  if (rendition !== "") result.rendition = rendition;
  const codecs = params.string("codecs");
  if (codecs !== "") result.codecs = codecs;
  const reason = params.string("reason");
  if (reason !== "") result.reason = reason;
  return result;
}

/**
 * Parses one text frame. Throws a {@linkcode ProtocolError} (code `INVALID_MESSAGE` or
 * `MESSAGE_TOO_LARGE`) and nothing else, whatever the input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMessage } from "./protocol.ts";
 * const pull = parseMessage("pull:stream=a%2Fb&auth=t&only_source=true&max_initial_fragments=3");
 * assert(pull.type === "PULL" && pull.stream === "a/b" && pull.maxInitialFragments === 3);
 * ```
 */
export function parseMessage(text: string): Message {
  if (text.length > MAX_TEXT_MESSAGE_LENGTH) {
    throw new ProtocolError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `text message of ${text.length} characters is longer than ${MAX_TEXT_MESSAGE_LENGTH}`,
    );
  }
  const colon = text.indexOf(":");
  const rawType = colon === -1 ? text : text.slice(0, colon);
  const query = colon === -1 ? "" : text.slice(colon + 1);
  if (!TYPE_PATTERN.test(rawType)) {
    throw invalid(`message type must be letters and digits, got ${quote(rawType, 32)}`);
  }
  const type = rawType.toUpperCase();
  const params = new Params(query, type);
  switch (type) {
    case "H":
      return { type: "H" };
    case "CLOSE":
      return { type: "CLOSE" };
    case "OK": {
      const message: OkMessage = { type: "OK" };
      if (params.boolean("parts")) message.parts = true;
      const caps = params.presentList("caps");
      if (caps !== undefined) message.caps = caps;
      const delay = params.number("delay", { max: MAX_DURATION });
      if (delay !== undefined) message.delay = delay;
      const renditions = params.list("renditions");
      if (renditions !== undefined) message.renditions = renditions;
      return message;
    }
    case "T": {
      const id = params.requiredInteger("id");
      if (id < 1) throw invalid(`T: 'id' must be a whole number from 1 to ${MAX_SEQ}, got 0`);
      const message: TimeMessage = { type: "T", id };
      const now = params.number("now", { min: 0, max: MAX_TIME });
      if (now !== undefined) message.now = now;
      return message;
    }
    case "E":
      return { type: "E", code: params.string("code"), message: params.string("message") };
    case "F": {
      const duration = params.number("duration", { max: MAX_DURATION });
      if (duration === undefined) throw invalid("F: missing parameter 'duration'");
      return { type: "F", duration, ...stamp(params) };
    }
    case "P": {
      const message: PartMessage = {
        type: "P",
        ...stamp(params),
        seq: params.requiredInteger("seq"),
        part: params.requiredInteger("part"),
      };
      if (params.boolean("independent")) message.independent = true;
      if (params.boolean("last")) {
        message.last = true;
        const duration = params.number("duration", { max: MAX_DURATION });
        if (duration === undefined) throw invalid("P: the last part needs 'duration'");
        message.duration = duration;
      }
      return message;
    }
    case "PUSH": {
      const message: PushMessage = {
        type: "PUSH",
        stream: params.requiredString("stream"),
        auth: params.string("auth"),
      };
      if (params.boolean("parts")) message.parts = true;
      const caps = params.presentList("caps");
      if (caps !== undefined) message.caps = caps;
      return message;
    }
    case "PULL": {
      const message: PullMessage = {
        type: "PULL",
        stream: params.requiredString("stream"),
        auth: params.string("auth"),
      };
      if (params.boolean("only_source")) message.onlySource = true;
      const maxInitial = params.integer("max_initial_fragments");
      if (maxInitial !== undefined) message.maxInitialFragments = maxInitial;
      if (params.boolean("parts")) message.parts = true;
      const after = params.integer("after");
      if (after !== undefined) message.after = after;
      const via = params.nodeIds("via");
      if (via !== undefined) message.via = via;
      const caps = params.presentList("caps");
      if (caps !== undefined) message.caps = caps;
      if (params.boolean("group")) message.group = true;
      return message;
    }
    case "R": {
      const message: ReceiveReportMessage = { type: "R", bytes: params.requiredInteger("bytes") };
      const t = params.number("t", { min: -8.64e15, max: 8.64e15 });
      if (t !== undefined) message.t = t;
      const seq = params.integer("seq");
      if (seq !== undefined) message.seq = seq;
      const part = params.integer("part");
      if (part !== undefined) message.part = part;
      const size = params.integer("size");
      if (size !== undefined) message.size = size;
      const span = params.number("span", { max: 3.6e6 });
      if (span !== undefined) message.span = span;
      return message;
    }
    case "PIN": {
      const rendition = params.string("rendition");
      return rendition === "" ? { type: "PIN" } : { type: "PIN", rendition };
    }
    default:
      return { type: "UNKNOWN", name: type };
  }
}

function flag(query: URLSearchParams, name: string, value: boolean | undefined): void {
  if (value) query.set(name, "1");
}

function writeCaps(query: URLSearchParams, caps: readonly string[] | undefined): void {
  if (caps !== undefined) query.set("caps", caps.join(","));
}

function writeStamp(query: URLSearchParams, message: FragmentStamp): void {
  if (message.seq !== undefined) query.set("seq", String(message.seq));
  if (message.time !== undefined) query.set("time", String(message.time));
  if (message.at !== undefined) query.set("at", String(message.at));
  flag(query, "jump", message.jump);
  flag(query, "discontinuity", message.discontinuity);
  if (message.rendition !== undefined) query.set("rendition", message.rendition);
  if (message.codecs !== undefined) query.set("codecs", message.codecs);
  if (message.reason !== undefined) query.set("reason", message.reason);
}

/**
 * Writes a message as the text of one frame. Optional fields that are absent are left out,
 * so a message without extensions is exactly what an older peer expects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeMessage } from "./protocol.ts";
 * assert(writeMessage({ type: "OK" }) === "OK");
 * assert(writeMessage({ type: "E", code: "TIMEOUT", message: "no message" }) ===
 *   "E:code=TIMEOUT&message=no+message");
 * ```
 */
export function writeMessage(message: KnownMessage): string {
  const query = new URLSearchParams();
  switch (message.type) {
    case "H":
    case "CLOSE":
      break;
    case "OK":
      flag(query, "parts", message.parts);
      writeCaps(query, message.caps);
      if (message.delay !== undefined) query.set("delay", String(message.delay));
      if (message.renditions !== undefined) query.set("renditions", message.renditions.join(","));
      break;
    case "T":
      query.set("id", String(message.id));
      if (message.now !== undefined) query.set("now", String(message.now));
      break;
    case "E":
      query.set("code", message.code);
      query.set("message", message.message);
      break;
    case "F":
      query.set("duration", String(message.duration));
      writeStamp(query, message);
      break;
    case "P":
      query.set("seq", String(message.seq));
      query.set("part", String(message.part));
      writeStamp(query, message);
      flag(query, "independent", message.independent);
      if (message.last) {
        query.set("last", "1");
        query.set("duration", String(message.duration ?? 0));
      }
      break;
    case "PUSH":
      query.set("stream", message.stream);
      query.set("auth", message.auth);
      flag(query, "parts", message.parts);
      writeCaps(query, message.caps);
      break;
    case "PULL":
      query.set("stream", message.stream);
      query.set("auth", message.auth);
      if (message.onlySource) query.set("only_source", "true");
      if (message.maxInitialFragments !== undefined) {
        query.set("max_initial_fragments", String(message.maxInitialFragments));
      }
      flag(query, "parts", message.parts);
      if (message.after !== undefined) query.set("after", String(message.after));
      if (message.via !== undefined && message.via.length > 0) {
        query.set("via", message.via.join(","));
      }
      writeCaps(query, message.caps);
      flag(query, "group", message.group);
      break;
    case "R":
      query.set("bytes", String(message.bytes));
      if (message.t !== undefined) query.set("t", String(message.t));
      if (message.seq !== undefined) query.set("seq", String(message.seq));
      if (message.part !== undefined) query.set("part", String(message.part));
      if (message.size !== undefined) query.set("size", String(message.size));
      if (message.span !== undefined) query.set("span", String(message.span));
      break;
    case "PIN":
      if (message.rendition !== undefined) query.set("rendition", message.rendition);
      break;
  }
  const text = query.toString();
  return text === "" ? message.type : `${message.type}:${text}`;
}
