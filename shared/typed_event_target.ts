/**
 * An `EventTarget` whose `addEventListener` and `removeEventListener` know the event type of each
 * event name, from a map of names to event classes; and, for events that carry a payload, a map
 * of names to payload types ({@linkcode DetailEvents}) with a typed `emit` for the class that
 * owns the events.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DetailEvents, TypedEventTarget } from "./typed_event_target.ts";
 * class Ticker extends TypedEventTarget<DetailEvents<{ tick: number; stop: undefined }>> {
 *   tick(count: number): void {
 *     this.emit("tick", count);
 *   }
 * }
 * const ticker = new Ticker();
 * let seen = 0;
 * ticker.addEventListener("tick", (event) => seen = event.detail);
 * ticker.tick(3);
 * assert(seen === 3);
 * ```
 * @module
 */

/** An event map of `CustomEvent`s from a map of event names to payload types. */
export type DetailEvents<P> = { [K in keyof P]: CustomEvent<P[K]> };

/** The payload type of an event (`never` for events without `detail`). */
export type DetailOf<E> = E extends CustomEvent<infer D> ? D : never;

/** `emit`'s payload argument: optional where the payload may be undefined. */
type DetailArgs<D> = undefined extends D ? [detail?: D] : [detail: D];

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

  /**
   * Dispatches a `CustomEvent` named `type` carrying `detail`, checked against the event map
   * (for the class that owns the events; listeners run before it returns).
   */
  protected emit<K extends keyof M & string>(
    type: K,
    ...[detail]: DetailArgs<DetailOf<M[K]>>
  ): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
