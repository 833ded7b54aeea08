import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type LinkState, SwitchPolicy } from "./switch_policy.ts";

const BITRATES = [3_000_000, 1_100_000];

/** Runs the policy every 200 ms from `from` to `to` on a fixed link; returns the decisions. */
function run(policy: SwitchPolicy, link: Omit<LinkState, "bitrates">, from: number, to: number) {
  const decisions: { at: number; target: number; reason: string }[] = [];
  let current = link.current;
  for (let now = from; now < to; now += 200) {
    const decision = policy.decide(now, { ...link, bitrates: BITRATES, current });
    if (decision !== null) {
      decisions.push({ at: now, ...decision });
      current = decision.target;
    }
  }
  return { decisions, current };
}

Deno.test("switch policy: down at once when delivery falls behind, to what fits the capacity", () => {
  const policy = new SwitchPolicy();
  assertEquals(
    policy.decide(0, { lagMs: 100, capacityBps: 1_200_000, bitrates: BITRATES, current: 0 }),
    null,
  );
  assertEquals(
    policy.decide(200, { lagMs: 400, capacityBps: 1_200_000, bitrates: BITRATES, current: 0 }),
    { target: 1, reason: "down" },
  );
  const three = [5_000_000, 3_000_000, 1_100_000];
  assertEquals(
    new SwitchPolicy().decide(0, {
      lagMs: 900,
      capacityBps: 3_700_000,
      bitrates: three,
      current: 0,
    }),
    { target: 1, reason: "down" },
    "the best that fits",
  );
  assertEquals(
    new SwitchPolicy().decide(0, {
      lagMs: 900,
      capacityBps: 1_000_000,
      bitrates: three,
      current: 0,
    }),
    { target: 2, reason: "down" },
    "straight to the lowest",
  );
  assertEquals(
    new SwitchPolicy().decide(0, {
      lagMs: 900,
      capacityBps: undefined,
      bitrates: three,
      current: 0,
    }),
    { target: 1, reason: "down" },
    "one step without a capacity",
  );
});

Deno.test("switch policy: after a down switch the draining queue does not push it further", () => {
  const policy = new SwitchPolicy();
  const three = [5_000_000, 3_000_000, 1_100_000];
  assertEquals(
    policy.decide(0, { lagMs: 900, capacityBps: 3_700_000, bitrates: three, current: 0 })?.target,
    1,
  );
  assertEquals(
    policy.decide(1000, { lagMs: 1500, capacityBps: 3_700_000, bitrates: three, current: 1 }),
    null,
    "lag from the old rendition's bytes",
  );
  assertEquals(
    policy.decide(1200, { lagMs: 1500, capacityBps: 1_000_000, bitrates: three, current: 1 })
      ?.target,
    2,
    "unless the capacity says it does not fit",
  );
});

Deno.test("switch policy: up only after sustained headroom, and never on a steady slow link", () => {
  const policy = new SwitchPolicy({ upHoldMs: 3000 });
  const slow = run(policy, { lagMs: 50, capacityBps: 1_200_000, current: 1 }, 0, 60_000);
  assertEquals(slow.decisions, [], "1.2 Mbit/s never lifts it to 3 Mbit/s");
  const fast = run(policy, { lagMs: 50, capacityBps: 5_000_000, current: 1 }, 60_000, 70_000);
  assertEquals(fast.decisions.length, 1);
  assertEquals(fast.decisions[0].reason, "up");
  assert(fast.decisions[0].at >= 63_000, `held ${fast.decisions[0].at - 60_000} ms`);
  const top = run(policy, { lagMs: 50, capacityBps: 5_000_000, current: 0 }, 70_000, 130_000);
  assertEquals(top.decisions, [], "steady on top");
  // Headroom broken by one bad moment starts the hold again.
  const broken = new SwitchPolicy({ upHoldMs: 3000 });
  run(broken, { lagMs: 50, capacityBps: 5_000_000, current: 1 }, 0, 2800);
  assertEquals(
    broken.decide(2800, { lagMs: 250, capacityBps: 5_000_000, bitrates: BITRATES, current: 1 }),
    null,
  );
  assertEquals(
    run(broken, { lagMs: 50, capacityBps: 5_000_000, current: 1 }, 3000, 5800).decisions,
    [],
  );
});

Deno.test("switch policy: a failed probe doubles the hold before the next one", () => {
  const policy = new SwitchPolicy({ upHoldMs: 3000 });
  const up = run(policy, { lagMs: 50, capacityBps: 5_000_000, current: 1 }, 0, 4000);
  assertEquals(up.current, 0);
  assertEquals(
    policy.decide(5000, { lagMs: 800, capacityBps: 2_000_000, bitrates: BITRATES, current: 0 })
      ?.reason,
    "down",
  );
  assertEquals(policy.upHoldMs, 6000);
  const again = run(policy, { lagMs: 50, capacityBps: 5_000_000, current: 1 }, 5200, 20_000);
  assert(again.decisions[0].at - 5200 >= 6000, "waited the doubled hold");
});

Deno.test("switch policy: a pin wins; no pin is automatic again", () => {
  const policy = new SwitchPolicy();
  assertEquals(
    policy.decide(0, {
      lagMs: 5000,
      capacityBps: 100_000,
      bitrates: BITRATES,
      current: 0,
      pinned: 0,
    }),
    null,
  );
  assertEquals(
    policy.decide(0, { lagMs: 0, capacityBps: 9e9, bitrates: BITRATES, current: 0, pinned: 1 }),
    { target: 1, reason: "pin" },
  );
});

Deno.test("switch policy: at the start lag alone moves no viewer down for startHoldMs; capacity does", () => {
  const policy = new SwitchPolicy();
  policy.started(1000);
  const late = { lagMs: 600, bitrates: BITRATES, current: 0 };
  assertEquals(policy.decide(1500, { ...late, capacityBps: undefined }), null, "lag, no capacity");
  assertEquals(policy.decide(2000, { ...late, capacityBps: 5_000_000 }), null, "the top fits");
  assertEquals(
    policy.decide(3900, { ...late, capacityBps: undefined }),
    null,
    "still inside the hold",
  );
  assertEquals(
    policy.decide(4100, { ...late, capacityBps: undefined }),
    { target: 1, reason: "down" },
    "after 3 s, lag moves it down",
  );
  const slow = new SwitchPolicy();
  slow.started(1000);
  assertEquals(
    slow.decide(1200, { ...late, capacityBps: 1_200_000 }),
    { target: 1, reason: "down" },
    "a capacity the top does not fit: down at once",
  );
});
