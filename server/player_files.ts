/**
 * The built player under `/player/` (`SERVE_PLAYER`): what is public, and how it is served; and
 * the one place that reads what `deno task build` wrote (`client/dist/`), for the operator page
 * too.
 *
 * - Public: the player's scripts (`hls-websocket-cdn.mjs`, `.min.js`, the worker), its TypeScript
 *   declarations (`.d.ts`, `.d.mts`, `types/`), and the watch page (`watch.html`, `watch.js`, also
 *   at `/player/`). Source maps are not served: pages do not need them, and developers have them
 *   in their own build. Nor are the operator page's script and style: the node inlines them into
 *   `/operator` for the operator.
 * - CORS: the scripts and declarations are meant for other sites' pages and tools, so they carry
 *   `Access-Control-Allow-Origin: *` (they hold nothing but the open-source player). The watch
 *   page and its script are this node's own: no CORS.
 * - The watch page has a Content-Security-Policy (its own scripts and styles, WebSocket
 *   connections, media from `blob:`) and may not be framed: pages embed the player module, not the
 *   watch page (its address carries a pull token).
 *
 * @example
 * ```ts ignore
 * const response = await playerFile("hls-websocket-cdn.mjs");
 * ```
 * @module
 */

/** Where `deno task build` writes the player. */
const PLAYER_DIR = new URL("../client/dist/", import.meta.url);

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  ts: "text/plain; charset=utf-8",
  mts: "text/plain; charset=utf-8",
};

/** Files of the watch page: this node's own, locked down. */
const WATCH_PAGE = new Set(["watch.html", "watch.js"]);

/** Built files that are not the player's: never served under `/player/`. */
const NOT_PUBLIC = new Set(["operator.js", "operator.css"]);

/** A file `deno task build` wrote, or null when it is not there (not built yet). */
export async function readBuiltFile(name: string): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    return await Deno.readFile(new URL(name, PLAYER_DIR));
  } catch {
    return null;
  }
}

/** The policy of the watch page. */
export const WATCH_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; " +
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob:; " +
    "worker-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; " +
    "base-uri 'none'; form-action 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

function notFound(name: string, hint = ""): Response {
  return new Response(`not found: /player/${name}${hint}\n`, {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** A file of the built player; `""` is the watch page. */
export async function playerFile(name: string): Promise<Response> {
  if (name === "") name = "watch.html";
  const extension = name.slice(name.lastIndexOf(".") + 1);
  if (
    !/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(name) ||
    !(extension in TYPES) || NOT_PUBLIC.has(name)
  ) {
    return notFound(name);
  }
  const body = await readBuiltFile(name);
  if (body === null) return notFound(name, " (build the player with 'deno task build')");
  const own = WATCH_PAGE.has(name);
  return new Response(body, {
    headers: {
      "content-type": TYPES[extension],
      "cache-control": "no-cache",
      ...(own ? WATCH_PAGE_HEADERS : { "access-control-allow-origin": "*" }),
    },
  });
}
