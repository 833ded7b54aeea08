/**
 * Plain HTTP routes of a node: `GET /health`, `/metrics`, `/stats`, the operator page
 * `/operator` (`OPERATOR_TOKEN`), the built player under `/player/` (`SERVE_PLAYER`), and a clear
 * 4xx for anything else. A plain function of a `Request`,
 * so tests can call it without a network.
 *
 * @example
 * ```ts ignore
 * const handle = createHttpHandler(node);
 * const response = await handle(new Request("http://node/health"), "127.0.0.1");
 * assert(response.status === 200);
 * ```
 * @module
 */

import type { CdnNode } from "./node.ts";
import { isOperator } from "./operator/access.ts";
import { operatorHeaders, operatorLoginPage, operatorPage } from "./operator/page.ts";
import { nodeStats } from "./stats.ts";

/** Answers plain (non-WebSocket) HTTP requests for a node. */
export type HttpHandler = (request: Request, remoteAddress: string) => Promise<Response>;

function text(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Builds the HTTP handler of a node. */
export function createHttpHandler(node: CdnNode): HttpHandler {
  return async (request, remoteAddress) => {
    const url = new URL(request.url);
    const response = await route(node, request, url);
    node.metrics.httpResponses.inc({ status: String(response.status) });
    node.log.request(`${remoteAddress} ${request.method} ${url.pathname} ${response.status}`);
    return response;
  };
}

async function route(node: CdnNode, request: Request, url: URL): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text("method not allowed", 405, { allow: "GET, HEAD" });
  }
  switch (url.pathname) {
    case "/health":
      return node.shuttingDown ? text("shutting down", 503) : text("OK - HLS WebSocket CDN");
    case "/metrics":
      if (!allowed(node, request, node.config.operator.metricsPublic)) return unauthorized();
      return new Response(await node.metrics.registry.metrics(), {
        headers: { "content-type": node.metrics.registry.contentType, "cache-control": "no-store" },
      });
    case "/stats":
      if (!allowed(node, request, node.config.operator.statsPublic)) return unauthorized(node);
      return Response.json(await nodeStats(node), { headers: { "cache-control": "no-store" } });
    case "/operator":
      return operator(node, request);
  }
  if (node.config.servePlayer && url.pathname === "/player") {
    return new Response(null, { status: 308, headers: { location: `/player/${url.search}` } });
  }
  if (node.config.servePlayer && url.pathname.startsWith("/player/")) {
    return await playerFile(url.pathname.slice("/player/".length));
  }
  if (node.isWebSocketPath(url.pathname)) {
    return text(
      "this is the WebSocket endpoint of an HLS WebSocket CDN node: connect with a WebSocket client",
      426,
      {
        upgrade: "websocket",
      },
    );
  }
  return text(`not found: ${url.pathname}`, 404);
}

/** The route is open (`STATS_PUBLIC`), or the request has the operator token. */
function allowed(node: CdnNode, request: Request, open: boolean): boolean {
  return open || isOperator(request, node.config.operator.token);
}

function unauthorized(node?: CdnNode): Response {
  const hint = node?.config.operator.token === ""
    ? " (set OPERATOR_TOKEN to read /stats, or STATS_PUBLIC=YES to open it to anyone)"
    : " (Authorization: Bearer <token>)";
  return text(`the operator token is required${hint}`, 401, {
    "www-authenticate": 'Bearer realm="hls-websocket-cdn"',
  });
}

/** The operator page (`OPERATOR_TOKEN`); without a token configured there is none. */
function operator(node: CdnNode, request: Request): Response {
  const token = node.config.operator.token;
  if (token === "") return text("not found: /operator (set OPERATOR_TOKEN to serve it)", 404);
  const nonce = crypto.randomUUID().replaceAll("-", "");
  if (!isOperator(request, token)) {
    return new Response(operatorLoginPage(nonce), {
      status: 401,
      headers: {
        ...operatorHeaders(nonce),
        "www-authenticate": 'Bearer realm="hls-websocket-cdn"',
      },
    });
  }
  return new Response(operatorPage(nonce), { headers: operatorHeaders(nonce) });
}

/** Where `deno task build` writes the player. */
const PLAYER_DIR = new URL("../client/dist/", import.meta.url);

const PLAYER_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  map: "application/json; charset=utf-8",
  ts: "text/plain; charset=utf-8",
  mts: "text/plain; charset=utf-8",
};

/** A file of the built player (`SERVE_PLAYER`); `/player/` is the watch page. */
async function playerFile(name: string): Promise<Response> {
  if (name === "") name = "watch.html";
  const extension = name.slice(name.lastIndexOf(".") + 1);
  if (
    !/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(name) ||
    !(extension in PLAYER_TYPES)
  ) {
    return text(`not found: /player/${name}`, 404);
  }
  try {
    const body = await Deno.readFile(new URL(name, PLAYER_DIR));
    return new Response(body, {
      headers: {
        "content-type": PLAYER_TYPES[extension],
        "cache-control": "no-cache",
        "access-control-allow-origin": "*",
      },
    });
  } catch {
    return text(`not found: /player/${name} (build the player with 'deno task build')`, 404);
  }
}
