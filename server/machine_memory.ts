/**
 * How much memory this machine gives the node: the smaller of its RAM and, in a container, the
 * cgroup memory limit (v2 `memory.max` or v1 `memory.limit_in_bytes`). The default of
 * `BUFFER_MEMORY_LIMIT_MB` is a quarter of it. Nothing is asked for that the node may not read:
 * without the permission (`--allow-sys`, read of `/sys/fs/cgroup`) that source is skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultBufferLimitMb, machineMemoryBytes } from "./machine_memory.ts";
 * assert(machineMemoryBytes() > 0);
 * assert(defaultBufferLimitMb(8 * 1024 ** 3) === 2048);
 * assert(defaultBufferLimitMb(128 * 1024 ** 2) === 64, "never below 64 MB");
 * ```
 * @module
 */

const MB = 1024 * 1024;
/** Assumed when the machine cannot be asked. */
const FALLBACK_BYTES = 1024 * MB;
const CGROUP_LIMITS = [
  "/sys/fs/cgroup/memory.max",
  "/sys/fs/cgroup/memory/memory.limit_in_bytes",
];

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** The cgroup memory limit in bytes, when there is one and the node may read it. */
function cgroupLimit(): number | undefined {
  for (const path of CGROUP_LIMITS) {
    if (!granted({ name: "read", path })) continue;
    try {
      const text = Deno.readTextFileSync(path).trim();
      // "max" (v2) or a huge number (v1) mean no limit.
      if (/^\d+$/.test(text) && Number(text) > 0 && Number(text) < 2 ** 60) return Number(text);
    } catch { /* not in a cgroup with a limit */ }
  }
  return undefined;
}

/** The memory this machine gives the node, in bytes. */
export function machineMemoryBytes(): number {
  let total = 0;
  if (granted({ name: "sys", kind: "systemMemoryInfo" })) {
    try {
      total = Deno.systemMemoryInfo().total;
    } catch { /* not available here */ }
  }
  const limit = cgroupLimit();
  if (total <= 0) total = limit ?? FALLBACK_BYTES;
  return limit !== undefined ? Math.min(total, limit) : total;
}

/** The default `BUFFER_MEMORY_LIMIT_MB`: a quarter of the machine's memory, at least 64 MB. */
export function defaultBufferLimitMb(memoryBytes: number): number {
  return Math.max(64, Math.floor(memoryBytes / 4 / MB));
}
