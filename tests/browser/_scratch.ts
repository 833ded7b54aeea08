import { pullToken } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { launchBrowser, sleep } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";

const path = Deno.args[0] ?? "auto";
const seconds = Number(Deno.args[1] ?? 20);
await using node = await startNode({});
await using browser = await launchBrowser();
const media = await tsFragments({ seconds, fragmentSeconds: 2 });
const publisher = new LivePublisher({ url: node.wsUrl, stream: "s", media, parts: true });
publisher.start();
await sleep(Number(Deno.args[2] ?? 2500));
if (Deno.args[3]) {
  const first = await browser.page(
    `${node.httpUrl}/player/watch.html?stream=s&token=${await pullToken("s")}&path=transmux`,
  );
  await sleep(6000);
  await first.close();
}
const page = await browser.page(
  `${node.httpUrl}/player/watch.html?stream=s&token=${await pullToken("s")}&path=${path}&debug=1`,
);
for (let i = 0; i < 14; i++) {
  await sleep(2000);
  console.log(
    "TICK",
    await page.evaluate(
      `(() => { const v = document.querySelector("video"); const b = []; for (let i = 0; i < v.buffered.length; i++) b.push(v.buffered.start(i).toFixed(2) + "-" + v.buffered.end(i).toFixed(2)); const s = window.watch.player.stats; return [v.currentTime.toFixed(2), b.join(" "), s.state, s.latency && s.latency.toFixed(2), s.decodedFrames, v.readyState, v.paused].join(" | "); })()`,
    ),
  );
}
publisher.stop();
