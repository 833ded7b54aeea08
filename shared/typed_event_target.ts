/**
 * An `EventTarget` whose `addEventListener` and `removeEventListener` know the event type of each
 * event name, from a map of names to event classes.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TypedEventTarget } from "./typed_event_target.ts";
 * class Ticker extends TypedEventTarget<{ tick: CustomEvent<number> }> {}
 * const ticker = new Ticker();
 * let seen = 0;
 * ticker.addEventListener("tick", (event) => seen = event.detail);
 * ticker.dispatchEvent(new CustomEvent("tick", { detail: 3 }));
 * assert(seen === 3);
 * ```
 * @module
 */

/** An `EventTarget` typed by an event map `M` (event name to event class). */
export class TypedEventTarget<M extends { [K in keyof M]: Event }> extends EventTarget {
  /** Typed listener registration. */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: ((event: M[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Listener registration for any event name. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Typed listener removal. */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: ((event: M[K]) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Listener removal for any event name. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}
