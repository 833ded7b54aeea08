/**
 * Blocked requests as waiters on their stream: a request for a playlist or part that does not
 * exist yet adds a waiter under a key (`7.3`: part 3 of segment 7); every update of the stream
 * tests each key once and answers all its waiters. No request has a timer of its own: the owner
 * sweeps expired waiters on one clock for all streams.
 *
 * @example
 * ```ts ignore
 * const waiters = new Waiters<Track>();
 * const ready = await waiters.wait("7.3", (track) => track.hasPart(7, 3), 6000); // false on timeout
 * waiters.release(track);          // on every update of the track
 * waiters.sweep(performance.now()); // from the owner's one interval
 * ```
 * @module
 */

interface Waiter {
  deadline: number;
  resolve(ready: boolean): void;
}

interface Group<S> {
  test(state: S): boolean;
  waiters: Waiter[];
}

/** Waiters keyed by what they wait for; `S` is the state they are tested against. */
export class Waiters<S> {
  #groups = new Map<string, Group<S>>();
  #count = 0;

  /** Requests waiting now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Resolves true once `test` holds at a `release` (waiters of one key share the test of the
   * first), false when it has waited `timeoutMs` (at the next sweep) or `signal` aborts.
   */
  wait(
    key: string,
    test: (state: S) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = { test, waiters: [] };
        this.#groups.set(key, group);
      }
      const waiter: Waiter = {
        deadline: performance.now() + timeoutMs,
        resolve: (ready) => {
          this.#count--;
          resolve(ready);
        },
      };
      group.waiters.push(waiter);
      this.#count++;
      signal?.addEventListener("abort", () => this.#drop(key, waiter), { once: true });
    });
  }

  #drop(key: string, waiter: Waiter): void {
    const group = this.#groups.get(key);
    const index = group?.waiters.indexOf(waiter) ?? -1;
    if (group === undefined || index < 0) return;
    group.waiters.splice(index, 1);
    if (group.waiters.length === 0) this.#groups.delete(key);
    waiter.resolve(false);
  }

  /** Answers every waiter whose test holds for `state`. */
  release(state: S): void {
    for (const [key, group] of this.#groups) {
      if (!group.test(state)) continue;
      this.#groups.delete(key);
      for (const waiter of group.waiters) waiter.resolve(true);
    }
  }

  /** Answers waiters past their deadline with false. */
  sweep(now: number): void {
    for (const [key, group] of this.#groups) {
      if (!group.waiters.some((waiter) => waiter.deadline <= now)) continue;
      const gone = group.waiters.filter((waiter) => waiter.deadline <= now);
      group.waiters = group.waiters.filter((waiter) => waiter.deadline > now);
      if (group.waiters.length === 0) this.#groups.delete(key);
      for (const waiter of gone) waiter.resolve(false);
    }
  }

  /** Answers every waiter with `ready` (the stream ended or is let go). */
  releaseAll(ready: boolean): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) for (const waiter of group.waiters) waiter.resolve(ready);
  }
}
