/**
 * Media Source Extensions as this browser offers them: `MediaSource`, or `ManagedMediaSource`
 * where only that exists (Safari on iOS 17.1 and later), and the checks behind `isSupported()`.
 *
 * @example
 * ```ts ignore
 * const opened = await openMediaSource(video);
 * opened.mediaSource.addSourceBuffer('video/mp4; codecs="avc1.42E01E"');
 * opened.close();
 * ```
 * @module
 */

/** The MediaSource constructor this browser has, if any. */
export function mediaSourceClass(): typeof MediaSource | undefined {
  const scope = globalThis as unknown as {
    MediaSource?: typeof MediaSource;
    ManagedMediaSource?: typeof MediaSource;
    WebKitMediaSource?: typeof MediaSource;
  };
  return scope.MediaSource ?? scope.ManagedMediaSource ?? scope.WebKitMediaSource;
}

/** Whether this browser's MSE accepts `type`. */
export function isTypeSupported(type: string): boolean {
  const MediaSourceClass = mediaSourceClass();
  try {
    return MediaSourceClass !== undefined && MediaSourceClass.isTypeSupported(type);
  } catch {
    return false;
  }
}

/** The MSE type for MPEG-TS with these codecs (`direct` path). */
export function tsType(codecs: string[]): string {
  return `video/mp2t; codecs="${codecs.join(",")}"`;
}

/** The MSE type for fMP4 of one track (`transmux` path). */
export function mp4Type(kind: "video" | "audio", codec: string): string {
  return `${kind}/mp4; codecs="${codec}"`;
}

/**
 * Whether this browser can play streams through MSE: a MediaSource (or ManagedMediaSource), a
 * WebSocket, and H.264 + AAC either as fMP4 (after transmuxing) or as MPEG-TS.
 */
export function canPlayThroughMse(): boolean {
  if (typeof WebSocket === "undefined" || mediaSourceClass() === undefined) return false;
  const sourceBuffer = (globalThis as { SourceBuffer?: { prototype: SourceBuffer } }).SourceBuffer;
  if (sourceBuffer !== undefined && typeof sourceBuffer.prototype.appendBuffer !== "function") {
    return false;
  }
  return isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"') ||
    isTypeSupported('video/mp2t; codecs="avc1.42E01E,mp4a.40.2"');
}

/** `TimeRanges` as a list of `[start, end]` pairs, in order. */
export function rangeList(ranges: TimeRanges): Array<[number, number]> {
  const list: Array<[number, number]> = [];
  for (let index = 0; index < ranges.length; index++) {
    list.push([ranges.start(index), ranges.end(index)]);
  }
  return list;
}

/** An open MediaSource attached to a media element. */
export interface OpenedMediaSource {
  /** The MediaSource. */
  mediaSource: MediaSource;
  /** Detaches it from the element and revokes its URL. */
  close(): void;
}

/** Attaches a new MediaSource to `media` and resolves once it is open. */
export function openMediaSource(
  media: HTMLMediaElement,
  signal?: AbortSignal,
): Promise<OpenedMediaSource> {
  const MediaSourceClass = mediaSourceClass();
  if (MediaSourceClass === undefined) {
    return Promise.reject(new Error("this browser has no MediaSource"));
  }
  const mediaSource = new MediaSourceClass();
  const managed =
    (globalThis as { ManagedMediaSource?: unknown }).ManagedMediaSource === MediaSourceClass;
  if (managed) {
    (media as HTMLVideoElement & { disableRemotePlayback: boolean }).disableRemotePlayback = true;
  }
  const url = URL.createObjectURL(mediaSource);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (media.src === url) {
      media.removeAttribute("src");
      media.load();
    }
    URL.revokeObjectURL(url);
  };
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      close();
      reject(new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    mediaSource.addEventListener("sourceopen", () => {
      signal?.removeEventListener("abort", onAbort);
      // The object URL has done its job once the source is open.
      URL.revokeObjectURL(url);
      resolve({ mediaSource, close });
    }, { once: true });
    media.src = url;
  });
}
