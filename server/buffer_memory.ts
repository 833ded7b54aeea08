/**
 * Exact accounting of the bytes a node holds in fragment buffers, with an optional limit
 * (`BUFFER_MEMORY_LIMITER_*`). Every `reserve` is matched by one `release` of the same size, so the
 * count returns to zero when every stream has ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferMemory } from "./buffer_memory.ts";
 * const memory = new BufferMemory(1000);
 * assert(memory.tryReserve(600));
 * assert(!memory.tryReserve(600));
 * memory.release(600);
 * assert(memory.used === 0);
 * ```
 * @module
 */

/** Counts buffered bytes against a limit. */
export class BufferMemory {
  /** The limit in bytes (`Infinity` when the limiter is off). */
  readonly limit: number;
  #used = 0;
  #onChange: ((used: number) => void) | undefined;

  /** Creates an account with a limit; `onChange` sees every new total (for a gauge). */
  constructor(limit = Infinity, onChange?: (used: number) => void) {
    this.limit = limit;
    this.#onChange = onChange;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes` if that stays within the limit; returns whether it did. */
  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#add(bytes);
    return true;
  }

  /** Reserves `bytes` whatever the limit (for data in flight that must be held anyway). */
  reserve(bytes: number): void {
    this.#add(bytes);
  }

  /** Gives back bytes reserved before. */
  release(bytes: number): void {
    if (bytes > this.#used) {
      throw new RangeError(`releasing ${bytes} bytes, only ${this.#used} reserved`);
    }
    this.#add(-bytes);
  }

  #add(bytes: number): void {
    this.#used += bytes;
    this.#onChange?.(this.#used);
  }
}
