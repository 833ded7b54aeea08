/**
 * The door of a node: decides, before any protocol work, whether a new WebSocket connection or a
 * plain HTTP request is let in. In order: the address's request rate (`RATE_LIMIT_REQ_PER_SEC`,
 * `RATE_LIMIT_REQ_BURST`), the page origin (`ALLOWED_ORIGINS`), the node's connection cap
 * (`MAX_CONNECTIONS`), the address's open connections (`RATE_LIMIT_CONNECTIONS`) and its
 * connections that have not sent their first message (`MAX_PENDING_CONNECTIONS_PER_ADDRESS`). Only
 * what an admitted connection took is given back when it closes. A refused
 * connection gets `E` with the code and a readable reason, then is closed; every refusal is
 * counted in `refusals_total{code}` and logged (at most one line per code a second, with the
 * number of refusals it stands for, so a flood cannot flood the log).
 *
 * @example
 * ```ts ignore
 * const admission = new Admission({ config, metrics, log });
 * const verdict = admission.admitSocket(request, openConnections);
 * if (!verdict.admitted) refuseSocket(socket, verdict.code, verdict.message);
 * else { onFirstMessage(() => verdict.spoke()); onClose(() => verdict.release()); }
 * ```
 * @module
 */

import { ErrorCode } from "../../shared/errors.ts";
import { writeMessage } from "../../shared/protocol.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type ServerSocket, TextFrame, type UpgradeRequest } from "../transport/transport.ts";
import { quote } from "../../shared/quote.ts";
import { OriginPolicy } from "./origin_policy.ts";
import { PendingConnections } from "./pending_connections.ts";
import { type RateLimitConfig, RateLimiter } from "./rate_limiter.ts";

/**
 * What a new connection is told. An admitted one calls `spoke` when its first message arrives and
 * `release` when it closes (each gives back what it took, once).
 */
export type Verdict =
  | { admitted: true; spoke(): void; release(): void }
  | { admitted: false; code: ErrorCode; message: string };

/** The limits the admission applies (the node's configuration holds them under these names). */
export interface AdmissionLimits {
  /** Rate limits. */
  rateLimit: RateLimitConfig;
  /** `MAX_CONNECTIONS`: open WebSocket connections on the node; 0 is no limit. */
  maxConnections: number;
  /** `MAX_PENDING_CONNECTIONS_PER_ADDRESS`: connections per address that have not spoken; 0 is no limit. */
  maxPendingPerAddress: number;
  /** `ALLOWED_ORIGINS`: page origins allowed to connect; empty allows all. */
  allowedOrigins: string[];
}

/** How the admission is set up. */
export interface AdmissionOptions {
  /** The limits (the node passes its configuration). */
  config: AdmissionLimits;
  /** Where refusals are counted. */
  metrics: Metrics;
  /** Where refusals are logged. */
  log: Logger;
}

/** `fn`, made to run at most once. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** How long a refused socket may take to close before it is dropped. */
const REFUSED_CLOSE_GRACE_MS = 2000;
/** Largest frame a refused socket reads (it reads nothing, but the transport parses frames). */
const REFUSED_MAX_MESSAGE_BYTES = 1024;
/** Refusal log lines per code are at most this often. */
const LOG_INTERVAL_MS = 1000;

/** Admission of connections and requests. */
export class Admission {
  #config: AdmissionOptions["config"];
  #metrics: Metrics;
  #log: Logger;
  #limiter: RateLimiter | undefined;
  #origins: OriginPolicy;
  #pending: PendingConnections;
  #logged = new Map<string, { at: number; suppressed: number }>();

