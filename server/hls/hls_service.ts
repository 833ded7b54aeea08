/**
 * The HLS wing's HTTP side, under `/hls/`: the media playlist of a stream
 * (`/hls/<stream id>/index.m3u8?token=<pull token>`, with blocking reloads `_HLS_msn`/`_HLS_part`),
 * the multivariant playlist of a rendition group (`/hls/<group>/master.m3u8?token=`), and the
 * signed segments and parts the playlists list (`s<msn>.ts`, `p<msn>.<part>.ts`, beside the
 * playlist). The same in fragmented MP4 (CMAF), for Apple's low-latency players:
 * `index.mp4.m3u8`, `master.mp4.m3u8`, `s<msn>.m4s`, `p<msn>.<part>.m4s` and `init-<hash>.mp4`
 * (the copy is made while wanted, see `fmp4_variant.ts`). Answers: 403 with a one-line reason for a bad, expired or other-stream token, a bad
 * or expired media signature or a page origin not allowed; 404 for an unknown stream or file;
 * 400 for a malformed blocking request; 503 when a blocked request waited three target durations.
 * CORS headers on every answer; media cacheable, playlists not. Nothing here logs a token or a
 * signature.
 *
 * @example
 * ```ts ignore
 * const hls = new HlsService({ config, verifier, sources, registry, knownStreams });
 * if (url.pathname.startsWith("/hls/")) return await hls.handle(request, url);
 * hls.destroy();
 * ```
 * @module
 */

import type client from "prom-client";
import { ErrorCode, ProtocolError } from "../../shared/errors.ts";
import { detectCodecs } from "../../shared/mpegts/codecs.ts";
import { parseRenditionId } from "../../shared/rendition.ts";
import { isValidStreamId } from "../../shared/stream_id.ts";
import type { NodeConfig } from "../config.ts";
import { OriginPolicy } from "../limits/origin_policy.ts";
import type { SourceChain } from "../sources/chain.ts";
import type { TokenVerifier } from "../token_verifier.ts";
import { HlsMetrics, type HlsRequestKind } from "./hls_metrics.ts";
import type { HlsFormat, HlsTrack } from "./hls_track.ts";
import { HlsTracks } from "./hls_tracks.ts";
import { multivariantPlaylist, type VariantEntry } from "./playlist.ts";
import { PullCheck } from "./pull_check.ts";
import { UriSigner } from "./uri_signer.ts";

/** What the HLS wing needs from the node. */
export interface HlsServiceOptions {
  /** Node configuration (`HLS_*`, `PULL_SECRET`, `ALLOWED_ORIGINS`, `NODE_ID`). */
  config: Pick<NodeConfig, "hls" | "auth" | "allowedOrigins" | "nodeId">;
  /** Token checks. */
  verifier: Pick<TokenVerifier, "verify">;
  /** Where streams come from. */
  sources: Pick<SourceChain, "find">;
  /** The node's metrics registry. */
  registry: client.Registry;
  /** Ids of the streams this node has now (published here or relayed), for multivariant playlists. */
  knownStreams(): string[];
}

const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";
const MEDIA_TYPE = "video/mp2t";
const MP4_TYPE = "video/mp4";
const SEGMENT = /^s(\d{1,15})\.(ts|m4s)$/;
const PART = /^p(\d{1,15})\.(\d{1,6})\.(ts|m4s)$/;
const INIT = /^init-[0-9a-f]{16}\.mp4$/;
const MEDIA_CACHE = "public, max-age=60, immutable";

/** A request's answer before the common headers. */
interface Answer {
  status: number;
  body?: Uint8Array;
  type?: string;
  cache?: string;
  headers?: Record<string, string>;
}

const encoder = new TextEncoder();

function plain(status: number, message: string, headers?: Record<string, string>): Answer {
  return {
    status,
    body: encoder.encode(message + "\n"),
    type: "text/plain; charset=utf-8",
    cache: "no-store",
    headers,
  };
}

