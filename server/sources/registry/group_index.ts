/**
 * The rendition groups of the Redis publish registry: for every registered stream whose id is a
 * rendition (`room/live/1280x720-30~2500`, `shared/rendition.ts`), one field in a hash named by
 * its group, `<namespace><group>#renditions`, so an edge that finds streams through the registry
 * can list a group's renditions without scanning keys.
 *
 * - The field is the rendition id; its value is `<expiry ms> <node URL>`, the expiry taken from
 *   Redis's own clock (`TIME`), so nodes whose clocks differ agree on it. A field lives as long as
 *   the stream's own entry (twice the refresh interval) and is refreshed with it; the hash expires
 *   when its newest field does, and every write prunes the fields that have expired.
 * - A new publication takes the field over; a refresh sets it only while it is missing, expired or
 *   still this node's; a delete removes it only while it is this node's (`-1` when another node
 *   holds it). Every command touches one key, so it works on a Redis Cluster.
 * - A listing returns at most {@linkcode MAX_GROUP_RENDITIONS} live fields, each checked: a valid
 *   stream id that is a rendition of the group asked for, with a non-empty URL. Anything else
 *   (a poisoned Redis, a value of another format) is ignored.
 *
 * A stream id that ends in `#renditions` would share its key with a group's hash; each side then
 * fails with `WRONGTYPE` (logged, and a lookup or listing that finds nothing): nothing worse.
 *
 * @example
 * ```ts ignore
 * const groups = new GroupIndex({ client, namespace: "cdn:" });
 * await groups.write("room/live/640x360-30~800", "ws://10.0.0.5/", 120, { takeOver: true });
 * await groups.list("room/live"); // [{ streamId: "room/live/640x360-30~800", url: "ws://10.0.0.5/" }]
 * await groups.remove("room/live/640x360-30~800", "ws://10.0.0.5/"); // 1
 * ```
 * @module
 */

import { parseRenditionId } from "../../../shared/rendition.ts";
import { isValidStreamId } from "../../../shared/stream_id.ts";
import type { RedisClient } from "./redis_client.ts";

/** What follows the group id in the key of its hash. */
export const GROUP_KEY_SUFFIX = "#renditions";

/** The most renditions a listing returns (more are ignored). */
export const MAX_GROUP_RENDITIONS = 16;

/** The most fields the listing script looks at (it pages through the hash in steps of 64). */
const MAX_FIELDS_SCANNED = 1024;

/** Redis's clock in ms, and the parts of a field's value (`<expiry ms> <url>`). */
const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function parse(value)
  local space = string.find(value, ' ', 1, true)
  if not space then return nil, nil end
  return tonumber(string.sub(value, 1, space - 1)), string.sub(value, space + 1)
end`;

/**
 * Sets a field (ARGV: id, url, ttl s, "1" to take it over), unless, without a takeover, another
 * node holds it and it has not expired (then 0). Prunes expired fields; keeps the hash alive as
 * long as its newest field. 1 when set.
 */
const WRITE_SCRIPT = `${COMMON}
local ttl = tonumber(ARGV[3])
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[4] ~= '1' and current then
  local expires, owner = parse(current)
  if expires and owner ~= ARGV[2] and expires > now then return 0 end
end
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local expires = parse(fields[i + 1])
  if expires and expires <= now then redis.call('HDEL', KEYS[1], fields[i]) end
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', now + ttl * 1000) .. ' ' .. ARGV[2])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

