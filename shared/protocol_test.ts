import { assert, assertEquals, assertThrows, deepStrictEqual } from "../tests/helpers/assert.ts";
import fc from "fast-check";
import {
  type KnownMessage,
  MAX_TEXT_MESSAGE_LENGTH,
  parseMessage,
  writeMessage,
} from "./protocol.ts";
import { ProtocolError } from "./errors.ts";

Deno.test("parseMessage reads the base messages of existing clients", () => {
  assertEquals(parseMessage("H"), { type: "H" });
  assertEquals(parseMessage("h:"), { type: "H" });
  assertEquals(parseMessage("OK"), { type: "OK" });
  assertEquals(parseMessage("CLOSE"), { type: "CLOSE" });
  assertEquals(parseMessage("F:duration=1.000000"), { type: "F", duration: 1 });
  assertEquals(parseMessage("E:code=ERROR_CODE&message=Example+error"), {
    type: "E",
    code: "ERROR_CODE",
    message: "Example error",
  });
  assertEquals(parseMessage("PUSH:stream=room%2Fs%2F1280x720-30~2500&auth=abc"), {
    type: "PUSH",
    stream: "room/s/1280x720-30~2500",
    auth: "abc",
  });
  assertEquals(
    parseMessage("Pull:stream=x&auth=t&only_source=true&max_initial_fragments=0&zzz=ignored"),
    { type: "PULL", stream: "x", auth: "t", onlySource: true, maxInitialFragments: 0 },
  );
});

Deno.test("parseMessage reads the extensions", () => {
  assertEquals(parseMessage("F:duration=2&seq=9&time=1700000000000.5&jump=1&discontinuity=true"), {
    type: "F",
    duration: 2,
    seq: 9,
    time: 1700000000000.5,
    jump: true,
    discontinuity: true,
  });
  assertEquals(parseMessage("P:seq=3&part=0&independent=1&time=5"), {
    type: "P",
    seq: 3,
    part: 0,
    independent: true,
    time: 5,
  });
  assertEquals(parseMessage("P:seq=3&part=4&last=1&duration=2.5"), {
    type: "P",
    seq: 3,
    part: 4,
    last: true,
    duration: 2.5,
  });
  assertEquals(parseMessage("PULL:stream=x&auth=&parts=1&after=41&via=a,b"), {
    type: "PULL",
    stream: "x",
    auth: "",
    parts: true,
    after: 41,
    via: ["a", "b"],
  });
  assertEquals(parseMessage("OK:parts=1"), { type: "OK", parts: true });
  assertEquals(parseMessage("OK:caps=errors"), { type: "OK", caps: ["errors"] });
  assertEquals(parseMessage("PUSH:stream=a&auth=t&caps=errors,clock"), {
    type: "PUSH",
    stream: "a",
    auth: "t",
    caps: ["errors", "clock"],
  });
  assertEquals(parseMessage("WHATEVER:x=1"), { type: "UNKNOWN", name: "WHATEVER" });
});

Deno.test("clock: at on F and P, delay on OK, T requests and answers", () => {
  assertEquals(parseMessage("F:duration=1&seq=2&time=5&at=1764210000123"), {
    type: "F",
    duration: 1,
    seq: 2,
    time: 5,
    at: 1764210000123,
  });
  assertEquals(parseMessage("P:seq=3&part=1&at=1764210000456.5"), {
    type: "P",
    seq: 3,
    part: 1,
    at: 1764210000456.5,
  });
  assertEquals(parseMessage("OK:parts=1&caps=errors,clock&delay=0.15"), {
    type: "OK",
    parts: true,
    caps: ["errors", "clock"],
    delay: 0.15,
  });
  assertEquals(parseMessage("T:id=7"), { type: "T", id: 7 });
  assertEquals(parseMessage("t:id=7&now=1764210000123.125"), {
    type: "T",
    id: 7,
    now: 1764210000123.125,
  });
  assertEquals(writeMessage({ type: "T", id: 9 }), "T:id=9");
  assertEquals(
    writeMessage({ type: "T", id: 9, now: 1764210000123.125 }),
    "T:id=9&now=1764210000123.125",
  );
  assertEquals(
    writeMessage({ type: "OK", caps: ["errors", "clock"], delay: 0.15 }),
    "OK:caps=errors%2Cclock&delay=0.15",
  );
  assertEquals(
    writeMessage({ type: "P", seq: 1, part: 0, time: 2, at: 3, independent: true }),
    "P:seq=1&part=0&time=2&at=3&independent=1",
  );
  assertEquals(writeMessage({ type: "F", duration: 1, seq: 4 }), "F:duration=1&seq=4", "no at");
});

