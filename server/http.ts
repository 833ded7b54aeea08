/**
 * What the transport asks a node, built around it: its WebSocket endpoint, and the plain HTTP
 * routes `GET /health`, `/metrics`, `/stats`, the operator page `/operator` (`OPERATOR_TOKEN`;
 * `POST` to sign in), the built player under `/player/` (`SERVE_PLAYER`), Low-Latency HLS under
 * `/hls/` (`HLS_ENABLED`, `hls/hls_service.ts`), and a clear 4xx for
 * anything else. An address over its request rate gets `429` before any route. Every answer says
 * `X-Content-Type-Options: nosniff`. The HTTP side is a plain function of a `Request`, so tests can
 * call it without a network.
 *
 * @example
 * ```ts ignore
 * const handle = createHttpHandler(node);
 * const response = await handle(new Request("http://node/health"), "127.0.0.1");
 * assert(response.status === 200);
 * const listener = await wsTransport.listen(options, nodeRequestHandler(node));
 * ```
 * @module
 */

import type { CdnNode } from "./node.ts";
import type { Access } from "./operator/access.ts";
import { backedOff, operatorRoute, textResponse as text } from "./operator/routes.ts";
import { playerFile } from "./player_files.ts";
import { nodeStats } from "./stats.ts";
import type { RequestHandler } from "./transport/transport.ts";

/** Answers plain (non-WebSocket) HTTP requests for a node. */
export type HttpHandler = (request: Request, remoteAddress: string) => Promise<Response>;

/** Headers every answer of a node carries. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
};

/** `response` with the {@linkcode COMMON_HEADERS}. */
export function withCommonHeaders(response: Response): Response {
  try {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (a redirect made by Response.redirect): copy the response.
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(COMMON_HEADERS)) headers.set(name, value);
    return new Response(response.body, { status: response.status, headers });
  }
}

/** What a transport serves for `node`: upgrades go to the node, plain requests to its routes. */
export function nodeRequestHandler(node: CdnNode): RequestHandler {
  const http = createHttpHandler(node);
  return {
    isWebSocketPath: (pathname) => node.isWebSocketPath(pathname),
    fetch: http,
    onSocket: (socket, request) => node.onSocket(socket, request),
  };
}

/** Builds the HTTP handler of a node. */
export function createHttpHandler(node: CdnNode): HttpHandler {
  return async (request, remoteAddress) => {
    if (!node.admission.admitRequest(remoteAddress)) {
      // Counted, not logged: an address over its rate must not flood the log either.
      node.metrics.httpResponses.inc({ status: "429" });
      return withCommonHeaders(
        text("too many requests from your address; retry later", 429, { "retry-after": "1" }),
      );
    }
    const url = new URL(request.url);
    const response = withCommonHeaders(await route(node, request, url, remoteAddress));
    node.metrics.httpResponses.inc({ status: String(response.status) });
    node.log.request(
      `${remoteAddress} ${request.method} ${url.pathname.slice(0, 200)} ${response.status}`,
    );
    return response;
  };
}

async function route(
  node: CdnNode,
  request: Request,
  url: URL,
  remoteAddress: string,
): Promise<Response> {
  if (node.hls !== null && url.pathname.startsWith("/hls/")) {
    return await node.hls.handle(request, url);
  }
  if (url.pathname === "/operator" && request.method === "POST") {
    return operatorRoute(request, remoteAddress, node.operatorAccess, operatorEnabled(node));
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text("method not allowed", 405, { allow: "GET, HEAD" });
  }
  switch (url.pathname) {
    case "/health":
      return node.shuttingDown ? text("shutting down", 503) : text("OK - HLS WebSocket CDN");
    case "/metrics": {
      const access = node.operatorAccess.check(request, remoteAddress);
      if (access.kind === "blocked") return backedOff(access);
      if (!allowed(access, node.config.operator.metricsPublic)) return unauthorized();
      return new Response(await node.metrics.registry.metrics(), {
        headers: { "content-type": node.metrics.registry.contentType, "cache-control": "no-store" },
      });
    }
    case "/stats": {
      const access = node.operatorAccess.check(request, remoteAddress);
      if (access.kind === "blocked") return backedOff(access);
      if (!allowed(access, node.config.operator.statsPublic)) return unauthorized(node);
      const document = await nodeStats(node, { operator: access.kind === "operator" });
      return Response.json(document, { headers: { "cache-control": "no-store" } });
    }
    case "/operator":
      return operatorRoute(request, remoteAddress, node.operatorAccess, operatorEnabled(node));
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
  return text(`not found: ${url.pathname.slice(0, 200)}`, 404);
}

function operatorEnabled(node: CdnNode): boolean {
  return node.config.operator.token !== "";
}

/** The route is open (`STATS_PUBLIC`), or the request has the operator token or cookie. */
function allowed(access: Access, open: boolean): boolean {
  return open || access.kind === "operator";
}

function unauthorized(node?: CdnNode): Response {
  const hint = node?.config.operator.token === ""
    ? " (set OPERATOR_TOKEN to read /stats, or STATS_PUBLIC=YES to open it to anyone)"
    : " (Authorization: Bearer <token>)";
  return text(`the operator token is required${hint}`, 401, {
    "www-authenticate": 'Bearer realm="hls-websocket-cdn"',
  });
}
