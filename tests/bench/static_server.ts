/**
 * A small static HTTP server for the latency benchmark: files of one folder (an HLS playlist and
 * its segments), plus fixed routes (a page, a script), never cached, open to every origin. Like a
 * CDN edge serving conventional HLS, but on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * await using server = new StaticServer("/tmp/hls", { "/index.html": { body: html, type: "text/html" } });
 * await fetch(`${server.url}/live.m3u8`);
 * ```
 * @module
 */

/** A fixed route's answer. */
export interface FixedFile {
  /** The bytes or text. */
  body: Uint8Array | string;
  /** `Content-Type`. */
  type: string;
}

const TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  js: "text/javascript",
  html: "text/html; charset=utf-8",
};

/** Serves a folder and fixed routes on a free port of 127.0.0.1. */
export class StaticServer {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #root: string;
  readonly #fixed: Record<string, FixedFile>;
  /** Requests answered, by extension. */
  readonly requests: Record<string, number> = {};

  /** Starts serving `root` under `/` (fixed routes win). */
  constructor(root: string, fixed: Record<string, FixedFile> = {}) {
    this.#root = root;
    this.#fixed = fixed;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async #handle(request: Request): Promise<Response> {
    const path = decodeURIComponent(new URL(request.url).pathname);
    const extension = path.split(".").at(-1) ?? "";
    this.requests[extension] = (this.requests[extension] ?? 0) + 1;
    const headers = {
      "cache-control": "no-store",
      "access-control-allow-origin": "*",
      "content-type": TYPES[extension] ?? "application/octet-stream",
    };
    const fixed = this.#fixed[path];
    if (fixed !== undefined) {
      return new Response(fixed.body as BodyInit, {
        headers: { ...headers, "content-type": fixed.type },
      });
    }
    if (path.includes("..") || !/^\/[\w.-]+$/.test(path)) {
      return new Response("not found", { status: 404 });
    }
    try {
      return new Response(await Deno.readFile(`${this.#root}${path}`), { headers });
    } catch {
      return new Response("not found", { status: 404 });
    }
  }

  /** Stops serving. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
