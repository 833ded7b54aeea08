/**
 * One-line log events, filtered by the `LOG_*` flags, each naming what it concerns
 * (`[conn 12]`, `[stream room/a]`). Every line is written with its control characters escaped
 * (`shared/quote.ts`), so nothing a client sends (a stream id, a parameter, an upstream's error
 * text) can start a forged line or drive the terminal of whoever reads the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Logger } from "./log.ts";
 * const lines: string[] = [];
 * const log = new Logger({ error: true, warning: true, info: true, requests: false, debug: false, trace: false }, (l) => lines.push(l));
 * log.child("conn 1").info("connected");
 * assert(lines[0].endsWith("[INFO] [conn 1] connected"));
 * ```
 * @module
 */

import { escapeControls } from "../shared/quote.ts";

/** Which log lines are written (`LOG_*`). */
export interface LogConfig {
  /** `LOG_ERROR` @default true */
  error: boolean;
  /** `LOG_WARNING` @default true */
  warning: boolean;
  /** `LOG_INFO` @default true */
  info: boolean;
  /** `LOG_REQUESTS`: one line per connection and HTTP request. @default true */
  requests: boolean;
  /** `LOG_DEBUG` @default false */
  debug: boolean;
  /** `LOG_TRACE`: every message in and out. @default false */
  trace: boolean;
}

/** Where log lines go; the default writes to standard error. */
export type LogSink = (line: string) => void;

const defaultSink: LogSink = (line) => console.error(line);

/** A logger with a context prefix; `child` adds to the prefix. */
export class Logger {
  /** The flags this logger obeys. */
  readonly flags: LogConfig;
  #sink: LogSink;
  #prefix: string;

  /** Creates a root logger. */
  constructor(flags: LogConfig, sink: LogSink = defaultSink, prefix = "") {
    this.flags = flags;
    this.#sink = sink;
    this.#prefix = prefix;
  }

  /** A logger that writes nothing (for tests and tools). */
  static silent(): Logger {
    return new Logger(
      { error: false, warning: false, info: false, requests: false, debug: false, trace: false },
      () => {},
    );
  }

  /** A logger of errors, warnings and information lines into `sink` (tests read them). */
  static into(sink: LogSink): Logger {
    return new Logger(
      { error: true, warning: true, info: true, requests: false, debug: false, trace: false },
      sink,
    );
  }

  /** A logger whose lines also carry `[context]`. */
  child(context: string): Logger {
    return new Logger(this.flags, this.#sink, `${this.#prefix}[${context}] `);
  }

  #write(level: string, message: string): void {
    this.#sink(`${new Date().toISOString()} [${level}] ${escapeControls(this.#prefix + message)}`);
  }

  /** Logs an error (`LOG_ERROR`). */
  error(message: string): void {
    if (this.flags.error) this.#write("ERROR", message);
  }

  /** Logs a warning (`LOG_WARNING`). */
  warning(message: string): void {
    if (this.flags.warning) this.#write("WARNING", message);
  }

  /** Logs information (`LOG_INFO`). */
  info(message: string): void {
    if (this.flags.info) this.#write("INFO", message);
  }

  /** Logs a connection or HTTP request (`LOG_REQUESTS`). */
  request(message: string): void {
    if (this.flags.requests) this.#write("REQUEST", message);
  }

  /** Logs a debug detail (`LOG_DEBUG`). */
  debug(message: string): void {
    if (this.flags.debug) this.#write("DEBUG", message);
  }

  /** Logs a protocol message (`LOG_TRACE`). The message is built only when tracing is on. */
  trace(message: () => string): void {
    if (this.flags.trace) this.#write("TRACE", message());
  }
}
