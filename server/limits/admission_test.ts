import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { parseConfig } from "../config.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import type { ServerSocket, SocketListener, TextFrame } from "../transport/transport.ts";
import { Admission, refuseSocket } from "./admission.ts";

function admission(env: Record<string, string>) {
  const lines: string[] = [];
  const metrics = new Metrics();
  const config = parseConfig({ PULL_SECRET: "p", PUSH_SECRET: "q", ...env });
  const instance = new Admission({ config, metrics, log: Logger.into((l) => lines.push(l)) });
  return { admission: instance, metrics, lines };
}

function request(address: string, origin?: string) {
  return {
    url: new URL("http://node/"),
    headers: new Headers(origin ? { origin } : {}),
    remoteAddress: address,
  };
}

Deno.test("checks run in order: rate, origin, node cap, open connections per address", async () => {
  const { admission: door, metrics } = admission({
    RATE_LIMIT_ENABLED: "YES",
    RATE_LIMIT_REQ_PER_SEC: "1",
    RATE_LIMIT_REQ_BURST: "3",
    RATE_LIMIT_CONNECTIONS: "2",
    MAX_CONNECTIONS: "10",
    ALLOWED_ORIGINS: "https://ok.example",
  });
  try {
    const first = door.admitSocket(request("10.0.0.1"), 0);
    assert(first.admitted);
    const evil = door.admitSocket(request("10.0.0.1", "https://evil.example"), 1);
    assert(!evil.admitted && evil.code === "ORIGIN_NOT_ALLOWED");
    const full = door.admitSocket(request("10.0.0.1", "https://ok.example"), 10);
    assert(!full.admitted && full.code === "SERVER_FULL");
    // The origin and cap refusals gave their slot back, but took a token each.
    const second = door.admitSocket(request("10.0.0.1"), 1);
    assert(second.admitted, "the fourth token");
    const rateOut = door.admitSocket(request("10.0.0.1"), 2);
    assert(!rateOut.admitted && rateOut.code === "RATE_LIMITED", "no token left");
    const other = door.admitSocket(request("10.0.0.2"), 1);
    assert(other.admitted);
    const third = door.admitSocket(request("10.0.0.2"), 2);
    assert(third.admitted);
    const over = door.admitSocket(request("10.0.0.2"), 3);
    assert(!over.admitted && over.code === "RATE_LIMITED" && over.message.includes("at most 2"));
    other.release();
    assert(door.admitSocket(request("10.0.0.2"), 2).admitted, "a released slot is free again");
    assertEquals(door.trackedAddresses, 2);
    const text = await metrics.registry.metrics();
    for (
      const [code, count] of [["ORIGIN_NOT_ALLOWED", 1], ["SERVER_FULL", 1], ["RATE_LIMITED", 2]]
    ) {
      assert(text.includes(`hlswscdn_refusals_total{code="${code}"} ${count}`), `${code} ${count}`);
    }
  } finally {
    door.destroy();
  }
});

Deno.test("a refusal after the cap gives back nothing it did not take", () => {
  const { admission: door } = admission({
    RATE_LIMIT_ENABLED: "YES",
    RATE_LIMIT_CONNECTIONS: "3",
    ALLOWED_ORIGINS: "https://ok.example",
    MAX_CONNECTIONS: "100",
  });
  try {
    const address = "10.0.0.9";
    const admitted = [];
    for (let index = 0; index < 3; index++) {
      const verdict = door.admitSocket(request(address), index);
      assert(verdict.admitted);
      admitted.push(verdict);
    }
    for (let round = 0; round < 7; round++) {
      const evil = door.admitSocket(request(address, "https://evil.example"), 3);
      assert(!evil.admitted && evil.code === "ORIGIN_NOT_ALLOWED");
      assertEquals(door.openConnections(address), 3, `round ${round}: the count holds`);
      const plain = door.admitSocket(request(address), 3);
      assert(!plain.admitted && plain.code === "RATE_LIMITED", `round ${round}`);
      const full = door.admitSocket(request(address), 100);
      assert(!full.admitted && full.code === "SERVER_FULL");
      assertEquals(door.openConnections(address), 3);
    }
    admitted[0].release();
    admitted[0].release(); // twice gives back once
    assertEquals(door.openConnections(address), 2);
    const again = door.admitSocket(request(address), 2);
    assert(again.admitted);
    assertEquals(door.openConnections(address), 3);
  } finally {
    door.destroy();
  }
});

