/**
 * The transmux worker (`hls-websocket-cdn.worker.js`): runs {@linkcode TransmuxCore} off the
 * page's thread. Messages in: `{ id, data, reset }`; out: `{ id, output }` or `{ id, error }`.
 * Output buffers are transferred, never copied.
 *
 * @module
 */

/// <reference lib="webworker" />

import { TransmuxCore } from "./transmux_core.ts";
import type { TransmuxRequest, TransmuxResponse } from "./transmuxer.ts";

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;
const core = new TransmuxCore();

scope.onmessage = (event: MessageEvent<TransmuxRequest>) => {
  const { id, data, reset } = event.data;
  try {
    const output = core.transmux(data, reset);
    const transfer: ArrayBuffer[] = [];
    for (const segment of [output.video, output.audio]) {
      if (segment === undefined) continue;
      segment.data = segment.data.slice();
      transfer.push(segment.data.buffer as ArrayBuffer);
      if (segment.init !== undefined) segment.init = segment.init.slice();
    }
    scope.postMessage({ id, output } satisfies TransmuxResponse, transfer);
  } catch (error) {
    scope.postMessage({ id, error: String(error) } satisfies TransmuxResponse);
  }
};
scope.postMessage({ id: -1, ready: true } satisfies TransmuxResponse);
