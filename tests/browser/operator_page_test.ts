/**
 * The operator page in headless Chromium: without the token it asks for it; with it, it draws live
 * SVG charts from `/stats` under its strict Content-Security-Policy (no violation, no script
 * error), signs in by POST (the token never in the address, never readable by the page's script),
 * and lists the streams.
 */

import { chromium } from "playwright-core";
import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { ensurePlayerBuilt } from "./helpers/browser.ts";

const TOKEN = "operator-page-token-0123456789";

Deno.test("the operator page draws live charts with its token, and asks for it without", async () => {
  await ensurePlayerBuilt(); // the page's script is built with the player
  await using node = await startNode({ env: { OPERATOR_TOKEN: TOKEN, LOG_INFO: "NO" } });
  const media = await tsFragments();
  await using publisher = await publisherFor(node.wsUrl, "room/charts");
  await using _spectator = await spectatorFor(node.wsUrl, "room/charts");
  const pump = setInterval(() => publisher.sendFragment(1, media[0].data), 300);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" || message.text().includes("Content Security Policy")) {
        problems.push(message.text());
      }
    });

    await page.goto(`${node.httpUrl}/operator`);
    assertEquals(await page.locator("input[name=token]").count(), 1, "asks for the token");
    problems.length = 0; // the 401 of the page that asked
    await page.fill("input[name=token]", TOKEN);
    await page.click("button");
    await page.waitForURL((url) => url.pathname === "/operator" && url.search === "");
    // Two polls give rates; wait for lines with several points in every chart.
    await page.waitForFunction(
      () => {
        // deno-lint-ignore no-explicit-any
        const document = (globalThis as any).document;
        // deno-lint-ignore no-explicit-any
        return [...document.querySelectorAll("svg")].every((svg: any) =>
          // deno-lint-ignore no-explicit-any
          [...svg.querySelectorAll("polyline")].some((line: any) =>
            (line.getAttribute("points") ?? "").split(" ").length >= 2
          )
        );
      },
      undefined,
      { timeout: 15_000 },
    );
    const legend = await page.locator("section").first().innerText();
    assert(legend.includes("publishers: 1") && legend.includes("spectators: 1"), legend);
    const traffic = await page.locator("section").nth(1).innerText();
    assert(/in: [1-9]/.test(traffic), `traffic shows media in: ${traffic}`);
    assertEquals(await page.locator("tbody td").first().innerText(), "room/charts");
    assert(!page.url().includes(TOKEN), "the token never went into the address");
    assertEquals(
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).document.cookie),
      "",
      "the session cookie is HttpOnly: the page's script cannot read it",
    );
    assertEquals(problems, [], "no script error, no CSP violation");
  } finally {
    clearInterval(pump);
    await browser.close();
  }
});
