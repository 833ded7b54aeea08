/**
 * This node's side of the Redis publish registry: every stream published here is registered under
 * `<namespace><stream id>` with this node's `EXTERNAL_WEBSOCKET_URL` as a plain string (so older
 * nodes read it unchanged), and other nodes look streams up here.
 *
 * - A new publication is registered at once (`SET ... EX`), taking the key over from any other
 *   node: the newest publisher of a stream wins, as it does on one node.
 * - Every `PUB_REG_REFRESH_INTERVAL_SECONDS` each entry is refreshed with a time to live of twice
 *   that, but only while it is missing or still ours: a node never takes back a stream that another
 *   node took over.
 * - When a stream ends, and when the node stops, its entry is deleted only if it still points to
 *   this node (an atomic compare-and-delete in Lua).
 * - While a stream waits for its vanished publisher (the publisher grace), its entry is kept and
 *   refreshed, and looked up twice a second: once another node has taken it over (its publisher
 *   reconnected there), the stream ends here with `STREAM_MOVED`, so spectators and relays follow
 *   it at once instead of waiting for the grace to run out.
 * - A stream whose id is a rendition (`room/live/640x360-30~800`) is also registered in its group's
 *   hash (`<namespace>room/live#renditions`, {@linkcode GroupIndex}), refreshed and deleted with
 *   the same rules, so other nodes can list the group (`listGroup`).
 * - Redis errors never reach publishers or spectators: they are logged once per outage, and when
 *   the connection is ready again every local stream is registered again.
 *
 * @example
 * ```ts ignore
 * const registry = new PublishRegistry({ client, local: publications, namespace: "cdn:", url: "ws://10.0.0.5/", refreshIntervalSeconds: 60, log });
 * publications.addEventListener("publish", (event) => registry.register(event.detail));
 * const where = await registry.lookup("room/a"); // "ws://10.0.0.7/" or null
 * await registry.destroy();                      // deletes this node's entries
 * ```
 * @module
 */

import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import type { RedisClient } from "./redis_client.ts";
import { type GroupEntry, GroupIndex } from "./group_index.ts";

