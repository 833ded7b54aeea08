/**
 * Builds the player: the one module that owns the bundler (esbuild) and the declaration emitter
 * (TypeScript). `deno task build` writes `client/dist/`:
 *
 * - `hls-websocket-cdn.mjs`: ES module for bundlers and `<script type="module">`;
 * - `hls-websocket-cdn.min.js`: minified script that defines the global `HlsWebSocketCdn`;
 * - `hls-websocket-cdn.worker.js`: the transmux worker (loaded next to either of the above);
 * - `hls-websocket-cdn.d.ts` (`.d.mts`) and `types/`: TypeScript declarations;
 * - `watch.html` + `watch.js`: the watch page the node serves under `/player/`;
 * - `operator.js` + `operator.css`: the operator page's script and style, which the node inlines
 *   into `/operator` under the page's nonce.
 *
 * @example
 * ```ts ignore
 * import { buildPlayer } from "./build.ts";
 * const { outDir, files } = await buildPlayer();
 * ```
 * @module
 */

import * as esbuild from "esbuild";
import ts from "typescript";

const CLIENT = new URL("../client/", import.meta.url);
const ROOT = new URL("../", CLIENT);

/** Options of {@linkcode buildPlayer}. */
export interface BuildOptions {
  /** Output folder. @default client/dist/ */
  outDir?: URL;
  /** Also emit TypeScript declarations (the slow part, about 3 s). @default true */
  declarations?: boolean;
}

/** What a build wrote. */
export interface BuildResult {
  /** Output folder. */
  outDir: URL;
  /** File names written, relative to `outDir`. */
  files: string[];
}

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Builds every artifact of the player into `outDir`. */
export async function buildPlayer(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = options.outDir ?? new URL("dist/", CLIENT);
  await Deno.mkdir(outDir, { recursive: true });
  const common: esbuild.BuildOptions = {
    bundle: true,
    target: "es2022",
    absWorkingDir: path(ROOT),
    logLevel: "error",
    legalComments: "none",
  };
  /** Every bundle: its entry (in `client/`), its file (in `outDir`), and how it is built. */
  const bundles: [entry: string, file: string, options: esbuild.BuildOptions][] = [
    ["index.ts", "hls-websocket-cdn.mjs", { format: "esm", sourcemap: true }],
    ["index.ts", "hls-websocket-cdn.min.js", {
      format: "iife",
      globalName: "HlsWebSocketCdn",
      minify: true,
      sourcemap: true,
    }],
    ["transmux/worker.ts", "hls-websocket-cdn.worker.js", { format: "iife", minify: true }],
    ["watch/watch.ts", "watch.js", { format: "iife", minify: true }],
    ["operator/operator_page.ts", "operator.js", { format: "iife", minify: true }],
  ];
  try {
    await Promise.all(bundles.map(([entry, file, options]) =>
      esbuild.build({
        ...common,
        ...options,
        entryPoints: [path(new URL(entry, CLIENT))],
        outfile: path(new URL(file, outDir)),
      })
    ));
  } finally {
    await esbuild.stop();
  }
  await Deno.copyFile(new URL("watch/watch.html", CLIENT), new URL("watch.html", outDir));
  await Deno.copyFile(new URL("operator/operator.css", CLIENT), new URL("operator.css", outDir));
  if (options.declarations !== false) emitDeclarations(outDir);
  const files: string[] = [];
  for await (const entry of Deno.readDir(outDir)) if (entry.isFile) files.push(entry.name);
  return { outDir, files: files.sort() };
}

/** Writes `types/` with tsc's declaration emit, and the entry `hls-websocket-cdn.d.ts`. */
function emitDeclarations(outDir: URL): void {
  const typesDir = new URL("types/", outDir);
  const program = ts.createProgram([path(new URL("index.ts", CLIENT))], {
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    strict: true,
    skipLibCheck: true,
    types: [],
    rootDir: path(ROOT),
    outDir: path(typesDir),
    baseUrl: path(ROOT),
    paths: { "mux.js/lib/partial/transmuxer.js": ["client/transmux/mux_js.d.ts"] },
  });
  // Declarations name their imports `.js`, as consumers' resolvers expect next to `.d.ts` files.
  const result = program.emit(undefined, (fileName, text) => {
    Deno.mkdirSync(fileName.slice(0, fileName.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(
      fileName,
      text.replace(/((?:from\s+|import\()["'](?:\.{1,2}\/)[^"']*)\.ts(["'])/g, "$1.js$2"),
    );
  });
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (problems.length > 0) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => path(ROOT),
      getNewLine: () => "\n",
    };
    throw new Error(`declaration emit failed:\n${ts.formatDiagnostics(problems, host)}`);
  }
  const entry = [
    "// Types of the HLS WebSocket CDN player (hls-websocket-cdn.mjs / hls-websocket-cdn.min.js).",
    'export * from "./types/client/index.js";',
    'export { default } from "./types/client/index.js";',
    "",
  ].join("\n");
  // `.d.mts` is what TypeScript reads for `hls-websocket-cdn.mjs`; `.d.ts` for everything else.
  Deno.writeTextFileSync(new URL("hls-websocket-cdn.d.ts", outDir), entry);
  Deno.writeTextFileSync(new URL("hls-websocket-cdn.d.mts", outDir), entry);
}

if (import.meta.main) {
  const started = performance.now();
  const { outDir, files } = await buildPlayer();
  console.log(
    `built ${files.join(", ")} into ${path(outDir)} in ${
      Math.round(performance.now() - started)
    } ms`,
  );
}
