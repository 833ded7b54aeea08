/**
 * Bridges `node:http` requests and responses to the Web `Request`/`Response` the node's handler
 * speaks, so the same handler serves both transports.
 *
 * @example
 * ```ts ignore
 * const request = toWebRequest(incoming, false);
 * await writeWebResponse(new Response("OK"), outgoing);
 * ```
 * @module
 */

import type http from "node:http";
import { Readable } from "node:stream";

/** The headers of a Node request as Web `Headers`. */
export function toHeaders(request: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** The full URL of a Node request. */
export function requestUrl(request: http.IncomingMessage, secure: boolean): URL {
  const host = request.headers.host ?? "localhost";
  try {
    return new URL(request.url ?? "/", `${secure ? "https" : "http"}://${host}`);
  } catch {
    return new URL(request.url ?? "/", "http://localhost");
  }
}

/** Builds a Web `Request` (headers and, for methods with one, a streamed body) from a Node one. */
export function toWebRequest(request: http.IncomingMessage, secure: boolean): Request {
  const headers = toHeaders(request);
  const url = requestUrl(request, secure);
  const method = request.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && !request.headers.upgrade;
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(request) as ReadableStream<Uint8Array>) : undefined,
    // @ts-ignore: `duplex` is required by fetch for streamed bodies but missing from the DOM types.
    duplex: hasBody ? "half" : undefined,
  });
}

/** Writes a Web `Response` to a Node response, streaming the body. */
export async function writeWebResponse(
  answer: Response,
  response: http.ServerResponse,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  answer.headers.forEach((value, name) => {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...[previous].flat(), value];
  });
  response.writeHead(answer.status, answer.statusText, headers);
  if (!answer.body) {
    response.end();
    return;
  }
  const reader = answer.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!response.write(value)) {
        await new Promise<void>((resolve) => {
          response.once("drain", resolve);
          response.once("close", resolve);
        });
      }
      if (response.destroyed) break;
    }
  } finally {
    reader.releaseLock();
    response.end();
  }
}