/** The HLS side of a node. */
export class HlsService {
  /** Counters. */
  readonly metrics: HlsMetrics;
  /** The tracks served. */
  readonly tracks: HlsTracks;
  #options: HlsServiceOptions;
  #signer: UriSigner;
  #pull: PullCheck;
  #origins: OriginPolicy;
  #playlistBytes = {
    ts: new WeakMap<HlsTrack, { version: number; bytes: Uint8Array }>(),
    fmp4: new WeakMap<HlsTrack, { version: number; bytes: Uint8Array }>(),
  };

  /** Creates the wing (and the clock of its tracks). */
  constructor(options: HlsServiceOptions) {
    this.#options = options;
    this.metrics = new HlsMetrics(options.registry);
    this.#signer = new UriSigner(options.config.auth.pullSecret);
    this.#pull = new PullCheck(options.verifier);
    this.#origins = new OriginPolicy(options.config.allowedOrigins);
    this.tracks = new HlsTracks({
      sources: options.sources,
      nodeId: options.config.nodeId,
      config: options.config.hls,
      signer: this.#signer,
      metrics: this.metrics,
    });
  }

  /** Answers a request under `/hls/`. */
  async handle(request: Request, url: URL): Promise<Response> {
    const origin = request.headers.get("origin");
    let kind: HlsRequestKind = "other";
    let answer: Answer;
    if (!this.#origins.allows(origin)) {
      answer = plain(403, "pages from this origin may not play from this node (ALLOWED_ORIGINS)");
    } else if (request.method === "OPTIONS") {
      answer = { status: 204, cache: "max-age=86400" };
    } else if (request.method !== "GET" && request.method !== "HEAD") {
      answer = plain(405, "method not allowed", { allow: "GET, HEAD, OPTIONS" });
    } else {
      const route = this.#route(url.pathname);
      kind = route?.kind ?? "other";
      try {
        answer = route === null
          ? plain(404, "not found: /hls/<stream id>/index.m3u8?token=<pull token>")
          : await this.#answer(route, url.searchParams, request.signal);
      } catch (error) {
        answer = this.#failure(error);
      }
    }
    this.metrics.requests.inc({ kind, status: String(answer.status) });
    const headers = new Headers(answer.headers);
    headers.set("access-control-allow-origin", this.#origins.open || !origin ? "*" : origin);
    if (!this.#origins.open) headers.append("vary", "origin");
    if (request.method === "OPTIONS") {
      headers.set("access-control-allow-methods", "GET, HEAD, OPTIONS");
      headers.set("access-control-allow-headers", "*");
    }
    if (answer.type) headers.set("content-type", answer.type);
    if (answer.cache) headers.set("cache-control", answer.cache);
    const body = answer.body;
    headers.set("content-length", String(body?.byteLength ?? 0));
    if (body !== undefined && request.method === "GET") {
      this.metrics.bytes.inc({ kind }, body.byteLength);
    }
    return new Response(request.method === "GET" ? body as Uint8Array<ArrayBuffer> : null, {
      status: answer.status,
      headers,
    });
  }

  /** Detaches every track. */
  destroy(): void {
    this.tracks.destroy();
  }

  #route(pathname: string): Route | null {
    const segments = pathname.slice("/hls/".length).split("/");
    if (segments.length < 2) return null;
    const file = segments.pop()!;
    let id: string;
    try {
      id = segments.map(decodeURIComponent).join("/");
    } catch {
      return null;
    }
    if (!isValidStreamId(id)) return null;
    if (file === "index.m3u8") return { kind: "playlist", id, file, format: "ts" };
    if (file === "index.mp4.m3u8") return { kind: "playlist", id, file, format: "fmp4" };
    if (file === "master.m3u8") return { kind: "multivariant", id, file, format: "ts" };
    if (file === "master.mp4.m3u8") return { kind: "multivariant", id, file, format: "fmp4" };
    const segment = SEGMENT.exec(file);
    if (segment !== null) {
      const format = segment[2] === "ts" ? "ts" : "fmp4";
      return { kind: "segment", id, file, format, msn: Number(segment[1]) };
    }
    const part = PART.exec(file);
    if (part !== null) {
      const format = part[3] === "ts" ? "ts" : "fmp4";
      return { kind: "part", id, file, format, msn: Number(part[1]), part: Number(part[2]) };
    }
    if (INIT.test(file)) return { kind: "init", id, file, format: "fmp4" };
    return null;
  }

  async #answer(route: Route, query: URLSearchParams, signal: AbortSignal): Promise<Answer> {
    switch (route.kind) {
      case "playlist": {
        const reason = await this.#pull.reason(route.id, query.get("token") ?? "");
        if (reason !== null) return plain(403, reason);
        return await this.#playlist(await this.tracks.get(route.id), route.format, query, signal);
      }
      case "multivariant": {
        const token = query.get("token") ?? "";
        const reason = await this.#pull.reason(route.id, token);
        if (reason !== null) return plain(403, reason);
        return await this.#multivariant(route.id, route.format, token);
      }
      default: {
        const reason = this.#signer.verify(route.id, route.file, query);
        if (reason !== null) return plain(403, reason);
        const track = await this.tracks.get(route.id);
        if (route.format === "fmp4") return await this.#fmp4Media(track, route, signal);
        return route.kind === "segment"
          ? this.#media(track.segment(route.msn!))
          : await this.#part(track, route.msn!, route.part!, signal);
      }
    }
  }

  async #playlist(
    track: HlsTrack,
    format: HlsFormat,
    query: URLSearchParams,
    signal: AbortSignal,
  ): Promise<Answer> {
    const msnText = query.get("_HLS_msn");
    const partText = query.get("_HLS_part");
    let msn: number | undefined;
    let part: number | undefined;
    if (msnText !== null) {
      msn = Number(msnText);
      if (!Number.isInteger(msn) || msn < 0) return plain(400, "_HLS_msn must be an integer >= 0");
      if (partText !== null) {
        part = Number(partText);
        if (!Number.isInteger(part) || part < 0) {
          return plain(400, "_HLS_part must be an integer >= 0");
        }
      }
    } else if (partText !== null) {
      return plain(400, "_HLS_part needs _HLS_msn");
    }
    if (msn !== undefined && track.lastListed >= 0 && msn > track.lastListed + 2) {
      return plain(400, `_HLS_msn ${msn} is too far ahead of the playlist (${track.lastListed})`);
    }
    const ready = msn === undefined
      ? (t: HlsTrack) => t.lastComplete >= 0 || t.ended !== null
      : (t: HlsTrack) => t.has(msn, part, format);
    if (format === "fmp4") track.wantFmp4(); // the copy's parts are what the test waits for
    if (!ready(track)) {
      // Waiters of one key share one test: the formats wait under keys of their own.
      const key = `${format === "fmp4" ? "f" : ""}${
        msn === undefined ? "any" : `${msn}.${part ?? ""}`
      }`;
      const ok = await track.waiters.wait(key, ready, track.waitTimeoutMs, signal);
      this.metrics.blockedWaits.inc({ outcome: waitOutcome(ok, signal) });
      if (!ok) {
        return plain(503, "the playlist did not reach the requested part in time; retry", {
          "retry-after": "1",
        });
      }
    }
    if (format === "fmp4" && track.fmp4Supported === false) return unsupported();
    return {
      status: 200,
      body: this.#bytes(track, format),
      type: PLAYLIST_TYPE,
      cache: "no-cache",
    };
  }

  #bytes(track: HlsTrack, format: HlsFormat): Uint8Array {
    // The fMP4 copy starts (or is kept) before the version is read: starting it is an update.
    if (format === "fmp4") track.wantFmp4();
    const cache = this.#playlistBytes[format];
    const cached = cache.get(track);
    if (cached !== undefined && cached.version === track.version) return cached.bytes;
    const bytes = encoder.encode(track.playlist(format));
    cache.set(track, { version: track.version, bytes });
    return bytes;
  }

  #media(data: Uint8Array | undefined, type = MEDIA_TYPE): Answer {
    if (data === undefined) return plain(404, "this segment is not (or no longer) on this node");
    return { status: 200, body: data, type, cache: MEDIA_CACHE };
  }

  async #fmp4Media(track: HlsTrack, route: Route, signal: AbortSignal): Promise<Answer> {
    if (track.fmp4Supported === false) return unsupported();
    track.wantFmp4();
    if (route.kind === "init") return this.#media(track.fmp4Init(route.file), MP4_TYPE);
    if (route.kind === "segment") return this.#media(track.fmp4Segment(route.msn!), MP4_TYPE);
    const msn = route.msn!;
    const index = route.part!;
    if (track.part(msn, index) === undefined && track.mayCome(msn, index)) {
      await this.#partWait(track, msn, index, signal);
    }
    const part = track.fmp4Part(msn, index);
    if (part === undefined) return plain(404, "this part is not (or no longer) on this node");
    return this.#media(part, MP4_TYPE);
  }

  /** A preload hint: waits until part `index` of segment `msn` exists or cannot come. */
  async #partWait(track: HlsTrack, msn: number, index: number, signal: AbortSignal): Promise<void> {
    const ok = await track.waiters.wait(
      `p${msn}.${index}`,
      (t) => t.part(msn, index) !== undefined || !t.mayCome(msn, index),
      track.waitTimeoutMs,
      signal,
    );
    this.metrics.blockedWaits.inc({ outcome: waitOutcome(ok, signal) });
  }

  async #part(track: HlsTrack, msn: number, index: number, signal: AbortSignal): Promise<Answer> {
    let part = track.part(msn, index);
    if (part === undefined && track.mayCome(msn, index)) {
      // A preload hint: answered once the part exists.
      await this.#partWait(track, msn, index, signal);
      part = track.part(msn, index);
    }
    if (part === undefined) return plain(404, "this part is not (or no longer) on this node");
    return this.#media(part.data);
  }

  async #multivariant(group: string, format: HlsFormat, token: string): Promise<Answer> {
    const renditions = this.#options.knownStreams()
      .map((id) => parseRenditionId(id))
      .filter((id) => id !== null && id.group === group);
    if (renditions.length === 0) {
      return plain(404, "no rendition of this group is on this node");
    }
    const variants: VariantEntry[] = [];
    for (const rendition of renditions) {
      const track = await this.tracks.get(rendition!.streamId).catch(() => null);
      const name = encodeURIComponent(rendition!.streamId.slice(group.length + 1));
      const sample = track?.sample;
      const measured = track?.bandwidth ?? 0;
      variants.push({
        uri: `${name}/${format === "fmp4" ? "index.mp4.m3u8" : "index.m3u8"}${
          token ? `?token=${encodeURIComponent(token)}` : ""
        }`,
        bandwidth: measured > 0 ? measured : ((rendition!.kbps ?? 1000) + 128) * 1000,
        resolution: `${rendition!.width}x${rendition!.height}`,
        frameRate: rendition!.fps,
        codecs: sample ? detectCodecs(sample)?.codecs || undefined : undefined,
      });
    }
    return {
      status: 200,
      body: encoder.encode(multivariantPlaylist(variants)),
      type: PLAYLIST_TYPE,
      cache: "no-cache",
    };
  }

  #failure(error: unknown): Answer {
    if (error instanceof ProtocolError) {
      if (error.code === ErrorCode.STREAM_NOT_FOUND) return plain(404, error.message);
      if (error.code === ErrorCode.AUTH_FAILED) return plain(403, error.message);
      return plain(502, `${error.code}: ${error.message}`);
    }
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return plain(504, "the stream could not be found in time");
    }
    throw error;
  }
}

/** The answer for fMP4 of a stream whose codecs the remuxer does not take. */
function unsupported(): Answer {
  return plain(404, "fMP4 is offered for H.264 video and AAC audio only; use index.m3u8 (MPEG-TS)");
}

/** How a blocked request ended: `ready`, `timeout`, or `aborted` (the client went away). */
function waitOutcome(ready: boolean, signal: AbortSignal): string {
  return ready ? "ready" : signal.aborted ? "aborted" : "timeout";
}

/** What a path under `/hls/` names. */
interface Route {
  kind: HlsRequestKind;
  /** Stream id (or group, for `master.m3u8`). */
  id: string;
  /** The file name. */
  file: string;
  /** MPEG-TS or fMP4. */
  format: HlsFormat;
  msn?: number;
  part?: number;
}
