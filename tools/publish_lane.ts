/**
 * One rendition of a `publish` run: its publisher client and the pump that feeds it from one
 * ffmpeg output, with the status and log reporting around them.
 *
 * @example
 * ```ts ignore
 * const lane = makeLane(options, { streamId: "room/a" }, firstSeq, signal);
 * lane.publisher.start();
 * await lane.pump.run(ffmpeg.stdout);
 * ```
 * @module
 */

import { Publisher, type PublisherErrorEvent } from "../shared/publisher/publisher.ts";
import type { Rendition } from "./ffmpeg.ts";
import type { PublishOptions } from "./publish_options.ts";
import { StreamPump } from "./stream_pump.ts";

/** Everything one rendition needs while running. */
export interface Lane {
  rendition: Rendition;
  publisher: Publisher;
  pump: StreamPump;
  fatal: Promise<PublisherErrorEvent>;
}

/** The one-line message for a publisher's fatal error. */
export function describeRefusal(event: PublisherErrorEvent): string {
  switch (event.code) {
    case "AUTH_FAILED":
      return `the node refused the token: ${event.message}`;
    case "UNREACHABLE":
      return `cannot reach the node: ${event.message}`;
    case "PUBLISHER_REPLACED":
      return "another publisher took the stream over";
    default:
      return `the node refused the stream (${event.code}): ${event.message}`;
  }
}

/** Resolves with the publisher's fatal error event, if one comes. */
export function fatalError(publisher: Publisher): Promise<PublisherErrorEvent> {
  return new Promise((resolve) => {
    publisher.addEventListener("error", (event) => {
      if (event.fatal) resolve(event);
    });
  });
}

/** Creates the publisher and the pump of one rendition. */
export function makeLane(
  options: PublishOptions,
  rendition: Rendition,
  firstSeq: number,
  signal?: AbortSignal,
): Lane {
  const publisher = new Publisher({
    firstSeq,
    url: options.url,
    streamId: rendition.streamId,
    token: options.token,
    secret: options.secret,
    parts: options.parts !== false,
    startTimeoutMs: options.startTimeoutMs ?? 10000,
    openTimeoutMs: Math.min(10000, options.startTimeoutMs ?? 10000),
    backoff: options.backoff,
  });
  const pump = new StreamPump({
    publisher,
    parts: options.parts !== false,
    fragmentDuration: options.fragmentDuration ?? 2,
    partDuration: options.partDuration ?? "frame",
    onPart: options.onPart && ((part) => options.onPart!(rendition.streamId, part)),
  });
  const report = () => {
    const stats = publisher.stats;
    const pumped = pump.stats;
    options.onStatus?.({
      streamId: rendition.streamId,
      state: publisher.state,
      fragments: stats.fragmentsSent,
      parts: stats.partsSent,
      bytes: stats.bytesSent,
      dropped: stats.fragmentsDropped,
      lastDuration: pumped.lastDuration,
    });
  };
  publisher.addEventListener("sent", report);
  publisher.addEventListener("dropped", report);
  publisher.addEventListener("state", (event) => {
    if (event.state === "ready" && event.previous === "reconnecting") {
      options.onLog?.(`${rendition.streamId}: connected again`);
    }
    report();
  });
  publisher.addEventListener("error", (event) => {
    if (!event.fatal && !signal?.aborted) {
      options.onLog?.(`${rendition.streamId}: ${event.message} (retrying)`);
    }
  });
  return { rendition, publisher, pump, fatal: fatalError(publisher) };
}
