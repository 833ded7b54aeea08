/**
 * The terminal status of `publish`: on a TTY one line rewritten in place (fragments, bitrate, the
 * node's state); otherwise plain log lines (state changes, and a summary every 10 s).
 *
 * @example
 * ```ts ignore
 * const status = new StatusLine({ tty: Deno.stderr.isTerminal(), write: (text) => Deno.stderr.writeSync(encoder.encode(text)) });
 * status.update({ streamId: "room/a", state: "ready", fragments: 3, parts: 30, bytes: 1_500_000, dropped: 0, lastDuration: 2 });
 * status.log("node restarted");
 * status.done();
 * ```
 * @module
 */

/** What the status shows for one stream. */
export interface StreamStatus {
  /** Stream id. */
  streamId: string;
  /** Publisher state (`connecting`, `ready`, `reconnecting`, `closed`). */
  state: string;
  /** Fragments complete at the node. */
  fragments: number;
  /** Parts sent. */
  parts: number;
  /** Media bytes sent. */
  bytes: number;
  /** Fragments dropped. */
  dropped: number;
  /** Duration of the last fragment in seconds. */
  lastDuration: number;
}

/** Options of {@linkcode StatusLine}. */
export interface StatusLineOptions {
  /** Rewrite one line in place (a terminal) instead of printing log lines. */
  tty: boolean;
  /** Writes text (to stderr). */
  write(text: string): void;
  /** Milliseconds between summary lines when not on a TTY. @default 10000 */
  logEveryMs?: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/** Bitrate over the last few seconds, from cumulative byte counts. */
class RateMeter {
  #samples: { at: number; bytes: number }[] = [];

  /** Adds a sample and returns bits per second over the last 5 s. */
  add(at: number, bytes: number): number {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - this.#samples[0].at > 5000) this.#samples.shift();
    const first = this.#samples[0];
    const seconds = (at - first.at) / 1000;
    return seconds > 0.2 ? ((bytes - first.bytes) * 8) / seconds : 0;
  }
}

/** Formats bits per second. */
export function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kbit/s`;
}

/** The one-line status (or log lines) of a publish run. */
export class StatusLine {
  #options: StatusLineOptions;
  #now: () => number;
  #streams = new Map<string, StreamStatus & { bitrate: number }>();
  #meters = new Map<string, RateMeter>();
  #lastLog = -Infinity;
  #drawn = false;

  /** Creates the status. */
  constructor(options: StatusLineOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** New numbers for one stream. */
  update(status: StreamStatus): void {
    const now = this.#now();
    let meter = this.#meters.get(status.streamId);
    if (meter === undefined) this.#meters.set(status.streamId, meter = new RateMeter());
    const previous = this.#streams.get(status.streamId);
    this.#streams.set(status.streamId, { ...status, bitrate: meter.add(now, status.bytes) });
    if (this.#options.tty) {
      this.#draw();
      return;
    }
    if (previous !== undefined && previous.state !== status.state) {
      this.#options.write(`${status.streamId}: ${status.state}\n`);
    }
    if (status.fragments > 0 && now - this.#lastLog >= (this.#options.logEveryMs ?? 10000)) {
      this.#lastLog = now;
      for (const line of this.#lines()) this.#options.write(`${line}\n`);
    }
  }

  /** Prints a line above the status. */
  log(line: string): void {
    if (this.#options.tty) {
      this.#options.write(`\r\x1b[2K${line}\n`);
      if (this.#drawn) this.#draw();
    } else this.#options.write(`${line}\n`);
  }

  /** Removes the status line (before an error message). */
  clear(): void {
    if (this.#options.tty && this.#drawn) this.#options.write("\r\x1b[2K");
    this.#drawn = false;
  }

  /** Ends the status line (final numbers on their own line). */
  done(): void {
    if (this.#options.tty && this.#drawn) this.#options.write("\n");
    this.#drawn = false;
  }

  #lines(): string[] {
    return [...this.#streams.values()].map((status) =>
      `${status.streamId}: ${status.state}, ${status.fragments} fragments, ${status.parts} parts, ` +
      `${formatBitrate(status.bitrate)}, last ${status.lastDuration.toFixed(3)} s` +
      (status.dropped > 0 ? `, ${status.dropped} dropped` : "")
    );
  }

  #draw(): void {
    const text = [...this.#streams.values()].map((status) =>
      `${status.state === "ready" ? "●" : "○"} ${status.streamId} ${status.state} | ` +
      `${status.fragments} frag | ${formatBitrate(status.bitrate)}` +
      (status.dropped > 0 ? ` | ${status.dropped} dropped` : "")
    ).join("  ");
    this.#options.write(`\r\x1b[2K${text}`);
    this.#drawn = true;
  }
}
