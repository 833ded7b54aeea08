/**
 * Helpers for benchmarks: CPU time and RSS of a process (from `/proc`), child Deno processes with
 * their output as lines, and a plain-text table.
 *
 * @example
 * ```ts ignore
 * const seconds = await cpuSeconds(pid);
 * const rss = await rssBytes(pid);
 * ```
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size of a process in bytes (0 once it has exited). */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A child Deno process whose stdout arrives as lines. */
export interface ChildDeno {
  /** The process. */
  process: Deno.ChildProcess;
  /** Its standard output, line by line. */
  lines: AsyncIterator<string>;
  /** SIGTERM, then SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `deno run -A <args>` with stdout as lines (and stdin piped when asked). */
export function spawnDeno(args: string[], stdin = false): ChildDeno {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines = readLines(process.stdout)[Symbol.asyncIterator]();
  return {
    process,
    lines,
    async stop() {
      try {
        process.kill("SIGTERM");
      } catch { /* exited */ }
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch { /* exited */ }
      }, 5000);
      await process.status;
      clearTimeout(timer);
    },
  };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

/** Reads lines until one matches, or throws after `timeoutMs`. */
export async function waitForLine(
  lines: AsyncIterator<string>,
  match: (line: string) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      lines.next(),
      new Promise<"timeout">((resolve) =>
        timer = setTimeout(() => resolve("timeout"), deadline - Date.now())
      ),
    ]);
    clearTimeout(timer);
    if (next === "timeout") break;
    if (next.done) throw new Error("the process ended before the expected line");
    if (match(next.value)) return next.value;
  }
  throw new Error(`no matching line within ${timeoutMs} ms`);
}

/** A plain-text table with aligned columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => (cell ?? "").padStart(widths[column])).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}
