import { assert, assertEquals, assertMatch } from "../tests/helpers/assert.ts";
import { formatBitrate, StatusLine } from "./status.ts";

Deno.test("on a TTY the status is one line rewritten in place", () => {
  let out = "";
  let now = 0;
  const status = new StatusLine({ tty: true, write: (text) => out += text, now: () => now });
  status.update({
    streamId: "a",
    state: "ready",
    fragments: 1,
    parts: 10,
    bytes: 0,
    dropped: 0,
    lastDuration: 2,
  });
  now = 2000;
  status.update({
    streamId: "a",
    state: "ready",
    fragments: 2,
    parts: 20,
    bytes: 500_000,
    dropped: 0,
    lastDuration: 2,
  });
  assertEquals(out.split("\r\x1b[2K").length, 3, "two redraws");
  assertMatch(out, /● a ready \| 2 frag \| 2\.00 Mbit\/s$/);
  status.log("hello");
  assert(
    out.includes("\r\x1b[2Khello\n\r\x1b[2K● a ready"),
    "the log line above, then the status again",
  );
  status.done();
  assertEquals(out.at(-1), "\n");
});

Deno.test("without a TTY: log lines for state changes and every 10 s", () => {
  const lines: string[] = [];
  let now = 0;
  const status = new StatusLine({ tty: false, write: (text) => lines.push(text), now: () => now });
  status.update({
    streamId: "a",
    state: "ready",
    fragments: 0,
    parts: 0,
    bytes: 0,
    dropped: 0,
    lastDuration: 0,
  });
  now = 1000;
  status.update({
    streamId: "a",
    state: "reconnecting",
    fragments: 1,
    parts: 0,
    bytes: 250_000,
    dropped: 1,
    lastDuration: 2,
  });
  now = 11000;
  status.update({
    streamId: "a",
    state: "ready",
    fragments: 5,
    parts: 0,
    bytes: 2_750_000,
    dropped: 1,
    lastDuration: 2,
  });
  assertEquals(lines, [
    "a: reconnecting\n",
    "a: reconnecting, 1 fragments, 0 parts, 2.00 Mbit/s, last 2.000 s, 1 dropped\n",
    "a: ready\n",
    "a: ready, 5 fragments, 0 parts, 2.00 Mbit/s, last 2.000 s, 1 dropped\n",
  ]);
  assertEquals(formatBitrate(800_000), "800 kbit/s");
});
