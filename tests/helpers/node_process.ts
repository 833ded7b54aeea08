/**
 * Starts real node processes on free ports for end-to-end tests, and stops them by pid.
 *
 * @example
 * ```ts ignore
 * await using node = await startNode({ env: { FRAGMENT_BUFFER_MAX_LENGTH: "3" } });
 * const response = await fetch(`${node.httpUrl}/health`);
 * ```
 * @module
 */

/** The secrets every test node uses unless a test overrides them. */
export const TEST_SECRETS = {
  PULL_SECRET: "test-pull-secret",
  PUSH_SECRET: "test-push-secret",
} as const;

/** The operator token of every test node unless a test overrides it (it opens `/stats`). */
export const TEST_OPERATOR_TOKEN = "test-operator-token-0123456789";

const ROOT = new URL("../../", import.meta.url);

/** The transports the end-to-end suites run against (`TEST_TRANSPORTS`, default both). */
export function testTransports(): ("ws" | "deno")[] {
  const value = Deno.env.get("TEST_TRANSPORTS") ?? "ws,deno";
  return value.split(",").map((item) => item.trim()).filter((item): item is "ws" | "deno" =>
    item === "ws" || item === "deno"
  );
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race remains until the node binds it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options of {@linkcode startNode}. */
export interface StartNodeOptions {
  /** Extra environment variables (they win over the defaults; `undefined` removes a default). */
  env?: Record<string, string | undefined>;
  /** `WEBSOCKET_TRANSPORT`. @default "ws" */
  transport?: "ws" | "deno";
  /** Port to use. @default a free port */
  port?: number;
  /** Milliseconds to wait for `/health`. @default 15000 */
  readyTimeoutMs?: number;
  /** Command to run instead of `deno run server/main.ts` (for the compiled binary). */
  command?: string[];
}

/** A running node process. */
export class NodeProcess {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** HTTP port. */
  readonly port: number;
  /** Everything the node logged so far. */
  output = "";
  #done: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;

  constructor(child: Deno.ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.output += decoder.decode(chunk, { stream: true });
        if (Deno.env.get("TEST_NODE_LOGS")) await Deno.stderr.write(chunk);
      }
    };
    const logs = Promise.all([collect(child.stdout), collect(child.stderr)]);
    this.#done = child.status.then(async (status) => {
      await logs.catch(() => {});
      this.#status = status;
      return status;
    });
  }

  /** `ws://127.0.0.1:<port>/`. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** `http://127.0.0.1:<port>`. */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The pid. */
  get pid(): number {
    return this.child.pid;
  }

  /** Exit status once the process has ended. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Resolves when the process has exited. */
  exited(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** Sends a signal (by pid) and waits for the exit, killing it if it takes longer than `timeoutMs`. */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 15000): Promise<Deno.CommandStatus> {
    if (this.#status) return this.#status;
    try {
      Deno.kill(this.pid, signal);
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([this.#done, timeout]);
    clearTimeout(timer);
    if (!this.#status) {
      try {
        Deno.kill(this.pid, "SIGKILL");
      } catch { /* gone */ }
    }
    return await this.#done;
  }

  /** Kills the process at once (a crash, as far as peers can tell). */
  kill(): Promise<Deno.CommandStatus> {
    return this.stop("SIGKILL");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Waits until `GET url` answers 200, or throws after `timeoutMs`. */
export async function waitForHealth(
  url: string,
  timeoutMs: number,
  process?: NodeProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process?.status) {
      throw new Error(`node exited (${process.status.code}) before ready:\n${process.output}`);
    }
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${url}\n${process?.output ?? ""}`);
}

/** The node's command in `deno task start` (a task object whose dependencies build first). */
export function startTaskCommand(): string {
  const start = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks.start;
  return String(typeof start === "string" ? start : start.command);
}

/**
 * The command of `deno task start` (read from deno.json, so tests run the node exactly as it),
 * with one addition: the node may also read the system's temporary folder, where tests keep the
 * certificates, keys and `.env` files they make (a production node may not read it).
 */
export function nodeCommand(): string[] {
  const [, ...args] = startTaskCommand().split(/\s+/);
  const temp = Deno.env.get("TMPDIR") || "/tmp";
  return [
    Deno.execPath(),
    ...args.map((arg) => arg.startsWith("--allow-read=") ? `${arg},${temp}` : arg),
  ];
}

/** Spawns a node process with test secrets on a free port and waits until it is healthy. */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeProcess> {
  const port = options.port ?? freePort();
  const [command, ...args] = options.command ?? nodeCommand();
  const env: Record<string, string | undefined> = {
    ...TEST_SECRETS,
    HTTP_PORT: String(port),
    HTTP_BIND_ADDRESS: "127.0.0.1",
    EXTERNAL_WEBSOCKET_URL: `ws://127.0.0.1:${port}/`,
    WEBSOCKET_TRANSPORT: options.transport ?? "ws",
    LOG_REQUESTS: "NO",
    NO_COLOR: "1",
    ENV_FILE: "",
    OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: env as Record<string, string>,
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const node = new NodeProcess(child, port);
  try {
    await waitForHealth(`${node.httpUrl}/health`, options.readyTimeoutMs ?? 15000, node);
  } catch (error) {
    await node.kill();
    throw error;
  }
  return node;
}
