/**
 * What the player is doing: the value of `player.state` and of the `state` event.
 *
 * @module
 */

/** What the player is doing. */
export type PlayerState =
  | "idle"
  | "connecting"
  | "buffering"
  | "playing"
  | "stalled"
  | "reconnecting"
  | "ended"
  | "failed"
  | "destroyed";
