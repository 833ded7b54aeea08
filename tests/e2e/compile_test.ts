/**
 * `deno task compile` builds one binary that runs a working node. `deno compile` downloads its
 * runtime (`denort`) unless it is cached or `DENORT_BIN` points at one. Whether it can is probed
 * once, when this file is loaded, by compiling a one-line program: where only the runtime download
 * fails, the test is registered as ignored and the reason printed; any other outcome runs it.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";

const ROOT = new URL("../../", import.meta.url);

/** Why `deno compile` cannot get its runtime here, or null when it can (or fails otherwise). */
export function runtimeDownloadFailure(output: string): string | null {
  if (!/Setting up base binary/.test(output) || !/denort|dl\.deno\.land/.test(output)) return null;
  const line = output.split("\n").find((text) =>
    /error sending request|dns error|timed out|Connect/i.test(text)
  );
  return line === undefined ? null : line.trim();
}

/** Compiles a one-line program to learn whether `deno compile` can get its runtime. */
async function probeCompile(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "hlswscdn-compile-probe-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, "console.log(1);\n");
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--output", `${dir}/probe`, `${dir}/probe.ts`],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (result.success) return null;
    const decoder = new TextDecoder();
    return runtimeDownloadFailure(decoder.decode(result.stderr) + decoder.decode(result.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const cannotDownload = await probeCompile();
if (cannotDownload !== null) {
  console.log(
    `IGNORED: the compiled binary test: deno compile cannot download its runtime (set DENORT_BIN ` +
      `to a local denort): ${cannotDownload}`,
  );
}

Deno.test({
  name: "the compiled binary runs a working node",
  ignore: cannotDownload !== null,
  fn: compiledNode,
});

Deno.test("the runtime-download failure is told apart from other compile errors", () => {
  const download = [
    "Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip",
    "error: Writing deno compile executable to temporary file '/tmp/x.tmp'",
    "Caused by:",
    "    0: Setting up base binary.",
    "    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort.zip): " +
    "client error (Connect): dns error",
  ].join("\n");
  assert(runtimeDownloadFailure(download)?.startsWith("1: error sending request"));
  assertEquals(runtimeDownloadFailure('error: Module not found "file:///x.ts"'), null);
  assertEquals(runtimeDownloadFailure("error: TS2304 [ERROR]: Cannot find name 'x'."), null);
});

async function compiledNode(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hlswscdn-compile-" });
  const binary = `${dir}/hls-websocket-cdn`;
  try {
    // The `compile` task of deno.json (player build, then `deno compile`), writing to a temporary folder.
    const task: string =
      JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.compile;
    const compile = task.split("&&").map((part) => part.trim()).find((part) =>
      part.startsWith("deno compile")
    )!;
    const args = compile.split(/\s+/).slice(1).map((arg) =>
      arg === "dist/hls-websocket-cdn" ? binary : arg
    );
    assert(args.includes(binary), `the compile task writes dist/hls-websocket-cdn: ${task}`);
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "build"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert(build.success, `deno task build: ${new TextDecoder().decode(build.stderr)}`);
    const result = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(result.stderr) +
      new TextDecoder().decode(result.stdout);
    if (!result.success) throw new Error(`deno task compile failed:\n${output}`);
    await using node = await startNode({ command: [binary] });
    const media = await tsFragments();
    await using publisher = await publisherFor(node.wsUrl, "compiled");
    await using spectator = await spectatorFor(node.wsUrl, "compiled");
    publisher.sendFragment(media[0].duration, media[0].data);
    const received = await spectator.nextFragment();
    assertEquals(received.data.byteLength, media[0].data.byteLength);
    assert(received.data.every((byte, index) => byte === media[0].data[index]));
    // The player files are inside the binary.
    const player = await fetch(`${node.httpUrl}/player/`);
    assertEquals(player.status, 200);
    await player.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
