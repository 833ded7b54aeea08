/**
 * Metrics of the node's process, read when `/metrics` or `/stats` is asked: CPU seconds, resident
 * memory, JavaScript heap, open file descriptors (sockets included; only where the process may
 * read `/proc/self`) and start time, under the names every Prometheus process exporter uses
 * (`process_cpu_seconds_total`...).
 *
 * prom-client's own default collectors are not used: on Deno several of them (event-loop lag,
 * active handles) report nothing meaningful.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import client from "prom-client";
 * import { registerProcessMetrics } from "./process_metrics.ts";
 * const registry = new client.Registry();
 * registerProcessMetrics(registry);
 * assert((await registry.metrics()).includes("process_resident_memory_bytes"));
 * ```
 * @module
 */

import client from "prom-client";
import process from "node:process";

/**
 * Open file descriptors of this process (Linux), or undefined where it cannot be read: no `/proc`,
 * or a process without `--allow-all` (Deno guards `/proc/self`).
 */
export function openFileDescriptors(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user and system) this process has used. */
export function cpuSeconds(): { user: number; system: number } {
  const usage = process.cpuUsage();
  return { user: usage.user / 1e6, system: usage.system / 1e6 };
}

const START_SECONDS = Math.round((performance.timeOrigin) / 1000);

/** Registers the process metrics in `registry`. */
export function registerProcessMetrics(registry: client.Registry): void {
  const registers = [registry];
  new client.Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU seconds used by the process.",
    registers,
    collect() {
      const { user, system } = cpuSeconds();
      this.reset();
      this.inc(user + system);
    },
  });
  new client.Counter({
    name: "process_cpu_user_seconds_total",
    help: "User CPU seconds used by the process.",
    registers,
    collect() {
      this.reset();
      this.inc(cpuSeconds().user);
    },
  });
  new client.Counter({
    name: "process_cpu_system_seconds_total",
    help: "System CPU seconds used by the process.",
    registers,
    collect() {
      this.reset();
      this.inc(cpuSeconds().system);
    },
  });
  new client.Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory of the process in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new client.Gauge({
    name: "process_heap_bytes",
    help: "JavaScript heap in use, in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().heapUsed);
    },
  });
  if (openFileDescriptors() !== undefined) {
    new client.Gauge({
      name: "process_open_fds",
      help: "Open file descriptors of the process (sockets included).",
      registers,
      collect() {
        this.set(openFileDescriptors() ?? 0);
      },
    });
  }
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process, seconds since the Unix epoch.",
    registers,
    collect() {
      this.set(START_SECONDS);
    },
  });
}