Deno.test("caps: present even when empty, absent when not sent", () => {
  const empty = parseMessage("PULL:stream=a&auth=t&caps=");
  assert(empty.type === "PULL");
  assertEquals(empty.caps, [], "an empty caps still marks a new client");
  const none = parseMessage("PULL:stream=a&auth=t&parts=1&after=3");
  assert(none.type === "PULL");
  assertEquals(none.caps, undefined, "parts and after do not make a client new");
  assertEquals(writeMessage({ type: "OK", caps: [] }), "OK:caps=");
  assertEquals(
    writeMessage({ type: "PULL", stream: "a", auth: "", caps: ["errors"] }),
    "PULL:stream=a&auth=&caps=errors",
  );
});

Deno.test("parseMessage names the bad parameter", () => {
  const cases: [string, RegExp][] = [
    ["F:duration=abc", /'duration'/],
    ["F", /missing parameter 'duration'/],
    ["F:duration=-1", /'duration'/],
    ["PULL:auth=x", /missing parameter 'stream'/],
    ["PULL:stream=x&max_initial_fragments=-2", /'max_initial_fragments'/],
    ["PULL:stream=x&max_initial_fragments=1.5", /'max_initial_fragments'/],
    ["PULL:stream=x&only_source=maybe", /'only_source'/],
    ["P:seq=1", /missing parameter 'part'/],
    ["P:seq=1&part=2&last=1", /needs 'duration'/],
    ["", /letters and digits/],
    ["F-X:duration=1", /letters and digits/],
    [
      "F:duration=1&seq=9007199254740992",
      /'seq' must be a whole number from 0 to 9007199254740991/,
    ],
    ["PULL:stream=x&via=edge-1,a%20b", /'via' holds a node id that is not valid: "a b"/],
    ["PULL:stream=x&via=" + "x".repeat(65), /'via' holds a node id/],
    ["F:duration=1&at=-1", /'at' must be a number from 0/],
    ["P:seq=1&part=0&at=9e15", /'at' must be a number from 0 to 8640000000000000/],
    ["OK:delay=abc", /'delay'/],
    ["OK:delay=-0.5", /'delay'/],
    ["T", /T: missing parameter 'id'/],
    ["T:id=0", /'id' must be a whole number from 1/],
    ["T:id=1.5", /'id' must be a whole number/],
    ["T:id=1&now=x", /'now'/],
  ];
  for (const [text, pattern] of cases) {
    const error = assertThrows(() => parseMessage(text), ProtocolError);
    assertEquals(error.code, "INVALID_MESSAGE", text);
    if (!pattern.test(error.message)) throw new Error(`${text}: '${error.message}' !~ ${pattern}`);
  }
  const long = assertThrows(
    () => parseMessage("H:" + "x".repeat(MAX_TEXT_MESSAGE_LENGTH)),
    ProtocolError,
  );
  assertEquals(long.code, "MESSAGE_TOO_LARGE");
});

Deno.test("client values in error texts are quoted, escaped and cut", () => {
  const forged = "%0A2026-01-01T00:00:00.000Z [ERROR] FORGED%1B[31m";
  const error = assertThrows(
    () => parseMessage(`PULL:stream=a&only_source=${forged}`),
    ProtocolError,
  );
  assertEquals(
    error.message,
    "PULL: 'only_source' must be true or false, got \"\\x0a2026-01-01T00:00:00.000Z [ERROR] FORGED\\x1b[31m\"",
  );
  const long = assertThrows(() => parseMessage(`F:duration=${"9".repeat(500)}x`), ProtocolError);
  assert(long.message.length < 200 && long.message.includes("(501 characters)"), long.message);
  const type = assertThrows(() => parseMessage("\u001b[31m:x"), ProtocolError);
  assert(!type.message.includes("\u001b"), type.message);
  assertEquals(parseMessage("PULL:stream=x&via=edge-1,mid.fra_2~b").type, "PULL");
});

