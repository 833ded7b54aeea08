import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { RateLimiter, type RateLimiterOptions } from "./rate_limiter.ts";

function limiter(options: Partial<RateLimiterOptions>) {
  const clock = { now: 0 };
  const instance = new RateLimiter({
    requestsPerSecond: 0,
    cleanupSeconds: 0,
    now: () => clock.now,
    ...options,
  });
  return { limiter: instance, clock };
}

Deno.test("token bucket: rate + burst at once, then the rate", () => {
  const { limiter: rl, clock } = limiter({ requestsPerSecond: 2, burst: 3 });
  let allowed = 0;
  for (let index = 0; index < 20; index++) if (rl.takeRequest("10.0.0.1")) allowed++;
  assertEquals(allowed, 5, "capacity is rate + burst");
  clock.now += 499;
  assert(!rl.takeRequest("10.0.0.1"), "just under one token after 499 ms at 2/s");
  clock.now += 1;
  assert(rl.takeRequest("10.0.0.1"), "one token after 500 ms");
  assert(!rl.takeRequest("10.0.0.1"));
  clock.now += 60_000;
  allowed = 0;
  for (let index = 0; index < 20; index++) if (rl.takeRequest("10.0.0.1")) allowed++;
  assertEquals(allowed, 5, "the bucket never holds more than its capacity");
});

Deno.test("addresses have their own buckets; IPv6 shares one per /64", () => {
  const { limiter: rl } = limiter({ requestsPerSecond: 1 });
  assert(rl.takeRequest("10.0.0.1"));
  assert(!rl.takeRequest("10.0.0.1"));
  assert(rl.takeRequest("10.0.0.2"), "another address is not affected");
  assert(!rl.takeRequest("::ffff:10.0.0.1"), "the IPv4-mapped form is the same address");
  assert(rl.takeRequest("2001:db8:0:1::1"));
  assert(!rl.takeRequest("2001:db8:0:1::2"), "same /64");
  assert(rl.takeRequest("2001:db8:0:2::1"), "another /64");
});

Deno.test("connections per address are counted until closed", () => {
  const { limiter: rl } = limiter({ connections: 2 });
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
  assertEquals(rl.openConnection("10.0.0.1"), "connections");
  assertEquals(rl.openConnection("10.0.0.2"), "ok");
  assertEquals(rl.openConnections("10.0.0.1"), 2);
  rl.closeConnection("10.0.0.1");
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
  rl.closeConnection("10.0.0.1");
  rl.closeConnection("10.0.0.1");
  rl.closeConnection("10.0.0.1");
  assertEquals(rl.openConnections("10.0.0.1"), 0, "never below zero");
});

Deno.test("a connection takes a request token too", () => {
  const { limiter: rl, clock } = limiter({ requestsPerSecond: 1, burst: 1, connections: 10 });
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
  assert(rl.takeRequest("10.0.0.1"));
  assertEquals(rl.openConnection("10.0.0.1"), "rate");
  assertEquals(rl.openConnections("10.0.0.1"), 1, "a refused connection is not counted");
  clock.now += 1000;
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
});

Deno.test("whitelisted addresses and ranges are never limited nor tracked", () => {
  const { limiter: rl } = limiter({
    requestsPerSecond: 1,
    connections: 1,
    whitelist: ["127.0.0.0/8", "fd00::/8"],
  });
  for (let index = 0; index < 50; index++) {
    assert(rl.takeRequest("127.0.0.5"));
    assertEquals(rl.openConnection("fd00::1"), "ok");
  }
  assertEquals(rl.trackedAddresses, 0);
  assertEquals(rl.openConnection("10.0.0.1"), "ok");
  assertEquals(rl.openConnection("10.0.0.1"), "rate");
});

Deno.test("the sweep forgets idle addresses only", () => {
  const { limiter: rl, clock } = limiter({ requestsPerSecond: 10, connections: 5 });
  rl.takeRequest("10.0.0.1");
  rl.openConnection("10.0.0.2");
  rl.takeRequest("10.0.0.3");
  assertEquals(rl.trackedAddresses, 3);
  rl.sweep();
  assertEquals(rl.trackedAddresses, 3, "buckets not yet refilled");
  clock.now += 1000;
  rl.sweep();
  assertEquals(rl.trackedAddresses, 1, "the one with an open connection stays");
  rl.closeConnection("10.0.0.2");
  rl.sweep();
  assertEquals(rl.trackedAddresses, 0);
});

Deno.test("past maxTracked, new addresses are refused until entries go idle", () => {
  const { limiter: rl, clock } = limiter({ requestsPerSecond: 1, maxTracked: 3 });
  for (const address of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) assert(rl.takeRequest(address));
  assert(!rl.takeRequest("10.0.0.4"), "the table is full");
  assert(!rl.takeRequest("10.0.0.1"), "known addresses keep their own bucket");
  clock.now += 1000;
  assert(rl.takeRequest("10.0.0.4"), "a sweep made room");
  assertEquals(rl.trackedAddresses, 1);
});

Deno.test("with no rate and no connection limit nothing is tracked", () => {
  const { limiter: rl } = limiter({});
  for (let index = 0; index < 100; index++) {
    assert(rl.takeRequest(`10.0.0.${index}`));
    assertEquals(rl.openConnection(`10.0.1.${index}`), "ok");
  }
  assertEquals(rl.trackedAddresses, 0);
});

Deno.test("the sweep timer runs and stops on destroy", async () => {
  const rl = new RateLimiter({ requestsPerSecond: 1000, cleanupSeconds: 0.05 });
  rl.takeRequest("10.0.0.1");
  assertEquals(rl.trackedAddresses, 1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assertEquals(rl.trackedAddresses, 0);
  rl.destroy();
});
