/** Unit tests of the media URI signer, on a fake clock. */

import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { UriSigner } from "./uri_signer.ts";

function clock(start = 1_700_000_000_000) {
  const time = { now: start };
  return { time, now: () => time.now };
}

const query = (text: string) => new URLSearchParams(text);

Deno.test("a signed URI verifies for its stream and file only", () => {
  const { now } = clock();
  const signer = new UriSigner("secret", { now });
  const signed = signer.sign("room/a", "s7.ts");
  assertMatch(signed, /^e=\d+&s=[\w-]{22}$/);
  assertEquals(signer.verify("room/a", "s7.ts", query(signed)), null);
  assertMatch(signer.verify("room/b", "s7.ts", query(signed))!, /signature/);
  assertMatch(signer.verify("room/a", "s8.ts", query(signed))!, /signature/);
  assertMatch(signer.verify("room/a", "s7.ts", query(signed.replace(/.$/, "x")))!, /signature/);
  assertMatch(signer.verify("room/a", "s7.ts", query(""))!, /not signed/);
});

Deno.test("URIs expire, and the expiry cannot be moved", () => {
  const { time, now } = clock();
  const signer = new UriSigner("secret", { now, lifetimeSeconds: 120, stepSeconds: 60 });
  const signed = signer.sign("room/a", "p7.1.ts");
  time.now += 181_000;
  assertMatch(signer.verify("room/a", "p7.1.ts", query(signed))!, /expired/);
  const expiry = Number(query(signed).get("e"));
  const moved = signed.replace(`e=${expiry}`, `e=${expiry + 60}`);
  assertMatch(signer.verify("room/a", "p7.1.ts", query(moved))!, /signature/);
});

Deno.test("every node of a fleet (one pull secret) writes and accepts the same URI", () => {
  const { time, now } = clock();
  const a = new UriSigner("fleet-secret", { now });
  const b = new UriSigner("fleet-secret", { now });
  const other = new UriSigner("another-secret", { now });
  const signed = a.sign("room/a", "s7.ts");
  assertEquals(b.sign("room/a", "s7.ts"), signed, "same URI on both nodes (one CDN cache entry)");
  time.now += 20_000;
  assertEquals(a.sign("room/a", "s7.ts"), signed, "and across playlist versions within a step");
  assertEquals(b.verify("room/a", "s7.ts", query(signed)), null);
  assert(other.verify("room/a", "s7.ts", query(signed)) !== null);
});
