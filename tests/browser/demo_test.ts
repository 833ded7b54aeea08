/**
 * `deno task demo` end to end: the command starts a node and the test pattern, prints the watch
 * page's address, and the page plays it in real Chromium. A screenshot of the video area must show
 * a picture (not a blank or black box); it is kept in `tests/.output/demo.png`.
 */

import { assert, assertAtMost } from "../helpers/assert.ts";
import { hasFfmpeg } from "../helpers/media.ts";
import { freePort } from "../helpers/node_process.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { recentLatency, record, waitFirstFrame, waitPlayed } from "./helpers/pages.ts";
import { decodePng, imageStats } from "./helpers/png.ts";

const ROOT = new URL("../../", import.meta.url);

/** Reads the demo's output until the line with the watch page's address. */
async function watchUrl(output: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = output.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const match = text.match(/^Watch: (\S+)$/m);
      if (match) {
        // Keep draining the output so the demo never blocks on a full pipe.
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
        })();
        return match[1];
      }
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`no watch address in the demo's output:\n${text}`);
}

Deno.test({
  name: "deno task demo plays the test pattern in the watch page",
  ignore: !(await hasFfmpeg()),
  fn: async () => {
    const demo = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tools/demo.ts", "--port", String(freePort())],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await using browser = await launchBrowser();
    try {
      const url = await watchUrl(demo.stdout, 30000);
      const page = await browser.page(url);
      const firstFrame = await waitFirstFrame(page, 10000);
      await waitPlayed(page, 2, 10000);
      const result = record(page);
      const video = page.locator("video");
      const screenshot = await video.screenshot();
      await Deno.mkdir(new URL("tests/.output/", ROOT), { recursive: true });
      await Deno.writeFile(new URL("tests/.output/demo.png", ROOT), screenshot);
      const image = await decodePng(screenshot);
      const stats = imageStats(image);
      const latency = recentLatency(await result, 8);
      console.log(
        `  demo: first frame ${firstFrame} ms, latency ${latency.latency.toFixed(3)} s, ` +
          `picture ${image.width}x${image.height} luminance ${stats.mean.toFixed(0)} ± ${
            stats.deviation.toFixed(0)
          }, ${stats.colors} colours`,
      );
      assert((await result).errors.length === 0, (await result).errors.join("; "));
      assert(stats.deviation > 20, `the video area is flat (deviation ${stats.deviation})`);
      assert(stats.colors > 20, `the video area has ${stats.colors} colours`);
      assertAtMost(latency.latency, 2, "demo latency (s)");
      await page.close();
    } finally {
      try {
        Deno.kill(demo.pid, "SIGTERM");
      } catch { /* gone */ }
      await demo.status;
    }
  },
});
