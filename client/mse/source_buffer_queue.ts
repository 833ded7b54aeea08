/**
 * One queue of operations per SourceBuffer: appends, removes and timestamp-offset changes run one
 * after another, each after the previous `updateend`, which is the only order MSE accepts. A full
 * buffer (`QuotaExceededError`) asks the owner for old media to remove, removes it and tries the
 * append once more, before anything queued after it.
 *
 * @example
 * ```ts ignore
 * const queue = new SourceBufferQueue(mediaSource.addSourceBuffer(type), { evictRange });
 * await queue.append(init);
 * await queue.append(segment);
 * await queue.remove(0, 10);
 * ```
 * @module
 */

type Operation =
  | { kind: "append"; data: Uint8Array }
  | { kind: "remove"; start: number; end: number }
  | { kind: "offset"; value: number; abort: boolean }
  | { kind: "type"; type: string }
  | { kind: "barrier" };

interface Queued {
  operation: Operation;
  resolve: () => void;
  reject: (error: Error) => void;
  retried?: boolean;
}

/** How the queue makes room. */
export interface SourceBufferQueueOptions {
  /** The buffer is full: the range of old media to remove before the append is tried again. */
  evictRange?: () => { start: number; end: number } | null;
}

/** Serializes the operations of one SourceBuffer. */
export class SourceBufferQueue {
  /** The SourceBuffer. */
  readonly buffer: SourceBuffer;
  #options: SourceBufferQueueOptions;
  #queue: Queued[] = [];
  #current: Queued | null = null;
  #destroyed = false;
  #failure: Error | null = null;
  // MSE fires `updateend` after `error` too: the operation ends there, failed or not, so that
  // the next one never starts before the `updateend` of the one before.
  #onUpdateEnd = () => {
    const failure = this.#failure;
    this.#failure = null;
    this.#finish(failure);
  };
  #onError = () => this.#failure = new Error("SourceBuffer error");

  /** Takes over a SourceBuffer. */
  constructor(buffer: SourceBuffer, options: SourceBufferQueueOptions = {}) {
    this.buffer = buffer;
    this.#options = options;
    buffer.addEventListener("updateend", this.#onUpdateEnd);
    buffer.addEventListener("error", this.#onError);
  }

  /** Operations waiting or running. */
  get length(): number {
    return this.#queue.length + (this.#current ? 1 : 0);
  }

  /** Appends bytes. */
  append(data: Uint8Array): Promise<void> {
    return this.#push({ kind: "append", data });
  }

  /** Removes media from `start` to `end` seconds. */
  remove(start: number, end: number): Promise<void> {
    return this.#push({ kind: "remove", start, end });
  }

  /** Sets `timestampOffset`; `abort` first resets the parser (needed for MPEG-TS after a jump). */
  setTimestampOffset(value: number, abort = false): Promise<void> {
    return this.#push({ kind: "offset", value, abort });
  }

  /**
   * Switches the SourceBuffer to another type (`changeType`, for another rendition's codecs);
   * where the browser lacks `changeType`, does nothing (the next init segment may still do).
   */
  changeType(type: string): Promise<void> {
    return this.#push({ kind: "type", type });
  }

  /** Resolves once every operation queued before it has finished. */
  drained(): Promise<void> {
    return this.#push({ kind: "barrier" });
  }

  #push(operation: Operation): Promise<void> {
    if (this.#destroyed) return Promise.reject(new Error("SourceBuffer queue destroyed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ operation, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#current === null && this.#queue.length > 0 && !this.#destroyed) {
      if (this.buffer.updating) return;
      const item = this.#queue.shift()!;
      const operation = item.operation;
      try {
        if (operation.kind === "barrier") {
          item.resolve();
          continue;
        }
        if (operation.kind === "type") {
          const buffer = this.buffer as SourceBuffer & { changeType?: (type: string) => void };
          if (typeof buffer.changeType === "function") buffer.changeType(operation.type);
          item.resolve();
          continue;
        }
        if (operation.kind === "offset") {
          if (operation.abort) this.buffer.abort();
          this.buffer.timestampOffset = operation.value;
          item.resolve();
          continue;
        }
        this.#current = item;
        if (operation.kind === "append") this.buffer.appendBuffer(operation.data as BufferSource);
        else this.buffer.remove(operation.start, operation.end);
      } catch (error) {
        this.#current = null;
        const full = error instanceof DOMException && error.name === "QuotaExceededError";
        const range = full && !item.retried ? this.#options.evictRange?.() : null;
        if (range) {
          // Remove old media first, then the same append again, before anything queued after it.
          item.retried = true;
          const removal: Queued = {
            operation: { kind: "remove", start: range.start, end: range.end },
            resolve: () => {},
            reject: () => {},
          };
          this.#queue.unshift(removal, item);
          continue;
        }
        item.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  #finish(error: Error | null): void {
    const item = this.#current;
    this.#current = null;
    if (item !== null) {
      if (error === null) item.resolve();
      else item.reject(error);
    }
    this.#next();
  }

  /** Rejects what is waiting and lets go of the SourceBuffer. */
  destroy(): void {
    this.#destroyed = true;
    this.buffer.removeEventListener("updateend", this.#onUpdateEnd);
    this.buffer.removeEventListener("error", this.#onError);
    const error = new Error("SourceBuffer queue destroyed");
    for (const item of this.#queue) item.reject(error);
    this.#current?.reject(error);
    this.#queue = [];
    this.#current = null;
  }
}