/** Deletes a field (ARGV: id, url) only while it names this node: 1, 0 when missing, -1 when another node holds it. */
const DELETE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local space = string.find(current, ' ', 1, true)
if space and string.sub(current, space + 1) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return -1`;

/** The live fields (ARGV: most to return), as a flat list: id, url, id, url... */
const LIST_SCRIPT = `${COMMON}
local most = tonumber(ARGV[1]) * 2
local out = {}
local cursor = '0'
local seen = 0
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 64)
  cursor = page[1]
  local items = page[2]
  for i = 1, #items, 2 do
    local expires, owner = parse(items[i + 1])
    if expires and expires > now then
      out[#out + 1] = items[i]
      out[#out + 1] = owner
      if #out >= most then return out end
    end
  end
  seen = seen + #items / 2
until cursor == '0' or seen >= ${MAX_FIELDS_SCANNED}
return out`;

/** One rendition of a group in the registry. */
export interface GroupEntry {
  /** The rendition's stream id. */
  streamId: string;
  /** The node that registered it (not yet checked as a URL to follow). */
  url: string;
}

/** How the group index is set up. */
export interface GroupIndexOptions {
  /** The registry's Redis connection (not owned). */
  client: Pick<RedisClient, "eval">;
  /** `PUB_REG_NAMESPACE`. */
  namespace: string;
}

/** The group a stream id registers in, or null when it is not a rendition of a named group. */
export function groupOf(streamId: string): string | null {
  const group = parseRenditionId(streamId)?.group;
  return group ? group : null;
}

/** The group hashes of the publish registry. */
export class GroupIndex {
  #client: Pick<RedisClient, "eval">;
  #namespace: string;

  /** Creates the index over an existing connection. */
  constructor(options: GroupIndexOptions) {
    this.#client = options.client;
    this.#namespace = options.namespace;
  }

  /** The Redis key of a group's hash. */
  key(group: string): string {
    return this.#namespace + group + GROUP_KEY_SUFFIX;
  }

  /**
   * Registers (`takeOver`) or refreshes the field of `streamId` for the node at `url`, living
   * `ttlSeconds`. Resolves to whether it was set: false for a refresh of another node's field, and
   * for an id that is not a rendition (no command is sent then).
   */
  async write(
    streamId: string,
    url: string,
    ttlSeconds: number,
    { takeOver }: { takeOver: boolean },
  ): Promise<boolean> {
    const group = groupOf(streamId);
    if (group === null) return false;
    const set = await this.#client.eval(
      WRITE_SCRIPT,
      1,
      this.key(group),
      streamId,
      url,
      Math.max(1, Math.ceil(ttlSeconds)),
      takeOver ? "1" : "0",
    );
    return set === 1;
  }

  /**
   * Deletes the field of `streamId` if it still names `url`: 1 when deleted, 0 when there is none
   * (or the id is not a rendition), -1 when another node holds it (left alone).
   */
  async remove(streamId: string, url: string): Promise<1 | 0 | -1> {
    const group = groupOf(streamId);
    if (group === null) return 0;
    const result = await this.#client.eval(DELETE_SCRIPT, 1, this.key(group), streamId, url);
    return result === 1 ? 1 : result === -1 ? -1 : 0;
  }

  /** The live renditions of `group`, checked (see the module), at most {@linkcode MAX_GROUP_RENDITIONS}. */
  async list(group: string): Promise<GroupEntry[]> {
    if (group === "" || !isValidStreamId(group)) return [];
    const reply = await this.#client.eval(LIST_SCRIPT, 1, this.key(group), MAX_GROUP_RENDITIONS);
    return checkedEntries(group, reply);
  }
}

/** The entries of a listing reply that are renditions of `group`, each once, at most the cap. */
export function checkedEntries(group: string, reply: unknown): GroupEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries = new Map<string, GroupEntry>();
  for (let i = 0; i + 1 < reply.length && entries.size < MAX_GROUP_RENDITIONS; i += 2) {
    const [streamId, url] = [reply[i], reply[i + 1]];
    if (typeof streamId !== "string" || typeof url !== "string" || url === "") continue;
    if (!isValidStreamId(streamId) || groupOf(streamId) !== group) continue;
    if (!entries.has(streamId)) entries.set(streamId, { streamId, url });
  }
  return [...entries.values()];
}
