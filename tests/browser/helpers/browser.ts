/**
 * Headless Chromium for player tests (Debian's `/usr/bin/chromium` through playwright-core; never a
 * downloaded browser), the built player, and helpers to read what a page recorded.
 *
 * @example
 * ```ts ignore
 * await using browser = await launchBrowser();
 * const page = await browser.page(`${node.httpUrl}/player/watch.html?stream=a&token=${token}`);
 * ```
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";
import { buildPlayer } from "../../../tools/build.ts";

let built: Promise<unknown> | undefined;

/** Builds the player once per test process (the node serves `client/dist/`). */
export function ensurePlayerBuilt(): Promise<unknown> {
  return built ??= buildPlayer({ declarations: false });
}

/** One browser for a test file. */
export class TestBrowser {
  /** The browser. */
  readonly browser: Browser;
  #pages: Page[] = [];

  constructor(browser: Browser) {
    this.browser = browser;
  }

  /** Opens a page (console errors are echoed when `TEST_BROWSER_LOGS` is set). */
  async page(url?: string): Promise<Page> {
    const page = await this.browser.newPage({ viewport: { width: 800, height: 600 } });
    this.#pages.push(page);
    page.on("console", (message) => {
      if (Deno.env.get("TEST_BROWSER_LOGS")) {
        console.log(`[page] ${message.type()}: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
    if (url !== undefined) await page.goto(url);
    return page;
  }

  /** Closes every page opened so far. */
  async closePages(): Promise<void> {
    await Promise.all(this.#pages.map((page) => page.close().catch(() => {})));
    this.#pages = [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closePages();
    await this.browser.close();
  }
}

/** Launches headless Chromium and builds the player. */
export async function launchBrowser(): Promise<TestBrowser> {
  await ensurePlayerBuilt();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  return new TestBrowser(browser);
}

/** Polls `check` in the page until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitInPage<T>(
  page: Page,
  check: () => T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await page.evaluate(check);
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const state = await page.evaluate(() =>
    JSON.stringify(
      (globalThis as unknown as { watch?: { states: string[]; errors: string[] } }).watch ?? {},
    ).slice(0, 2000)
  );
  throw new Error(`${what}: not within ${timeoutMs} ms (page record: ${state})`);
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
