/**
 * A private `redis-server` for tests: started on a free 127.0.0.1 port without persistence, stopped
 * by pid, and restartable on the same port (to test a Redis outage). Never the machine's own Redis.
 *
 * @example
 * ```ts ignore
 * await using redis = await startRedis();
 * await redis.command("SET", "a", "1");
 * assertEquals(await redis.command("GET", "a"), "1");
 * await redis.kill();      // an outage
 * await redis.restart();   // same port, empty
 * ```
 * @module
 */

import { hasCommand } from "./commands.ts";
import { freePort } from "./node_process.ts";

/** Whether `redis-server` is installed. */
export function hasRedis(): Promise<boolean> {
  return hasCommand("redis-server");
}

/** A running (or stopped) private Redis. */
export class RedisProcess {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Working directory of the server (cluster and sentinel state), removed by `dispose`. */
  readonly dir: string;
  #options: RedisOptions;
  #child: Deno.ChildProcess | null = null;

  private constructor(port: number, dir: string, options: RedisOptions) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  /** Starts a server on a free port (or `port`); resolves when it answers `PING`. */
  static async start(options: RedisOptions = {}): Promise<RedisProcess> {
    const dir = await Deno.makeTempDir({ prefix: "hlswscdn-redis-" });
    const redis = new RedisProcess(options.port ?? freePort(), dir, options);
    try {
      await redis.restart();
    } catch (error) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw error;
    }
    return redis;
  }

  /** The pid of the running server. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the server is running. */
  get running(): boolean {
    return this.#child !== null;
  }

  /** Starts the server again on the same port (empty: nothing is saved). */
  async restart(): Promise<void> {
    if (this.#child !== null) throw new Error("redis-server is already running");
    const config = this.#options.config;
    if (config !== undefined) await Deno.writeTextFile(`${this.dir}/redis.conf`, config);
    this.#child = new Deno.Command("redis-server", {
      cwd: this.dir,
      args: [
        ...(config === undefined ? [] : [`${this.dir}/redis.conf`]),
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        ...(this.#options.password === undefined ? [] : ["--requirepass", this.#options.password]),
        ...(this.#options.args ?? []),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        if (await this.command("PING") === "PONG") return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server on port ${this.port} did not start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Sends one command over a fresh plain connection (RESP, after `AUTH` when the server has a
   * password) and returns the reply as text or null.
   */
  async command(...args: string[]): Promise<string | null> {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    try {
      const password = this.#options.password;
      const commands = password === undefined ? [args] : [["AUTH", password], args];
      const encoder = new TextEncoder();
      let request = "";
      for (const command of commands) {
        request += `*${command.length}\r\n`;
        for (const arg of command) request += `$${encoder.encode(arg).byteLength}\r\n${arg}\r\n`;
      }
      await connection.write(encoder.encode(request));
      let reply = "";
      const buffer = new Uint8Array(65536);
      const decoder = new TextDecoder();
      for (;;) {
        const read = await connection.read(buffer);
        if (read === null) throw new Error("connection closed");
        reply += decoder.decode(buffer.subarray(0, read));
        const replies = parseReplies(reply, commands.length);
        if (replies !== undefined) return replies[commands.length - 1];
      }
    } finally {
      connection.close();
    }
  }

  /** Stops the server by pid (`SIGTERM`, or `SIGKILL` for a crash) and waits for it to exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#child = null;
    try {
      Deno.kill(child.pid, signal);
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  }

  /** Kills the server at once (a crash, as far as clients can tell). */
  kill(): Promise<void> {
    return this.stop("SIGKILL");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** How to start a private Redis. */
export interface RedisOptions {
  /** Port. @default a free port */
  port?: number;
  /** Extra command-line arguments (`--cluster-enabled yes`, `--sentinel`). */
  args?: string[];
  /** Text of a configuration file to start from (Sentinel needs one it can rewrite). */
  config?: string;
  /** `requirepass`: the server's password (the helper's own commands authenticate). */
  password?: string;
}

/**
 * Parses `count` complete simple replies (status, error, integer, bulk string, null); undefined
 * while incomplete. An error reply throws.
 */
function parseReplies(text: string, count: number): (string | null)[] | undefined {
  const replies: (string | null)[] = [];
  let rest = text;
  while (replies.length < count) {
    const end = rest.indexOf("\r\n");
    if (end === -1) return undefined;
    const head = rest.slice(1, end);
    switch (rest[0]) {
      case "+":
      case ":":
        replies.push(head);
        rest = rest.slice(end + 2);
        break;
      case "-":
        throw new Error(`redis: ${head}`);
      case "_":
        replies.push(null);
        rest = rest.slice(end + 2);
        break;
      case "$": {
        const length = Number(head);
        if (length < 0) {
          replies.push(null);
          rest = rest.slice(end + 2);
          break;
        }
        const body = new TextEncoder().encode(rest.slice(end + 2));
        if (body.byteLength < length + 2) return undefined;
        replies.push(new TextDecoder().decode(body.subarray(0, length)));
        rest = new TextDecoder().decode(body.subarray(length + 2));
        break;
      }
      default:
        throw new Error(`unsupported reply: ${rest.slice(0, 40)}`);
    }
  }
  return replies;
}

/** Starts a private Redis; shorthand for {@linkcode RedisProcess.start}. */
export function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  return RedisProcess.start(options);
}
