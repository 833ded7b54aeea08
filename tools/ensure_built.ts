/**
 * What `deno task start` runs before the node: builds what the node serves from `client/dist/`
 * (the player, its watch page, the operator page's script and style) when any of it is missing,
 * so a fresh clone serves its watch and operator pages at once. The node itself may not run
 * programs (`deno task start` grants it no `--allow-run`); building is this step's job, and takes
 * a few seconds once.
 *
 * @example
 * ```ts ignore
 * const missing = await missingBuiltFiles();
 * if (missing.length > 0) await buildPlayer();
 * ```
 * @module
 */

import { buildPlayer } from "./build.ts";

/** The built files a node serves (`/player/`, `/operator`). */
export const SERVED_FILES: readonly string[] = [
  "hls-websocket-cdn.mjs",
  "hls-websocket-cdn.min.js",
  "hls-websocket-cdn.worker.js",
  "hls-websocket-cdn.d.ts",
  "hls-websocket-cdn.d.mts",
  "watch.html",
  "watch.js",
  "operator.js",
  "operator.css",
];

/** The served files missing from `dir` (the node's `client/dist/`). */
export async function missingBuiltFiles(
  dir: URL = new URL("../client/dist/", import.meta.url),
): Promise<string[]> {
  const missing: string[] = [];
  for (const name of SERVED_FILES) {
    try {
      await Deno.stat(new URL(name, dir));
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

if (import.meta.main) {
  const missing = await missingBuiltFiles();
  if (missing.length > 0) {
    const started = performance.now();
    console.error(`building the player and the operator page (missing: ${missing.join(", ")})`);
    await buildPlayer();
    console.error(`built in ${Math.round(performance.now() - started)} ms`);
  }
}
