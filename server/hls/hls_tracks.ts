/**
 * The streams a node serves as HLS: the first request for a stream finds it through the node's
 * sources, exactly as a WebSocket `PULL` does (a local publication, or a relay that this starts),
 * and attaches an {@linkcode HlsTrack} to it. A track no request asked for during the inactivity
 * period is detached (a relay then closes after its own inactivity period); an ended one is kept
 * a few seconds for the clients that reload to see `EXT-X-ENDLIST`. One clock for all tracks
 * sweeps them, their blocked requests and their fMP4 copies (dropped when no longer wanted): no
 * request has a timer of its own.
 *
 * @example
 * ```ts ignore
 * const tracks = new HlsTracks({ sources, nodeId: "A", config: config.hls, signer, metrics });
 * const track = await tracks.get("room/a"); // throws STREAM_NOT_FOUND
 * tracks.destroy();
 * ```
 * @module
 */

import type { HlsConfig } from "../config.ts";
import type { SourceChain } from "../sources/chain.ts";
import { extendRelayPath } from "../sources/relay/relay_path.ts";
import type { Stream } from "../stream.ts";
import type { HlsMetrics } from "./hls_metrics.ts";
import { HlsTrack } from "./hls_track.ts";
import type { UriSigner } from "./uri_signer.ts";

/** How the tracks are set up. */
export interface HlsTracksOptions {
  /** Where streams come from. */
  sources: Pick<SourceChain, "find">;
  /** This node's id (for the relay path). */
  nodeId: string;
  /** `HLS_*`. */
  config: HlsConfig;
  /** Signs media URIs. */
  signer: UriSigner;
  /** Counters. */
  metrics: HlsMetrics;
  /** How long a stream lookup may take, ms. @default 10000 */
  findTimeoutMs?: number;
}

interface Entry {
  track: HlsTrack;
  stream: Stream;
  lastUsed: number;
  endedAt?: number;
}

/** How often tracks and waiters are swept. */
const SWEEP_MS = 200;
/** How long an ended track still answers. */
const ENDED_KEEP_MS = 5000;

/** The HLS tracks of a node. */
export class HlsTracks {
  #options: HlsTracksOptions;
  #entries = new Map<string, Entry>();
  #pending = new Map<string, Promise<HlsTrack>>();
  #ticker: ReturnType<typeof setInterval>;
  #abort = new AbortController();

  /** Creates the registry and its one clock. */
  constructor(options: HlsTracksOptions) {
    this.#options = options;
    this.#ticker = setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Tracks served now. */
  get tracks(): HlsTrack[] {
    return [...this.#entries.values()].map((entry) => entry.track);
  }

  /** The track of stream `id`, started (and the stream found) on first use. */
  get(id: string): Promise<HlsTrack> {
    const entry = this.#entries.get(id);
    if (entry !== undefined) {
      entry.lastUsed = performance.now();
      return Promise.resolve(entry.track);
    }
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = this.#start(id).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  async #start(id: string): Promise<HlsTrack> {
    const signal = AbortSignal.any([
      this.#abort.signal,
      AbortSignal.timeout(this.#options.findTimeoutMs ?? 10_000),
    ]);
    const stream = await this.#options.sources.find(
      { stream: id, onlySource: false, via: extendRelayPath([], this.#options.nodeId) },
      signal,
    );
    const existing = this.#entries.get(id);
    if (existing !== undefined && existing.stream === stream) return existing.track;
    if (existing !== undefined) this.#drop(id, existing);
    const { config, signer } = this.#options;
    const track = new HlsTrack(id, {
      partTarget: config.partTargetSeconds,
      segments: config.segments,
      signer,
    });
    const entry: Entry = { track, stream, lastUsed: performance.now() };
    this.#entries.set(id, entry);
    stream.attach(track, {});
    this.#options.metrics.tracks.set(this.#entries.size);
    return track;
  }

  #drop(id: string, entry: Entry): void {
    if (this.#entries.get(id) === entry) this.#entries.delete(id);
    entry.stream.detach(entry.track);
    entry.track.waiters.releaseAll(false);
    this.#options.metrics.tracks.set(this.#entries.size);
  }

  #sweep(): void {
    const now = performance.now();
    const idleMs = this.#options.config.inactivitySeconds * 1000;
    let waiting = 0;
    let fmp4Tracks = 0;
    let fmp4Bytes = 0;
    for (const [id, entry] of this.#entries) {
      entry.track.waiters.sweep(now);
      entry.track.sweepFmp4(now);
      if (entry.track.fmp4Active) {
        fmp4Tracks++;
        fmp4Bytes += entry.track.fmp4Bytes;
      }
      waiting += entry.track.waiters.size;
      if (entry.track.ended !== null) entry.endedAt ??= now;
      if (
        now - entry.lastUsed > idleMs ||
        (entry.endedAt !== undefined && now - entry.endedAt > ENDED_KEEP_MS)
      ) {
        this.#drop(id, entry);
      }
    }
    this.#options.metrics.waiting.set(waiting);
    this.#options.metrics.fmp4Tracks.set(fmp4Tracks);
    this.#options.metrics.fmp4Bytes.set(fmp4Bytes);
  }

  /** Detaches every track and stops the clock. */
  destroy(): void {
    clearInterval(this.#ticker);
    this.#abort.abort();
    for (const [id, entry] of this.#entries) this.#drop(id, entry);
  }
}
