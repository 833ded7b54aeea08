/**
 * `deno task compile` builds one binary that runs a working node. `deno compile` downloads its
 * runtime (`denort`) unless `DENORT_BIN` points at one; where that download cannot happen, the test
 * prints why and skips.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("the compiled binary runs a working node", async () => {
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
    if (!result.success) {
      if (/denort|dl\.deno\.land|error sending request|dns error|Connect/i.test(output)) {
        const reason = output.split("\n").find((line) =>
          /error sending request|dns error/i.test(line)
        ) ?? output;
        console.log(
          `SKIPPED: deno compile could not download its runtime (set DENORT_BIN to a local denort): ${reason.trim()}`,
        );
        return;
      }
      throw new Error(`deno task compile failed:\n${output}`);
    }
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
});