/** Sets the entry when it is missing or already ours; leaves another node's entry alone. */
const REFRESH_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0`;

/** Deletes the entry only when it still points to this node. */
const DELETE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** How often a stream in grace checks whether another node took it over. */
const MOVE_CHECK_MS = 500;

/**
 * What the registry asks of the streams published on this node (the node's `LocalPublications`).
 * It hears of each change from whoever wires it (`register`, `unregister`, `watchMove`).
 */
export interface LocalStreams {
  /** Ids of the streams published here now. */
  readonly streamIds: readonly string[];
  /** Whether `streamId` is published here and waiting for its vanished publisher. */
  isVacant(streamId: string): boolean;
  /** The vanished publisher of `streamId` now publishes on the node at `where`. */
  moved(streamId: string, where: string): void;
}

/** How a publish registry is set up. */
export interface PublishRegistryOptions {
  /** The Redis connection; the registry owns it and quits it in `destroy`. */
  client: RedisClient;
  /** The streams published on this node. */
  local: LocalStreams;
  /** `PUB_REG_NAMESPACE`: prefix of every key. */
  namespace: string;
  /** `EXTERNAL_WEBSOCKET_URL`: the value of this node's entries. */
  url: string;
  /** `PUB_REG_REFRESH_INTERVAL_SECONDS`; entries live twice as long. */
  refreshIntervalSeconds: number;
  /** `PUB_REG_REDIS_TIMEOUT_SECONDS` in ms: the deadline of every command. */
  timeoutMs: number;
  /** Log. */
  log: Logger;
  /** Counters (`registry_errors_total`, `registry_reconnects_total`, `registry_connected`). */
  metrics?: Metrics;
}

/** Registers this node's streams in Redis and looks up other nodes' streams. */
export class PublishRegistry {
  #options: PublishRegistryOptions;
  #client: RedisClient;
  #groups: GroupIndex;
  #log: Logger;
  #ttl: number;
  #timer: ReturnType<typeof setInterval>;
  #pending = new Set<Promise<unknown>>();
  #warned = false;
  #unfinishedDeletes = new Set<string>();
  #destroyed: Promise<void> | null = null;
  /** Streams in grace whose entry is watched for a takeover by another node. */
  #vacant = new Set<string>();
  #moveTimer: ReturnType<typeof setInterval> | undefined;
  #onReady = () => this.#ready();
  #onError = (error: Error) => this.#failed(error);
  #onClose = () => this.#options.metrics?.registryConnected.set(0);
  #wasReady = false;

  /** Starts refreshing; registration begins when Redis is ready. */
  constructor(options: PublishRegistryOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#groups = new GroupIndex({ client: options.client, namespace: options.namespace });
    this.#log = options.log.child("registry");
    this.#ttl = options.refreshIntervalSeconds * 2;
    this.#client.on("ready", this.#onReady);
    this.#client.on("error", this.#onError);
    this.#client.on("close", this.#onClose);
    this.#timer = setInterval(() => this.#refreshAll(), options.refreshIntervalSeconds * 1000);
  }

  /** The Redis key of a stream. */
  key(streamId: string): string {
    return this.#options.namespace + streamId;
  }

  /**
   * The WebSocket URL of the node that publishes `streamId`, or null. Rejects at once when Redis is
   * unreachable, and after `PUB_REG_REDIS_TIMEOUT_SECONDS` when it does not answer.
   */
  async lookup(streamId: string): Promise<string | null> {
    let value: string | null;
    try {
      value = await this.#deadline(this.#client.get(this.key(streamId)));
    } catch (error) {
      this.#options.metrics?.registryErrors.inc({ operation: "lookup" });
      throw error;
    }
    return value === null || value === "" ? null : value;
  }

  /**
   * The renditions of `group` registered by any node, each with the URL of its node (checked as
   * {@linkcode GroupIndex.list} says; the URL not yet as one to follow). Rejects like `lookup`.
   */
  async listGroup(group: string): Promise<GroupEntry[]> {
    try {
      return await this.#deadline(this.#groups.list(group));
    } catch (error) {
      this.#options.metrics?.registryErrors.inc({ operation: "list" });
      throw error;
    }
  }

  /** Runs a command in the background, remembering it until it settles (for `destroy`). */
  #track(what: string, command: () => Promise<unknown>): void {
    if (this.#destroyed !== null) return;
    const promise = this.#deadline(command()).catch((error) => this.#failed(error, what));
    this.#pending.add(promise);
    promise.finally(() => this.#pending.delete(promise));
  }

  /** Rejects when a command takes longer than the configured timeout. */
  #deadline<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.#options.timeoutMs);
  }

  /** `streamId` is published here now: its entry points to this node (taken over if need be). */
  register(streamId: string): void {
    this.#track(`register ${streamId}`, async () => {
      await this.#client.set(this.key(streamId), this.#options.url, "EX", this.#ttl);
      await this.#groups.write(streamId, this.#options.url, this.#ttl, { takeOver: true });
      this.#log.debug(`registered ${streamId}`);
    });
  }

  #refresh(streamId: string): Promise<unknown> {
    return this.#client.eval(REFRESH_SCRIPT, 1, this.key(streamId), this.#options.url, this.#ttl)
      .then((set) => {
        if (set !== 1) {
          this.#log.debug(`${streamId} is registered by another node; not refreshed`);
          return;
        }
        return this.#groups.write(streamId, this.#options.url, this.#ttl, { takeOver: false });
      });
  }

  #refreshAll(): void {
    for (const streamId of this.#options.local.streamIds) {
      this.#track(`refresh ${streamId}`, () => this.#refresh(streamId));
    }
  }

  #unregister(streamId: string): Promise<unknown> {
    const command = Promise.all([
      this.#client.eval(DELETE_SCRIPT, 1, this.key(streamId), this.#options.url),
      this.#groups.remove(streamId, this.#options.url),
    ]);
    const promise = this.#deadline(command).then(([deleted]) => {
      this.#unfinishedDeletes.delete(streamId);
      this.#log.debug(`unregistered ${streamId} (${deleted ? "deleted" : "not ours"})`);
    }, (error) => {
      // Tried again when Redis is back, unless the stream is published here again by then.
      this.#unfinishedDeletes.add(streamId);
      throw error;
    });
    this.#track(`unregister ${streamId}`, () => promise);
    return promise;
  }

  /** `streamId` ended here: its entry goes, if it still points to this node. */
  unregister(streamId: string): void {
    if (this.#destroyed !== null) return;
    this.#unregister(streamId).catch(() => {});
  }

  /**
   * `streamId` waits for its vanished publisher: its entry is checked twice a second, and once
   * another node holds it, the local streams are told (`moved`).
   */
  watchMove(streamId: string): void {
    if (this.#destroyed !== null) return;
    this.#vacant.add(streamId);
    this.#moveTimer ??= setInterval(() => this.#checkMoves(), MOVE_CHECK_MS);
  }

  #checkMoves(): void {
    const { local, url } = this.#options;
    for (const streamId of this.#vacant) {
      if (!local.isVacant(streamId)) {
        this.#vacant.delete(streamId);
        continue;
      }
      this.#deadline(this.#client.get(this.key(streamId))).then((where) => {
        if (where !== null && where !== "" && where !== url && local.isVacant(streamId)) {
          this.#log.info(`${streamId} was taken over by ${where}`);
          this.#vacant.delete(streamId);
          local.moved(streamId, where);
        }
      }, () => {/* Redis is away: the grace runs its course */});
    }
    if (this.#vacant.size === 0) {
      clearInterval(this.#moveTimer);
      this.#moveTimer = undefined;
    }
  }

  #ready(): void {
    this.#log.info("connected to Redis; registering local streams");
    const metrics = this.#options.metrics;
    metrics?.registryConnected.set(1);
    if (this.#wasReady) metrics?.registryReconnects.inc();
    this.#wasReady = true;
    this.#warned = false;
    const published = new Set(this.#options.local.streamIds);
    for (const streamId of this.#unfinishedDeletes) {
      if (!published.has(streamId)) this.#unregister(streamId);
    }
    this.#unfinishedDeletes.clear();
    this.#refreshAll();
  }

  /** Logs the first failure of an outage as a warning, the rest at debug level. */
  #failed(error: unknown, what = "connection"): void {
    const operation = /^(register|refresh|unregister)/.exec(what)?.[1];
    if (operation !== undefined) {
      this.#options.metrics?.registryErrors.inc({
        operation: operation === "unregister" ? "delete" : operation,
      });
    }
    const message = `Redis ${what} failed: ${error instanceof Error ? error.message : error}`;
    if (this.#warned) {
      this.#log.debug(message);
    } else {
      this.#warned = true;
      this.#log.warning(`${message} (registry lookups fall through until it is back)`);
    }
  }

  /**
   * Stops: deletes the entries of the streams still published here (if they still point to this
   * node), waits for commands in flight, and closes the connection. Bounded by the command timeout.
   */
  destroy(): Promise<void> {
    return this.#destroyed ??= this.#destroy();
  }

  async #destroy(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#moveTimer);
    this.#vacant.clear();
    const deletes = this.#options.local.streamIds.map((id) => this.#unregister(id).catch(() => {}));
    await Promise.allSettled([...this.#pending, ...deletes]);
    this.#client.off("ready", this.#onReady);
    try {
      await withTimeout(this.#client.quit(), 1000);
    } catch {
      this.#client.disconnect();
    }
    this.#client.off("error", this.#onError);
    this.#client.on("error", () => {});
  }
}

/** Rejects when `promise` takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    ),
  ]).finally(() => clearTimeout(timer));
}
