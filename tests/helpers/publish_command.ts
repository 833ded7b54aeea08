/**
 * The `publish` command as a child process (`deno run tools/publish.ts`, what `deno task publish`
 * runs), for end-to-end and browser tests: its stderr collected, its exit awaited or forced, and
 * the renditions the ABR tests publish.
 * @module
 */

import { TEST_SECRETS } from "./node_process.ts";

const ROOT = new URL("../../", import.meta.url);

/** The top rendition of the ABR tests' group. */
export const TOP_RENDITION = "room/live/1280x720-30~2500";
/** The lower rendition of the ABR tests' group. */
export const LOW_RENDITION = "room/live/640x360-30~800";

/** A running `deno task publish` (as `deno run`, the same thing). */
export class PublishCommand {
  readonly child: Deno.ChildProcess;
  stderr = "";
  readonly status: Promise<Deno.CommandStatus>;

  constructor(args: string[], env: Record<string, string> = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-run",
        "--allow-env",
        "tools/publish.ts",
        ...args,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of child.stderr) {
        this.stderr += decoder.decode(chunk, { stream: true });
      }
    })();
    this.status = child.status.then(async (status) => {
      await reading;
      return status;
    });
  }

  /** Waits for the exit (killing the command after `timeoutMs`). */
  async exit(timeoutMs = 30000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), timeoutMs)
    );
    const result = await Promise.race([this.status, timeout]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.signal("SIGKILL");
      await this.status;
      throw new Error(`publish did not exit within ${timeoutMs} ms:\n${this.stderr}`);
    }
    return result.code;
  }

  /** Sends `signal` to the command (nothing if it is gone). */
  signal(signal: Deno.Signal): void {
    try {
      Deno.kill(this.child.pid, signal);
    } catch { /* gone */ }
  }

  /** The numbers of the final summary line. */
  summary(): {
    fragments: number;
    seconds: number;
    parts: number;
    fromFfmpeg: number;
    sent: number;
  } {
    const match =
      /(\d+) fragments \(([\d.]+) s\), (\d+) parts, (\d+) bytes from ffmpeg, (\d+) bytes sent/
        .exec(this.stderr);
    if (match === null) throw new Error(`no summary in:\n${this.stderr}`);
    const [fragments, seconds, parts, fromFfmpeg, sent] = match.slice(1).map(Number);
    return { fragments, seconds, parts, fromFfmpeg, sent };
  }

  /** Stops the command (SIGTERM) and returns everything it wrote to stderr. */
  async stop(): Promise<string> {
    this.signal("SIGTERM");
    await this.status;
    return this.stderr;
  }
}

/**
 * `publish --test-pattern` of {@linkcode TOP_RENDITION} and {@linkcode LOW_RENDITION} (keyframes
 * aligned, 1 s fragments, the default frame parts) to the node at `url`.
 */
export function publishRenditions(url: string): PublishCommand {
  return new PublishCommand([
    "--url",
    url,
    "--secret",
    TEST_SECRETS.PUSH_SECRET,
    "--test-pattern",
    "--fragment-duration",
    "1",
    "--rendition",
    TOP_RENDITION,
    "--rendition",
    LOW_RENDITION,
  ]);
}
