/**
 * Test support: a `Worker` that runs the transmux worker's job in this process. It answers each
 * request in a later task with the in-process {@linkcode TransmuxCore} (or the test's own
 * `answer`), can hold its answers back and release them in any order, and can fail as a worker
 * whose script does not load. {@linkcode installFakeWorker} makes it the global `Worker`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Transmuxer } from "../transmux/transmuxer.ts";
 * import { installFakeWorker } from "./fake_worker.ts";
 * using workers = installFakeWorker();
 * const transmuxer = new Transmuxer({ workerUrl: "http://127.0.0.1/worker.js" });
 * assert.deepEqual(await transmuxer.transmux(new Uint8Array(0), false), {});
 * assert(workers.created.length === 1 && transmuxer.inWorker);
 * transmuxer.destroy();
 * ```
 * @module
 */

import { TransmuxCore } from "../transmux/transmux_core.ts";
import type { TransmuxRequest, TransmuxResponse } from "../transmux/transmuxer.ts";

/** A worker in this process. */
export class FakeWorker {
  /** The script URL it was started with. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: TransmuxRequest[] = [];
  /** Set by the page: answers. */
  onmessage: ((event: MessageEvent<TransmuxResponse>) => void) | null = null;
  /** Set by the page: the script failed. */
  onerror: ((event: ErrorEvent) => void) | null = null;
  /** Whether `terminate()` was called. */
  terminated = false;
  /** Hold answers back until `release()`. */
  holding = false;
  /** How a request is answered. @default the in-process TransmuxCore */
  answer: (request: TransmuxRequest) => TransmuxResponse;
  #core = new TransmuxCore();
  #held: TransmuxResponse[] = [];

  /** Starts; the ready signal follows in a later task. */
  constructor(url: string | URL) {
    this.url = String(url);
    this.answer = (request) => {
      try {
        return { id: request.id, output: this.#core.transmux(request.data, request.reset) };
      } catch (error) {
        return { id: request.id, error: String(error) };
      }
    };
    this.#send({ id: -1, ready: true });
  }

  /** Takes a request. */
  postMessage(request: TransmuxRequest): void {
    this.requests.push(request);
    const response = this.answer(request);
    if (this.holding) this.#held.push(response);
    else this.#send(response);
  }

  /** Sends the held answers, in the order of `order` (indexes into them) or as they came. */
  release(order?: number[]): void {
    const held = this.#held;
    this.#held = [];
    this.holding = false;
    for (const index of order ?? held.map((_, index) => index)) this.#send(held[index]);
  }

  /** Fails as a worker whose script cannot load. */
  fail(message: string): void {
    this.onerror?.(new ErrorEvent("error", { message, cancelable: true }));
  }

  /** Stops answering. */
  terminate(): void {
    this.terminated = true;
  }

  #send(response: TransmuxResponse): void {
    setTimeout(() => {
      if (!this.terminated) this.onmessage?.(new MessageEvent("message", { data: response }));
    }, 0);
  }
}

/** The fake workers started while {@linkcode installFakeWorker} is in force. */
export interface FakeWorkers extends Disposable {
  /** Every worker started, in order. */
  readonly created: FakeWorker[];
}

/** Makes {@linkcode FakeWorker} the global `Worker` until the result is disposed. */
export function installFakeWorker(): FakeWorkers {
  const scope = globalThis as { Worker?: unknown };
  const saved = scope.Worker;
  const created: FakeWorker[] = [];
  scope.Worker = class extends FakeWorker {
    constructor(url: string | URL) {
      super(url);
      created.push(this);
    }
  };
  return {
    created,
    [Symbol.dispose]() {
      scope.Worker = saved;
    },
  };
}