Deno.test("connections that have not spoken are bounded per address, by default", () => {
  const { admission: door } = admission({ MAX_PENDING_CONNECTIONS_PER_ADDRESS: "2" });
  try {
    const first = door.admitSocket(request("10.0.0.1"), 0);
    const second = door.admitSocket(request("10.0.0.1"), 1);
    assert(first.admitted && second.admitted);
    const third = door.admitSocket(request("10.0.0.1"), 2);
    assert(!third.admitted && third.code === "RATE_LIMITED" && third.message.includes("at most 2"));
    assert(door.admitSocket(request("10.0.0.2"), 2).admitted, "another address");
    first.spoke();
    assert(door.admitSocket(request("10.0.0.1"), 2).admitted, "one spoke: room for another");
    second.release();
    assert(door.admitSocket(request("10.0.0.1"), 2).admitted, "one closed: room for another");
    assert(!door.admitSocket(request("10.0.0.1"), 2).admitted);
  } finally {
    door.destroy();
  }
  const defaults = admission({});
  try {
    const verdicts = Array.from(
      { length: 80 },
      (_, index) => defaults.admission.admitSocket(request("10.0.0.3"), index),
    );
    assertEquals(verdicts.filter((verdict) => verdict.admitted).length, 64, "64 by default");
  } finally {
    defaults.admission.destroy();
  }
  const whitelisted = admission({
    MAX_PENDING_CONNECTIONS_PER_ADDRESS: "1",
    RATE_LIMIT_WHITELIST: "10.1.0.0/16",
  });
  try {
    for (let index = 0; index < 5; index++) {
      assert(whitelisted.admission.admitSocket(request("10.1.2.3"), index).admitted);
    }
  } finally {
    whitelisted.admission.destroy();
  }
});

Deno.test("refusals are logged at most once a second per code, with a count", () => {
  const { admission: door, lines } = admission({ MAX_CONNECTIONS: "1" });
  try {
    for (let index = 0; index < 50; index++) door.admitSocket(request(`10.0.1.${index}`), 1);
    assertEquals(lines.length, 1);
    assert(lines[0].includes("refused 10.0.1.0 with SERVER_FULL"), lines[0]);
  } finally {
    door.destroy();
  }
});

Deno.test("by default, connections that speak are all admitted and nothing is tracked", () => {
  const { admission: door } = admission({});
  try {
    for (let index = 0; index < 100; index++) {
      const verdict = door.admitSocket(request("10.0.0.1", "https://any.example"), index);
      assert(verdict.admitted);
      verdict.spoke();
      assert(door.admitRequest("10.0.0.1"));
    }
    assertEquals(door.trackedAddresses, 0);
  } finally {
    door.destroy();
  }
});

Deno.test("a refused socket is told E with the code, closed, and dropped if it does not close", async () => {
  const sent: string[] = [];
  let closed: string | undefined;
  let terminated = false;
  let limit = Infinity;
  let listener: SocketListener | undefined;
  const socket: ServerSocket = {
    bufferedAmount: 0,
    listen: (l) => listener = l,
    sendText: (frame: TextFrame) => void sent.push(frame.text),
    sendMedia() {},
    setMaxMessageSize: (bytes) => limit = bytes,
    close: (_code, reason) => closed = reason,
    terminate: () => terminated = true,
  };
  refuseSocket(socket, "RATE_LIMITED", "slow down");
  assertEquals(sent, ["E:code=RATE_LIMITED&message=slow+down"]);
  assertEquals(closed, "RATE_LIMITED");
  assert(limit <= 1024, "a refused socket reads no large frame");
  listener!.onText("PULL:stream=a"); // ignored
  await new Promise((resolve) => setTimeout(resolve, 2100));
  assert(terminated, "dropped after the grace period");
  listener!.onClose(1006, "");
});
