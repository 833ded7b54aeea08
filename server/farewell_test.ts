/**
 * The farewell table: for every way a connection ends, what a new client, an old spectator (before
 * and after `OK`) and a publisher are told. An old spectator is never sent `E` once accepted.
 */

import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { ErrorCode } from "../shared/errors.ts";
import { farewell, type Peer } from "./farewell.ts";
import type { StreamEnd } from "./stream_end.ts";

const failed = (code: ErrorCode): StreamEnd => ({ kind: "failed", code, message: "why" });
const types = (end: StreamEnd, peer: Peer) => farewell(end, peer).messages.map((m) => m.type);

const oldAccepted: Peer = { role: "spectator", accepted: true, caps: false };
const oldStarting: Peer = { role: "spectator", accepted: false, caps: false };
const newAccepted: Peer = { role: "spectator", accepted: true, caps: true };
const publisher: Peer = { role: "publisher", accepted: true, caps: false };

Deno.test("an accepted old spectator: CLOSE for the stream's end, nothing for a recoverable one", () => {
  assertEquals(types({ kind: "closed" }, oldAccepted), ["CLOSE"]);
  for (const code of [ErrorCode.PUBLISHER_LOST, ErrorCode.STREAM_NOT_FOUND]) {
    assertEquals(types(failed(code), oldAccepted), ["CLOSE"], code);
  }
  for (
    const code of [
      ErrorCode.SHUTTING_DOWN,
      ErrorCode.UPSTREAM_ERROR,
      ErrorCode.SLOW_SPECTATOR,
      ErrorCode.TIMEOUT,
      ErrorCode.BUFFER_MEMORY_LIMIT,
      ErrorCode.STREAM_MOVED,
      ErrorCode.INTERNAL_ERROR,
    ]
  ) {
    assertEquals(types(failed(code), oldAccepted), [], code);
  }
  // Refusals that will not pass end the stream for it: CLOSE, still never E.
  for (const code of [ErrorCode.LOOP_DETECTED, ErrorCode.PROTOCOL_ERROR]) {
    assertEquals(types(failed(code), oldAccepted), ["CLOSE"], code);
  }
});

Deno.test("an accepted old spectator never gets E, whatever the code", () => {
  for (const code of Object.values(ErrorCode)) {
    assert(!types(failed(code), oldAccepted).includes("E"), code);
  }
});

Deno.test("an old spectator before OK: not found is OK then CLOSE, auth stays E", () => {
  assertEquals(types(failed(ErrorCode.STREAM_NOT_FOUND), oldStarting), ["OK", "CLOSE"]);
  assertEquals(types(failed(ErrorCode.AUTH_FAILED), oldStarting), ["E"]);
  assertEquals(types(failed(ErrorCode.INVALID_STREAM_ID), oldStarting), ["E"]);
  assertEquals(types(failed(ErrorCode.LOOP_DETECTED), oldStarting), ["E"]);
  assertEquals(types(failed(ErrorCode.UPSTREAM_ERROR), oldStarting), [], "retried by reconnecting");
  assertEquals(types(failed(ErrorCode.SHUTTING_DOWN), oldStarting), []);
});

Deno.test("new clients, publishers and unknown peers get the precise code", () => {
  for (const peer of [newAccepted, publisher, { ...oldStarting, role: "unknown" as const }]) {
    for (const code of Object.values(ErrorCode)) {
      const said = farewell(failed(code), peer).messages;
      assertEquals(said, [{ type: "E", code, message: "why" }], `${peer.role} ${code}`);
    }
  }
  assertEquals(types(failed(ErrorCode.STREAM_NOT_FOUND), { ...newAccepted, accepted: false }), [
    "E",
  ]);
  assertEquals(types({ kind: "closed" }, newAccepted), ["CLOSE"]);
});

Deno.test("close codes: 1001 at shutdown, 1011 for a bug, 1000 otherwise; the reason is the code", () => {
  assertEquals(farewell(failed(ErrorCode.SHUTTING_DOWN), oldAccepted).closeCode, 1001);
  assertEquals(farewell(failed(ErrorCode.INTERNAL_ERROR), newAccepted).closeCode, 1011);
  const lost = farewell(failed(ErrorCode.PUBLISHER_LOST), oldAccepted);
  assertEquals([lost.closeCode, lost.reason], [1000, "PUBLISHER_LOST"]);
  assertEquals(farewell({ kind: "closed" }, oldAccepted).reason, "stream ended");
});
