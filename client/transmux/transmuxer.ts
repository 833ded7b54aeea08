/**
 * The transmux stage as the player sees it: chunks in, fMP4 out, in order, from a Web Worker when
 * one can start (so transmuxing never competes with rendering), else on the page's thread.
 *
 * The worker is started through a small blob script that loads the worker file with
 * `importScripts`, so it also works when the player is loaded from another origin than the page.
 * If the worker cannot start (CSP, missing file), chunks are transmuxed on the page's thread.
 *
 * @example
 * ```ts ignore
 * const transmuxer = new Transmuxer({ workerUrl: "/player/hls-websocket-cdn.worker.js" });
 * const { video, audio } = await transmuxer.transmux(bytes, false);
 * transmuxer.destroy();
 * ```
 * @module
 */

import { TransmuxCore, type TransmuxOutput } from "./transmux_core.ts";

/** A request to the worker. */
export interface TransmuxRequest {
  /** Request number. */
  id: number;
  /** MPEG-TS bytes. */
  data: Uint8Array;
  /** Forget the timeline first. */
  reset: boolean;
}

/** An answer from the worker (`id` -1 is its ready signal). */
export interface TransmuxResponse {
  /** Request number. */
  id: number;
  /** fMP4 output. */
  output?: TransmuxOutput;
  /** Failure text. */
  error?: string;
  /** Ready signal. */
  ready?: boolean;
}

/** How the transmuxer runs. */
export interface TransmuxerOptions {
  /** URL of the worker script; without it, or when it fails, the page's thread is used. */
  workerUrl?: string;
  /** Debug log. */
  log?: (message: string) => void;
}

interface Waiting {
  data: Uint8Array;
  reset: boolean;
  resolve: (output: TransmuxOutput) => void;
  reject: (error: Error) => void;
}

/** Transmuxes chunks in order, in a worker or inline. */
export class Transmuxer {
  #options: TransmuxerOptions;
  #worker: Worker | null = null;
  #blobUrl: string | null = null;
  #inline: TransmuxCore | null = null;
  #waiting = new Map<number, Waiting>();
  #nextId = 0;
  #destroyed = false;

  /** Starts the worker if a URL is given. */
  constructor(options: TransmuxerOptions = {}) {
    this.#options = options;
    if (options.workerUrl !== undefined && typeof Worker !== "undefined") {
      this.#startWorker(options.workerUrl);
    }
  }

  /** Whether chunks go to a worker. */
  get inWorker(): boolean {
    return this.#worker !== null;
  }

  #startWorker(url: string): void {
    try {
      const absolute = new URL(url, globalThis.location?.href).href;
      const source = `importScripts(${JSON.stringify(absolute)});`;
      this.#blobUrl = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const worker = new Worker(this.#blobUrl);
      worker.onmessage = (event: MessageEvent<TransmuxResponse>) => this.#answer(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#fallBack(`worker failed: ${event.message || "cannot load " + absolute}`);
      };
      this.#worker = worker;
    } catch (error) {
      this.#fallBack(`worker cannot start: ${error}`);
    }
  }

  /** Moves to the page's thread and redoes what the worker had not answered. */
  #fallBack(reason: string): void {
    this.#options.log?.(`${reason}; transmuxing on the page's thread`);
    this.#stopWorker();
    this.#inline = new TransmuxCore();
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const item of waiting) this.#runInline(item);
  }

  #runInline(item: Waiting): void {
    try {
      item.resolve((this.#inline ??= new TransmuxCore()).transmux(item.data, item.reset));
    } catch (error) {
      item.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #answer(response: TransmuxResponse): void {
    if (response.ready) return;
    const item = this.#waiting.get(response.id);
    if (item === undefined) return;
    this.#waiting.delete(response.id);
    if (response.error !== undefined) item.reject(new Error(response.error));
    else item.resolve(response.output ?? {});
  }

  /** Converts one chunk; `reset` forgets the previous timeline first. */
  transmux(data: Uint8Array, reset: boolean): Promise<TransmuxOutput> {
    if (this.#destroyed) return Promise.reject(new Error("transmuxer destroyed"));
    return new Promise((resolve, reject) => {
      const item = { data, reset, resolve, reject };
      if (this.#worker === null) {
        this.#runInline(item);
        return;
      }
      const id = this.#nextId++;
      this.#waiting.set(id, item);
      this.#worker.postMessage({ id, data, reset } satisfies TransmuxRequest);
    });
  }

  #stopWorker(): void {
    this.#worker?.terminate();
    this.#worker = null;
    if (this.#blobUrl !== null) URL.revokeObjectURL(this.#blobUrl);
    this.#blobUrl = null;
  }

  /** Stops the worker, revokes its URL, rejects pending chunks. */
  destroy(): void {
    this.#destroyed = true;
    this.#stopWorker();
    this.#inline = null;
    for (const item of this.#waiting.values()) item.reject(new Error("transmuxer destroyed"));
    this.#waiting.clear();
  }
}
