/**
 * Typed reading of environment variables for the configuration: each method names the variable
 * and the value when the value is bad, so start-up stops with one clear line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, EnvReader } from "./env_reader.ts";
 * const read = new EnvReader({ HTTP_PORT: "8080", LOG_INFO: "maybe" });
 * assert(read.port("HTTP_PORT", 80) === 8080);
 * assert.throws(() => read.boolean("LOG_INFO", true), ConfigError);
 * ```
 * @module
 */

/** A bad configuration value; its message is the one line printed before the node exits. */
export class ConfigError extends Error {
  /** Creates the error for variable `name` with value `value`, saying what was expected. */
  constructor(name: string, value: string, expected: string) {
    super(`${name}=${JSON.stringify(value)}: ${expected}`);
    this.name = "ConfigError";
  }
}

/** Reads typed values from environment variables; a bad value throws a {@linkcode ConfigError} naming it. */
export class EnvReader {
  #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  string(name: string, fallback = ""): string {
    return this.#env[name] ?? fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.#env[name];
    if (value === undefined || value.trim() === "") return fallback;
    switch (value.trim().toUpperCase()) {
      case "YES":
      case "TRUE":
      case "1":
        return true;
      case "NO":
      case "FALSE":
      case "0":
        return false;
    }
    throw new ConfigError(name, value, "expected YES or NO");
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.#env[name];
    if (value === undefined || value.trim() === "") return fallback;
    const trimmed = value.trim();
    const number = Number(trimmed);
    if (!/^-?\d+$/.test(trimmed) || number < min || number > max) {
      throw new ConfigError(name, value, `expected a whole number from ${min} to ${max}`);
    }
    return number;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.#env[name];
    if (value === undefined || value.trim() === "") return fallback;
    const number = Number(value.trim());
    if (!Number.isFinite(number) || number < min || number > max) {
      throw new ConfigError(name, value, `expected a number from ${min} to ${max}`);
    }
    return number;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, 0, 65535);
  }

  list(name: string): string[] {
    return this.string(name).split(",").map((item) => item.trim()).filter((item) => item !== "");
  }

  /** One of `allowed` (compared in lower case), or `fallback` when empty. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name).trim().toLowerCase() || fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(
        name,
        value,
        `expected ${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`,
      );
    }
    return value as T;
  }

  /** A `host:port` list (`[v6]:port` too); a bare host gets `defaultPort`. Undefined when empty. */
  hostPorts(name: string, defaultPort: number): { host: string; port: number }[] | undefined {
    const items = this.list(name);
    if (items.length === 0) return undefined;
    return items.map((item) => {
      const match = /^(?:\[([^\]]+)\]|([^:\[\]]+))(?::(\d{1,5}))?$/.exec(item);
      const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
      if (match === null || port > 65535) {
        throw new ConfigError(name, item, "expected a comma separated list of host:port");
      }
      return { host: match[1] ?? match[2], port };
    });
  }

  /** A comma separated list that `check` accepts (it throws a `RangeError` naming the bad entry). */
  checkedList(name: string, check: (entries: string[]) => unknown): string[] {
    const entries = this.list(name);
    try {
      check(entries);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new ConfigError(name, this.string(name), error.message);
    }
    return entries;
  }

  /** An `http://` or `https://` URL, or empty. */
  httpUrl(name: string): string {
    return this.#url(name, ["http:", "https:"], "expected an http:// or https:// URL");
  }

  /**
   * A `ws://` or `wss://` URL without credentials (a node never sends credentials taken from a
   * URL), or empty.
   */
  webSocketUrl(name: string): string {
    const value = this.#url(name, ["ws:", "wss:"], "expected a ws:// or wss:// URL");
    if (value !== "") {
      const url = new URL(value);
      if (url.username !== "" || url.password !== "") {
        throw new ConfigError(name, "(hidden)", "expected a URL without user name or password");
      }
    }
    return value;
  }

  #url(name: string, protocols: string[], expected: string): string {
    const value = this.string(name).trim();
    if (value === "") return "";
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch { /* reported below */ }
    if (url === undefined || !protocols.includes(url.protocol)) {
      throw new ConfigError(name, value, expected);
    }
    return value;
  }
}
