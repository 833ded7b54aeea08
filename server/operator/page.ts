/**
 * The operator page (`GET /operator`, with `OPERATOR_TOKEN`): live charts of a node drawn from
 * `/stats` every two seconds, as plain SVG, with nothing loaded from elsewhere. The page never
 * holds the token: its login form POSTs it once, and the session cookie that answers (HttpOnly)
 * goes with every request to `/stats`. Its script and style are TypeScript and CSS in
 * `client/operator/`, built with the player; this module writes the HTML around them, inline
 * under the page's nonce.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { operatorPage } from "./page.ts";
 * const html = operatorPage("r4nd0m", { style: "body {}", script: "poll();" });
 * assert(html.includes('<script nonce="r4nd0m">poll();</script>'));
 * ```
 * @module
 */

/** The page's style and script, as built (`client/operator/`, bundled by `tools/build.ts`). */
export interface OperatorAssets {
  /** `operator.css`. */
  style: string;
  /** `operator.js`; null when the player has not been built. */
  script: string | null;
}

/** What the page says when its script has not been built. */
const NOT_BUILT = "the operator page is not built: run 'deno task build' (or 'deno task start')";

/** The operator page; `nonce` allows its inline script and style under the page's CSP. */
export function operatorPage(nonce: string, assets: OperatorAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>HLS WebSocket CDN node</title>
<style nonce="${nonce}">${assets.style}</style>
</head>
<body>
<header><h1>HLS WebSocket CDN</h1><span id="node"></span><span id="uptime"></span><span id="state"></span></header>
<p id="error">${assets.script === null ? NOT_BUILT : ""}</p>
<main></main>
<script nonce="${nonce}">${assets.script ?? ""}</script>
</body>
</html>
`;
}

/**
 * The page shown without a valid token: a form that POSTs it (never in the address), and a line
 * saying why when a previous attempt failed.
 */
export function operatorLoginPage(nonce: string, style: string, problem = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>Operator token</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<form method="post" action="/operator">
${
    problem === ""
      ? ""
      : `<p id="error">${problem}</p>\n`
  }<label>Operator token <input type="password" name="token" autocomplete="off" autofocus></label>
<button>Open</button>
</form>
</body>
</html>
`;
}

/** The headers of both pages: no caching, no framing, nothing loaded from elsewhere. */
export function operatorHeaders(nonce: string): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy":
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}' 'unsafe-inline'; ` +
      "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
}
