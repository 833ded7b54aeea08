/**
 * `/operator`: the page (`GET`, with the session cookie or a bearer token) and its login (`POST`
 * of a form with the token, answered with the session cookie and a redirect). Without
 * `OPERATOR_TOKEN` there is no page; an address that keeps sending wrong tokens gets `429`.
 *
 * @example
 * ```ts ignore
 * const response = await operatorRoute(request, remoteAddress, access, config.operator.token !== "");
 * ```
 * @module
 */

import { readBuiltFile } from "../player_files.ts";
import type { Access, OperatorAccess } from "./access.ts";
import { type OperatorAssets, operatorHeaders, operatorLoginPage, operatorPage } from "./page.ts";

/** Largest login form read, in bytes (a token and its field name). */
const MAX_FORM_BYTES = 4096;

/** A plain-text answer. */
export function textResponse(
  body: string,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** `429` for an address that is backed off. */
export function backedOff(access: Extract<Access, { kind: "blocked" }>): Response {
  return textResponse("too many wrong operator tokens from your address; retry later", 429, {
    "retry-after": String(access.retryAfterSeconds),
  });
}

/** The built style and script, read once they are there. */
let assets: OperatorAssets | null = null;

async function operatorAssets(): Promise<OperatorAssets> {
  if (assets !== null) return assets;
  const [style, script] = await Promise.all(
    ["operator.css", "operator.js"].map(async (name) => {
      const bytes = await readBuiltFile(name);
      return bytes === null ? null : new TextDecoder().decode(bytes);
    }),
  );
  const found = { style: style ?? "", script };
  if (script !== null) assets = found;
  return found;
}

async function loginPage(problem: string): Promise<Response> {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  const { style } = await operatorAssets();
  return new Response(operatorLoginPage(nonce, style, problem), {
    status: 401,
    headers: { ...operatorHeaders(nonce), "www-authenticate": 'Bearer realm="hls-websocket-cdn"' },
  });
}

/** The token of a login form, or null when the body is not one (or too large). */
async function formToken(request: Request): Promise<string | null> {
  if (!/^application\/x-www-form-urlencoded/i.test(request.headers.get("content-type") ?? "")) {
    return null;
  }
  const reader = request.body?.getReader();
  if (reader === undefined) return null;
  const decoder = new TextDecoder();
  let body = "";
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel();
      return null;
    }
    body += decoder.decode(value, { stream: true });
  }
  return new URLSearchParams(body + decoder.decode()).get("token");
}

/** Answers `GET` and `POST /operator`. */
export async function operatorRoute(
  request: Request,
  remoteAddress: string,
  access: OperatorAccess,
  enabled: boolean,
): Promise<Response> {
  if (!enabled) return textResponse("not found: /operator (set OPERATOR_TOKEN to serve it)", 404);
  if (request.method === "POST") {
    const token = await formToken(request);
    if (token === null) return await loginPage("Type the operator token.");
    const result = access.login(token, remoteAddress);
    if (result.kind === "blocked") return backedOff(result);
    if (result.kind !== "operator") return await loginPage("That is not the operator token.");
    return new Response(null, {
      status: 303,
      headers: {
        location: "/operator",
        "set-cookie": access.sessionCookie(request),
        "cache-control": "no-store",
      },
    });
  }
  const result = access.check(request, remoteAddress);
  if (result.kind === "blocked") return backedOff(result);
  if (result.kind !== "operator") return await loginPage("");
  const nonce = crypto.randomUUID().replaceAll("-", "");
  return new Response(operatorPage(nonce, await operatorAssets()), {
    headers: operatorHeaders(nonce),
  });
}