Deno.test("writeMessage writes only what older peers know when there are no extensions", () => {
  assertEquals(writeMessage({ type: "F", duration: 1.5 }), "F:duration=1.5");
  assertEquals(writeMessage({ type: "OK" }), "OK");
  assertEquals(writeMessage({ type: "H" }), "H");
  assertEquals(
    writeMessage({
      type: "PULL",
      stream: "a b",
      auth: "t",
      onlySource: true,
      maxInitialFragments: 2,
    }),
    "PULL:stream=a+b&auth=t&only_source=true&max_initial_fragments=2",
  );
});

const text = fc.string({ unit: "grapheme", maxLength: 40 });
const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const duration = fc.double({ min: 0, max: 3600, noNaN: true, noDefaultInfinity: true });
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const flagArb = fc.option(fc.constant(true as const), { nil: undefined });
const stampArb = {
  seq: maybe(seq),
  time: maybe(fc.double({ min: 0, max: 8.64e15, noNaN: true })),
  at: maybe(fc.double({ min: 0, max: 8.64e15, noNaN: true })),
  jump: flagArb,
  discontinuity: flagArb,
};
const capsArb = fc.array(fc.stringMatching(/^[a-z0-9_-]{1,12}$/), { maxLength: 4 });
const messageArb: fc.Arbitrary<KnownMessage> = fc.oneof(
  fc.constant({ type: "H" as const }),
  fc.constant({ type: "CLOSE" as const }),
  fc.record({
    type: fc.constant("OK" as const),
    parts: flagArb,
    caps: maybe(capsArb),
    delay: maybe(duration),
  }),
  fc.record({
    type: fc.constant("T" as const),
    id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    now: maybe(fc.double({ min: 0, max: 8.64e15, noNaN: true })),
  }),
  fc.record({ type: fc.constant("E" as const), code: text, message: text }),
  fc.record({ type: fc.constant("F" as const), duration, ...stampArb }),
  fc.record({
    type: fc.constant("P" as const),
    ...stampArb,
    seq,
    part: fc.integer({ min: 0, max: 100000 }),
    independent: flagArb,
  }),
  fc.record({
    type: fc.constant("P" as const),
    ...stampArb,
    seq,
    part: fc.integer({ min: 0, max: 100000 }),
    last: fc.constant(true as const),
    duration,
  }),
  fc.record({
    type: fc.constant("PUSH" as const),
    stream: text,
    auth: text,
    parts: flagArb,
    caps: maybe(capsArb),
  }),
  fc.record({
    type: fc.constant("PULL" as const),
    stream: text,
    auth: text,
    onlySource: flagArb,
    maxInitialFragments: maybe(fc.integer({ min: 0, max: 1000 })),
    parts: flagArb,
    after: maybe(seq),
    via: maybe(fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 4 })),
    caps: maybe(capsArb),
  }),
);

/** Drops keys whose value is undefined, as the parser never sets them. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

Deno.test("property: every message survives a write and a parse", () => {
  fc.assert(
    fc.property(messageArb, (message) => {
      deepStrictEqual(parseMessage(writeMessage(message)), defined(message));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: no input makes the parser throw anything but a ProtocolError", () => {
  const anyText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.tuple(
      fc.constantFrom("H", "E", "OK", "F", "P", "T", "CLOSE", "PUSH", "PULL", "pull", "x"),
      fc.string({ unit: "binary", maxLength: 200 }),
    ).map(([type, rest]) => `${type}:${rest}`),
    fc.tuple(
      fc.constantFrom("F", "P", "PULL", "PUSH", "OK", "T"),
      fc.dictionary(
        fc.constantFrom(
          "duration",
          "seq",
          "part",
          "time",
          "last",
          "stream",
          "auth",
          "max_initial_fragments",
          "after",
          "via",
          "parts",
          "only_source",
          "caps",
          "at",
          "delay",
          "id",
          "now",
        ),
        fc.string({ unit: "binary", maxLength: 30 }),
      ),
    ).map(([type, params]) => `${type}:${new URLSearchParams(params)}`),
  );
  fc.assert(
    fc.property(anyText, (input) => {
      try {
        parseMessage(input);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
    }),
    { numRuns: 5000 },
  );
});
