/**
 * A test viewer of a rendition group: pulls `stream=<group>&group=1` with the `abr` capability
 * and parts, records every media message (which rendition it belongs to, from the `rendition=`
 * stamps), and answers each binary frame with a receive report (`R`), as a player does.
 *
 * @example
 * ```ts ignore
 * await using viewer = await GroupViewer.open(node.wsUrl, "room/live");
 * await viewer.waitFor((unit) => unit.rendition === low, 5000);
 * ```
 * @module
 */

import { Capability, CLIENT_CAPABILITIES } from "../../shared/capabilities.ts";
import type { Message } from "../../shared/protocol.ts";
import { pullToken, TestClient } from "./client.ts";

/** One media message as the viewer received it. */
export interface ViewerUnit {
  /** Its `F`/`P` message. */
  header: Extract<Message, { type: "F" | "P" }>;
  /** The rendition it belongs to (from the last `rendition=` stamp). */
  rendition: string;
  /** Binary size. */
  size: number;
  /** `performance.now()` when its binary arrived. */
  at: number;
  /** `Date.now()` when its binary arrived. */
  wallAt: number;
}

/** How a group viewer pulls. */
export interface GroupViewerOptions {
  /** Token (default: a pull token for the group). */
  auth?: string;
  /** Send receive reports. @default true */
  reports?: boolean;
}

/** A group viewer. */
export class GroupViewer {
  /** The client. */
  readonly client: TestClient;
  /** The `OK` answer. */
  readonly ok: Extract<Message, { type: "OK" }>;
  /** Media received so far. */
  readonly units: ViewerUnit[] = [];
  /** Other messages (after `OK`), in order. */
  readonly messages: Message[] = [];
  #reading: Promise<void>;
  #bytes = 0;
  #waiters = new Set<() => void>();

  private constructor(client: TestClient, ok: Extract<Message, { type: "OK" }>, reports: boolean) {
    this.client = client;
    this.ok = ok;
    this.#reading = this.#read(reports);
  }

  /** Pulls `group` at `url`; resolves after `OK` (throws on a refusal). */
  static async open(
    url: string,
    group: string,
    options: GroupViewerOptions = {},
  ): Promise<GroupViewer> {
    const client = await TestClient.connect(url);
    client.send({
      type: "PULL",
      stream: group,
      auth: options.auth ?? await pullToken(group),
      parts: true,
      maxInitialFragments: 0,
      group: true,
      caps: [...CLIENT_CAPABILITIES, Capability.ABR],
    });
    const answer = await client.nextMessage(10000);
    if (answer.type !== "OK") {
      client.close();
      throw new Error(`group PULL refused: ${JSON.stringify(answer)}`);
    }
    return new GroupViewer(client, answer, options.reports ?? true);
  }

  /** The rendition now (of the last media received). */
  get rendition(): string | undefined {
    return this.units.at(-1)?.rendition;
  }

  async #read(reports: boolean): Promise<void> {
    let header: ViewerUnit["header"] | null = null;
    let headerAt = 0;
    let rendition = "";
    for (;;) {
      let item;
      try {
        item = await this.client.next(60000);
      } catch {
        this.#wake();
        return;
      }
      if (item.kind === "text") {
        const message = item.message;
        if (message.type === "F" || message.type === "P") {
          header = message;
          headerAt = item.at;
          if (message.rendition !== undefined) rendition = message.rendition;
        } else if (message.type !== "H") {
          this.messages.push(message);
          this.#wake();
        }
        continue;
      }
      if (header === null) throw new Error("binary without F/P");
      const size = item.data.byteLength;
      this.#bytes += size;
      this.units.push({ header, rendition, size, at: item.at, wallAt: Date.now() });
      if (reports) {
        this.client.send({
          type: "R",
          bytes: this.#bytes,
          t: Math.round(item.at * 10) / 10,
          seq: header.seq,
          part: header.type === "P" ? header.part : undefined,
          size,
          span: Math.round((item.at - headerAt) * 10) / 10,
        });
      }
      header = null;
      this.#wake();
    }
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Waits until `condition` holds for some unit received (from `from` on); returns its index. */
  async waitFor(
    condition: (unit: ViewerUnit) => boolean,
    timeoutMs: number,
    from = 0,
  ): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.units.findIndex((unit, i) => i >= from && condition(unit));
      if (index !== -1) return index;
      const left = deadline - performance.now();
      if (left <= 0 || this.client.closed) {
        throw new Error(
          `not within ${timeoutMs} ms (${this.units.length} units, closed: ${!!this.client
            .closed})`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Closes the viewer. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.client[Symbol.asyncDispose]();
    await this.#reading;
  }
}
