/**
 * Property-based fuzzing of a live node (`npm:fast-check`, bounded in time: `FUZZ_SECONDS` per
 * transport, 20 by default). Each run opens a few raw WebSocket connections that send random
 * sequences of control messages (valid, nearly valid and garbage, with good, wrong, expired and
 * malformed tokens, control characters in stream ids and parameters), binary frames of random
 * sizes, partial and malformed frames, frames that announce up to 45 MB before or after the first
 * message, and then hang up in random ways. Meanwhile a well-behaved publisher and spectator use
 * the same node.
 *
 * Properties: the node never crashes and answers `/health` after every run; the watched pair
 * receives every fragment byte-exact; every line the node logs is one well-formed line without an
 * escape sequence; when everything is closed, `/stats` shows no connection and no buffered byte,
 * and no `INTERNAL_ERROR` was ever sent. Set `FUZZ_SEED` to replay a run.
 */

import fc from "fast-check";
import { assert, assertEquals } from "../helpers/assert.ts";
import { pullToken, pushToken } from "../helpers/client.ts";
import { metrics, stats, waitUntil } from "../helpers/node_metrics.ts";
import {
  type NodeProcess,
  startNode,
  TEST_SECRETS,
  testTransports,
} from "../helpers/node_process.ts";
import { RawWebSocket } from "../helpers/raw_socket.ts";
import { WatchedStream } from "../helpers/watched_stream.ts";
import { signToken } from "../../shared/token.ts";

const SECONDS = Number(Deno.env.get("FUZZ_SECONDS") ?? "20");
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[([A-Z]+)\] /;
const MAX_BINARY = 100_000;

type TokenKind =
  | "valid"
  | "wrong-secret"
  | "expired"
  | "garbage"
  | "empty"
  | "other-stream"
  | "other-action";

/** One thing a fuzz connection does. */
type Action =
  | { kind: "hello"; type: "PUSH" | "PULL"; stream: string; token: TokenKind; extra: string }
  | { kind: "text"; text: string }
  | { kind: "binary"; size: number }
  | { kind: "fragment"; size: number; seq?: number }
  | { kind: "part"; seq: number; part: number; last: boolean; size: number }
  | { kind: "partial"; declared: number; sent: number }
  | { kind: "announce"; opcode: 1 | 2; declared: number; sent: number }
  | { kind: "malformed"; bytes: readonly number[] }
  | { kind: "pause"; ms: number };

/** How a fuzz connection ends. */
type Ending = "close-frame" | "hang-up" | "leave-open";