  /** Creates the admission; throws a `RangeError` for a bad whitelist or origin entry. */
  constructor(options: AdmissionOptions) {
    const { rateLimit } = options.config;
    this.#config = options.config;
    this.#metrics = options.metrics;
    this.#log = options.log.child("limits");
    this.#origins = new OriginPolicy(options.config.allowedOrigins);
    this.#pending = new PendingConnections(
      options.config.maxPendingPerAddress,
      rateLimit.whitelist,
    );
    if (rateLimit.enabled) {
      this.#limiter = new RateLimiter({
        requestsPerSecond: rateLimit.requestsPerSecond,
        burst: rateLimit.requestBurst,
        connections: rateLimit.connections,
        whitelist: rateLimit.whitelist,
        cleanupSeconds: rateLimit.cleanupSeconds,
      });
    }
  }

  /** Addresses the rate limiter tracks (0 when it is off). */
  get trackedAddresses(): number {
    return this.#limiter?.trackedAddresses ?? 0;
  }

  /** Open connections counted for `address` (`RATE_LIMIT_CONNECTIONS`; 0 when it is off). */
  openConnections(address: string): number {
    return this.#limiter?.openConnections(address) ?? 0;
  }

  /** Whether a plain HTTP request from `address` may be answered (false: answer 429). */
  admitRequest(address: string): boolean {
    if (this.#limiter === undefined || this.#limiter.takeRequest(address)) {
      this.#updateGauge();
      return true;
    }
    this.#refused(ErrorCode.RATE_LIMITED, address, "HTTP request over the rate");
    return false;
  }

  /** Whether a new WebSocket connection may go on; `open` is the node's open connections. */
  admitSocket(request: UpgradeRequest, open: number): Verdict {
    const address = request.remoteAddress;
    const limiter = this.#limiter;
    const verdict = limiter?.openConnection(address) ?? "ok";
    if (verdict === "rate") {
      return this.#refuse(
        ErrorCode.RATE_LIMITED,
        address,
        "too many connections from your address in a short time; retry later",
      );
    }
    // A slot was taken only on "ok" (a refusal at the cap took none): give back only that.
    const release = verdict === "ok" ? once(() => limiter?.closeConnection(address)) : () => {};
    const refusal = this.#check(request, open, verdict);
    if (refusal !== undefined) {
      release();
      return refusal;
    }
    const spoke = this.#pending.take(address);
    if (spoke === null) {
      release();
      return this.#refuse(
        ErrorCode.RATE_LIMITED,
        address,
        `too many connections from your address that have not sent PUSH or PULL (at most ${this.#config.maxPendingPerAddress})`,
      );
    }
    this.#updateGauge();
    return {
      admitted: true,
      spoke,
      release: () => {
        spoke();
        release();
      },
    };
  }

  /** The refusal by origin, node cap or open connections per address, if any. */
  #check(request: UpgradeRequest, open: number, verdict: string): Verdict | undefined {
    const address = request.remoteAddress;
    const origin = request.headers.get("origin");
    if (!this.#origins.open && !this.#origins.allows(origin)) {
      return this.#refuse(
        ErrorCode.ORIGIN_NOT_ALLOWED,
        address,
        `pages from ${quote(origin ?? "")} may not connect to this node`,
      );
    }
    if (this.#config.maxConnections > 0 && open >= this.#config.maxConnections) {
      return this.#refuse(
        ErrorCode.SERVER_FULL,
        address,
        `this node has reached its ${this.#config.maxConnections} connections; try another node or retry later`,
      );
    }
    if (verdict === "connections") {
      return this.#refuse(
        ErrorCode.RATE_LIMITED,
        address,
        `too many open connections from your address (at most ${this.#config.rateLimit.connections})`,
      );
    }
    return undefined;
  }

  #refuse(code: ErrorCode, address: string, message: string): Verdict {
    this.#refused(code, address, message);
    return { admitted: false, code, message };
  }

  #refused(code: ErrorCode, address: string, message: string): void {
    this.#metrics.refusals.inc({ code });
    this.#updateGauge();
    const now = performance.now();
    const last = this.#logged.get(code);
    if (last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const more = last !== undefined && last.suppressed > 0
      ? ` (and ${last.suppressed} more ${code} refusals since the last line)`
      : "";
    this.#logged.set(code, { at: now, suppressed: 0 });
    this.#log.info(`refused ${address} with ${code}: ${message}${more}`);
  }

  #updateGauge(): void {
    if (this.#limiter !== undefined) {
      this.#metrics.rateLimitedAddresses.set(this.#limiter.trackedAddresses);
    }
  }

  /** Stops the rate limiter's sweep. */
  destroy(): void {
    this.#limiter?.destroy();
  }
}

/**
 * Tells a connection that was not admitted why (`E` with `code` and `message`) and closes it,
 * dropping it if the close handshake does not complete within two seconds. Nothing it sends is
 * read.
 */
export function refuseSocket(socket: ServerSocket, code: ErrorCode, message: string): void {
  socket.setMaxMessageSize(REFUSED_MAX_MESSAGE_BYTES);
  const timer = setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS);
  socket.listen({
    onText() {},
    onBinary() {},
    onTooLarge() {},
    onClose() {
      clearTimeout(timer);
    },
  });
  socket.sendText(new TextFrame(writeMessage({ type: "E", code, message })));
  socket.close(1000, code);
}
