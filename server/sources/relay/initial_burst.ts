/**
 * The wait of a relay that has just connected, for the upstream's buffered fragments: a new
 * relay's first spectators should get the same initial fragments as the origin's. The burst is in
 * at the first part (parts are live media: what was buffered came before), or once whole
 * fragments stop coming for a moment, or at a cap, or when the relay closes.
 *
 * @example
 * ```ts ignore
 * const burst = new InitialBurst();
 * const waited = burst.wait(10_000, signal);
 * burst.fragment(); burst.fragment(); // buffered fragments arrive...
 * await waited;                       // ...then 50 ms of quiet
 * ```
 * @module
 */

/** Quiet time after which the upstream's initial burst counts as received. */
const QUIET_MS = 50;

/** One relay's initial burst. */
export class InitialBurst {
  #done: (() => void) | null = null;
  #quiet: ReturnType<typeof setTimeout> | undefined;

  /** Resolves when the burst is in, after `capMs` at most, or when `signal` aborts. */
  async wait(capMs: number, signal: AbortSignal): Promise<void> {
    const cap = setTimeout(() => this.#done?.(), capMs);
    await new Promise<void>((resolve) => {
      this.#done = resolve;
      this.fragment();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#done = null;
    clearTimeout(this.#quiet);
    clearTimeout(cap);
  }

  /** A whole fragment came: the burst is in after a quiet moment. */
  fragment(): void {
    if (this.#done === null) return;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#done?.(), QUIET_MS);
  }

  /** A part came: the burst is in. */
  part(): void {
    this.#done?.();
  }

  /** Stops waiting (the relay closes). */
  stop(): void {
    clearTimeout(this.#quiet);
    this.#done?.();
  }
}