/** Text with the characters that forge log lines or drive terminals. */
const hostile = fc.constantFrom(
  "\n2026-01-01T00:00:00.000Z [ERROR] FORGED",
  "\r\u001b[31mred\u001b[0m",
  "\u0000nul",
  "\u202etxt.exe",
  "\u2028line",
  "\u0085next",
);
const streams = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("f/a", "f/b", "f/c", "good", "", "x".repeat(256)) },
  { weight: 1, arbitrary: hostile.map((text) => `f/${text}`) },
);
const numberText = fc.oneof(
  fc.integer({ min: -5, max: 50 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom("", "abc", "1e309", "-0", "0x10", " 1"),
);
const param = fc.tuple(
  fc.constantFrom(
    "duration",
    "seq",
    "part",
    "last",
    "independent",
    "time",
    "jump",
    "discontinuity",
    "parts",
    "after",
    "via",
    "max_initial_fragments",
    "only_source",
    "code",
    "message",
    "stream",
    "auth",
  ),
  fc.oneof(
    numberText,
    fc.constantFrom("1", "true", "0", "false", "yes"),
    fc.string({ maxLength: 12 }),
    hostile,
    fc.string({ unit: "binary", maxLength: 12 }),
  ),
).map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
const query = fc.array(param, { maxLength: 5 }).map((params) => params.join("&"));
const messageType = fc.constantFrom("F", "P", "H", "E", "OK", "CLOSE", "PUSH", "PULL", "f", "Zz9");

/** A PUSH or PULL, with a valid token four times in ten. */
const hello: fc.Arbitrary<Action> = fc.record({
  kind: fc.constant("hello" as const),
  type: fc.constantFrom("PUSH" as const, "PULL" as const),
  stream: streams,
  token: fc.oneof(
    { weight: 6, arbitrary: fc.constant<TokenKind>("valid") },
    {
      weight: 9,
      arbitrary: fc.constantFrom<TokenKind>(
        "wrong-secret",
        "expired",
        "garbage",
        "empty",
        "other-stream",
        "other-action",
      ),
    },
  ),
  extra: fc.oneof(fc.constant(""), query),
});

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: hello },
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.tuple(messageType, query).map(([type, q]) => q === "" ? type : `${type}:${q}`),
      fc.string({ maxLength: 60 }),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      hostile.map((text) => `X${text}`),
      fc.constant("P:seq=0&part=0&independent=1&duration=0.1"),
      fc.constant("F:duration=1"),
      fc.constant("x".repeat(70_000)),
    ).map((text) => ({ kind: "text" as const, text })),
  },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.integer({ min: 0, max: 2000 }),
      fc.integer({ min: 0, max: MAX_BINARY * 1.3 }),
    )
      .map((size) => ({ kind: "binary" as const, size })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("fragment" as const),
      size: fc.integer({ min: 0, max: 40_000 }),
      seq: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("part" as const),
      seq: fc.integer({ min: 0, max: 3 }),
      part: fc.integer({ min: 0, max: 3 }),
      last: fc.boolean(),
      size: fc.integer({ min: 0, max: 30_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("partial" as const),
      declared: fc.integer({ min: 200, max: 60_000 }),
      sent: fc.integer({ min: 0, max: 150 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("announce" as const),
      opcode: fc.constantFrom<1 | 2>(1, 2),
      declared: fc.integer({ min: 30_000, max: 45_000_000 }),
      sent: fc.integer({ min: 0, max: 20_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant([0x81, 0x02, 0x48, 0x49]), // unmasked text frame
      fc.constant([0x83, 0x80, 1, 2, 3, 4]), // reserved opcode
      fc.constant([0xc1, 0x80, 1, 2, 3, 4]), // RSV1 set without an extension
      fc.constant([0x89, 0x80, 1, 2, 3, 4]), // ping
      fc.constant([0x01, 0x81, 1, 2, 3, 4, 0x49]), // text fragment never continued
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
    ).map((bytes) => ({ kind: "malformed" as const, bytes })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 40 }).map((ms) => ({ kind: "pause" as const, ms })),
  },
);

/** Most connections start with a PUSH or PULL, so they get past the first message. */
const connection = fc.record({
  actions: fc.tuple(
    fc.option(hello, { freq: 4, nil: undefined }),
    fc.array(action, { maxLength: 20 }),
  )
    .map(([first, rest]) => first === undefined ? rest : [first, ...rest]),
  ending: fc.constantFrom<Ending>("close-frame", "hang-up", "leave-open"),
});
const scenario = fc.array(connection, { minLength: 1, maxLength: 6 });

async function token(kind: TokenKind, type: "PUSH" | "PULL", stream: string): Promise<string> {
  switch (kind) {
    case "valid":
      return type === "PUSH" ? await pushToken(stream) : await pullToken(stream);
    case "wrong-secret":
      return await signToken({ secret: "wrong", action: type, stream });
    case "expired": {
      const secret = type === "PUSH" ? TEST_SECRETS.PUSH_SECRET : TEST_SECRETS.PULL_SECRET;
      return await signToken({ secret, action: type, stream, lifetimeSeconds: -5 });
    }
    case "garbage":
      return "eyJhbGciOiJub25lIn0.e30.";
    case "empty":
      return "";
    case "other-stream":
      return type === "PUSH"
        ? await pushToken(`${stream}-other`)
        : await pullToken(`${stream}-other`);
    case "other-action":
      return type === "PUSH" ? await pullToken(stream) : await pushToken(stream);
  }
}

/** Plays one connection's script; returns how many messages it sent and whether it got `OK`. */
async function play(
  node: NodeProcess,
  script: { actions: Action[]; ending: Ending },
): Promise<{ sent: number; accepted: boolean }> {
  const raw = await RawWebSocket.connect(node.port);
  raw.resume();
  let sent = 0;
  try {
    for (const step of script.actions) {
      if (raw.closed) break;
      switch (step.kind) {
        case "hello": {
          // Publishing the watched stream would take it over: that is not abuse, it is allowed.
          const stream = step.type === "PUSH" && step.stream === "good" ? "f/a" : step.stream;
          const auth = encodeURIComponent(await token(step.token, step.type, stream));
          const extra = step.extra === "" ? "" : `&${step.extra}`;
          await raw.sendText(
            `${step.type}:stream=${encodeURIComponent(stream)}&auth=${auth}${extra}`,
          );
          break;
        }
        case "text":
          await raw.sendText(step.text);
          break;
        case "binary":
          await raw.sendFrame(2, new Uint8Array(step.size).fill(step.size & 0xff));
          break;
        case "fragment":
          await raw.sendText(
            step.seq === undefined ? "F:duration=1" : `F:duration=1&seq=${step.seq}`,
          );
          await raw.sendFrame(2, new Uint8Array(step.size).fill(0x47));
          sent++;
          break;
        case "part": {
          const flags = `${step.part === 0 ? "&independent=1" : ""}${step.last ? "&last=1" : ""}`;
          await raw.sendText(`P:seq=${step.seq}&part=${step.part}&duration=0.25${flags}`);
          await raw.sendFrame(2, new Uint8Array(step.size).fill(0x47));
          sent++;
          break;
        }
        case "partial": {
          const header = [0x82, 0x80 | 126, step.declared >> 8, step.declared & 0xff, 9, 9, 9, 9];
          await raw.sendRaw(new Uint8Array([...header, ...new Array(step.sent).fill(7)]));
          break;
        }
        case "announce": {
          // A masked frame with a 64-bit length, and only the start of its payload.
          const header = new Uint8Array(14 + step.sent);
          header[0] = 0x80 | step.opcode;
          header[1] = 0x80 | 127;
          new DataView(header.buffer).setBigUint64(2, BigInt(step.declared));
          await raw.sendRaw(header);
          break;
        }
        case "malformed":
          await raw.sendRaw(new Uint8Array(step.bytes));
          break;
        case "pause":
          await new Promise((resolve) => setTimeout(resolve, step.ms));
          break;
      }
      sent++;
    }
    if (script.ending === "close-frame" && !raw.closed) {
      await raw.sendFrame(8, new Uint8Array([3, 232]));
    }
    if (script.ending === "leave-open") await new Promise((resolve) => setTimeout(resolve, 20));
  } catch {
    // The node closed the socket under us: expected for most scripts.
  } finally {
    await raw.close();
  }
  const accepted = raw.frames.some((frame) =>
    frame.opcode === 1 && new TextDecoder().decode(frame.payload).startsWith("OK")
  );
  return { sent, accepted };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] fuzz: random messages, tokens and disconnects (${SECONDS} s)`, async () => {
    await using node = await startNode({
      transport,
      env: {
        FIRST_MESSAGE_TIMEOUT_SECONDS: "2",
        IDLE_TIMEOUT_SECONDS: "4",
        HEARTBEAT_INTERVAL_SECONDS: "1",
        MAX_BINARY_MESSAGE_SIZE: String(MAX_BINARY),
        BUFFER_MEMORY_LIMITER_ENABLED: "YES",
        BUFFER_MEMORY_LIMIT_MB: "4",
        FRAGMENT_BUFFER_MAX_LENGTH: "5",
        PUBLISHER_GRACE_SECONDS: "1",
        LOG_INFO: "YES",
      },
    });
    await using watched = await WatchedStream.start(node.wsUrl, "good", 150);
    let messages = 0;
    let runs = 0;
    let accepted = 0;
    const started = performance.now();
    const seed = Deno.env.get("FUZZ_SEED");
    await fc.assert(
      fc.asyncProperty(scenario, async (connections) => {
        runs++;
        const results = await Promise.all(connections.map((script) => play(node, script)));
        for (const result of results) {
          messages += result.sent;
          if (result.accepted) accepted++;
        }
        assert(node.status === undefined, `the node exited:\n${node.output.slice(-3000)}`);
        const health = await fetch(`${node.httpUrl}/health`);
        assertEquals(health.status, 200);
        await health.body?.cancel();
      }),
      {
        numRuns: 1_000_000,
        interruptAfterTimeLimit: SECONDS * 1000,
        markInterruptAsFailure: false,
        seed: seed === undefined ? undefined : Number(seed),
      },
    );
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `[${transport}] fuzz: ${runs} runs, ${messages} messages in ${elapsed.toFixed(1)} s ` +
        `(${Math.round(messages / elapsed)} messages/s), ${accepted} connections got OK`,
    );

    const result = await watched.finish();
    assert(result.sent >= SECONDS * 3, `the watched pair ran throughout (${result.sent})`);
    await waitUntil(
      async () => (await stats(node)).connections === 0,
      15_000,
      "no connection left",
    );
    // Streams whose publisher vanished end when their grace (1 s) runs out.
    await waitUntil(async () => (await stats(node)).streams.length === 0, 5000, "no stream left");
    const document = await stats(node);
    assertEquals(document.bufferBytes, 0, "no buffered byte left");
    assertEquals(document.streams, []);
    const values = await metrics(node);
    assertEquals(values.get('hlswscdn_refusals_total{code="INTERNAL_ERROR"}'), undefined);
    for (const line of node.output.split("\n")) {
      if (line === "") continue;
      const level = LOG_LINE.exec(line)?.[1];
      assert(level !== undefined, `a well-formed log line: ${JSON.stringify(line.slice(0, 300))}`);
      assert(level !== "ERROR", `no error was logged: ${line.slice(0, 3000)}`);
      assert(!line.includes("\u001b"), `no escape sequence: ${JSON.stringify(line.slice(0, 300))}`);
    }
    assert(runs > 10 && messages > 100, `fuzzing did run (${runs} runs, ${messages} messages)`);
    assert(accepted > 5, `some connections got as far as publishing or pulling (${accepted})`);
  });
}
