/**
 * Handlers called with a payload, over the shared typed `EventTarget`
 * (`shared/typed_event_target.ts`): what `HlsWebSocket.addEventListener` offers pages. Each event
 * is a `CustomEvent` whose `detail` is the handler's argument list; a handler is added once (like
 * `EventTarget`), and one that throws is reported to the console without stopping the others or
 * the player.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PayloadEvents } from "./payload_events.ts";
 * const events = new PayloadEvents<{ state: (state: string, previous: string) => void }>("Demo");
 * const seen: string[] = [];
 * events.add("state", (state, previous) => seen.push(`${previous}->${state}`));
 * events.notify("state", "playing", "buffering");
 * assert(seen[0] === "buffering->playing");
 * ```
 * @module
 */

import { TypedEventTarget } from "../shared/typed_event_target.ts";

// deno-lint-ignore no-explicit-any
type AnyHandler = (...args: any[]) => void;

/** A map of event names to handler types. */
export type HandlerMap<M> = { [K in keyof M]: AnyHandler };

/** The events behind a handler map: each carries its handler's arguments. */
type ArgumentEvents<M extends HandlerMap<M>> = {
  [K in keyof M]: CustomEvent<Parameters<M[K]>>;
};

/** Payload handlers by event name, dispatched through a typed `EventTarget`. */
export class PayloadEvents<M extends HandlerMap<M>> extends TypedEventTarget<ArgumentEvents<M>> {
  #owner: string;
  #listeners = new Map<keyof M, Map<AnyHandler, (event: Event) => void>>();

  /** `owner` names the object in the console message about a throwing handler. */
  constructor(owner: string) {
    super();
    this.#owner = owner;
  }

  /** Adds a handler (once per handler; anything but a function is ignored). */
  add<K extends keyof M & string>(name: K, handler: M[K]): void {
    if (typeof handler !== "function") return;
    let handlers = this.#listeners.get(name);
    if (handlers === undefined) this.#listeners.set(name, handlers = new Map());
    if (handlers.has(handler)) return;
    const listener = (event: Event) => {
      try {
        handler(...(event as CustomEvent<Parameters<M[K]>>).detail);
      } catch (error) {
        console.error(`${this.#owner}: a '${name}' handler threw`, error);
      }
    };
    handlers.set(handler, listener);
    this.addEventListener(name, listener);
  }

  /** Removes a handler. */
  remove<K extends keyof M & string>(name: K, handler: M[K]): void {
    const listener = this.#listeners.get(name)?.get(handler);
    if (listener === undefined) return;
    this.#listeners.get(name)!.delete(handler);
    this.removeEventListener(name, listener);
  }

  /** Whether anyone listens to `name`. */
  has(name: keyof M): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Calls every handler of `name` with `args`, in the order they were added. */
  notify<K extends keyof M & string>(name: K, ...args: Parameters<M[K]>): void {
    this.dispatchEvent(new CustomEvent(name, { detail: args }));
  }

  /** Removes every handler. */
  clear(): void {
    for (const [name, handlers] of this.#listeners) {
      for (const listener of handlers.values()) this.removeEventListener(name as string, listener);
    }
    this.#listeners.clear();
  }
}
