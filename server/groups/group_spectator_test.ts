import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import type { Message } from "../../shared/protocol.ts";
import { parseRenditionId } from "../../shared/rendition.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import type { StreamEnd } from "../stream_end.ts";
import { RecordingSocket } from "../testing/recording_socket.ts";
import { GroupSpectator } from "./group_spectator.ts";

const TOP = "g/640x360-30~800";
const LOW = "g/320x180-30~300";
const log = Logger.silent();

function setup(parts = true) {
  const metrics = new Metrics();
  const memory = new BufferMemory();
  const streams = new Map(
    [TOP, LOW].map((id) => [id, new Stream({ id, maxFragments: 3, memory, metrics, log })]),
  );
  const socket = new RecordingSocket();
  const ends: StreamEnd[] = [];
  const group = new GroupSpectator(socket, {
    renditions: [TOP, LOW].map((id) => parseRenditionId(id)!),
    open: (id) => Promise.resolve(streams.get(id)!),
    parts,
    policy: { maxQueueBytes: 1e9, maxLagMs: 60_000, stallTimeoutMs: 60_000 },
    metrics,
    log,
    finish: (end) => ends.push(end),
  });
  const top = streams.get(TOP)!;
  const low = streams.get(LOW)!;
  /** Pushes part `part` of fragment `seq` (two parts each) with a byte saying which rendition. */
  const push = (stream: Stream, seq: number, part: number) =>
    stream.pushPart(
      { type: "P", seq, part, last: part === 1 || undefined, duration: part === 1 ? 1 : undefined },
      new Uint8Array(188).fill(stream === top ? 1 : 2),
    );
  /** What the viewer got: "T"/"L" for each media message, with the F/P text. */
  const got = () => {
    const result: { from: string; message: Message }[] = [];
    for (let i = 0; i < socket.sent.length; i += 2) {
      const data = socket.sent[i + 1] as Uint8Array;
      result.push({
        from: data[0] === 1 ? "T" : "L",
        message: socket.messages()[i / 2],
      });
    }
    return result;
  };
  return { group, socket, top, low, push, got, ends, metrics };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("group spectator: starts stamped, switches at a fragment start when the current rendition is ahead", async () => {
  const { group, top, low, push, got } = setup();
  group.begin(0, top, { maxInitialFragments: 0 });
  push(top, 1, 0);
  push(low, 1, 0);
  push(top, 1, 1);
  push(low, 1, 1);
  group.pin(LOW);
  await tick();
  push(top, 2, 0); // the current rendition starts fragment 2 first: kept back
  push(top, 2, 1);
  push(low, 2, 0); // the target's start of 2: the switch
  push(low, 2, 1);
  push(top, 3, 0);
  push(low, 3, 0);
  const seen = got();
  assertEquals(seen.map((item) => item.from).join(""), "TTLLL");
  const first = seen[0].message;
  assert(first.type === "P" && first.rendition === TOP && first.reason === "start");
  const switched = seen[2].message;
  assert(switched.type === "P" && switched.seq === 2 && switched.part === 0);
  assertEquals([switched.rendition, switched.reason], [LOW, "pin"]);
  assert(seen.every(({ message }) => message.type === "P" && !message.jump), "no jump");
  assertEquals(top.subscriberCount, 0, "the old rendition left");
  assertEquals(group.state.rendition, LOW);
});

Deno.test("group spectator: a target ahead of the current rendition waits for its fragment's end", async () => {
  const { group, top, low, push, got } = setup();
  group.begin(1, low, { maxInitialFragments: 0 });
  push(low, 1, 0);
  group.pin(TOP);
  await tick();
  push(top, 2, 0); // held: fragment 1 of the current rendition is not complete
  push(top, 2, 1);
  push(low, 1, 1);
  push(low, 2, 0);
  push(top, 3, 0);
  const seen = got();
  assertEquals(seen.map((item) => item.from).join(""), "LLTTT");
  const switched = seen[2].message;
  assert(switched.type === "P" && switched.seq === 2 && switched.rendition === TOP);
  assertEquals(low.subscriberCount, 0);
});

Deno.test("group spectator: a target that never starts in time is dropped; the current rendition goes on", async () => {
  const { group, top, low, push, got } = setup();
  group.begin(0, top, { maxInitialFragments: 0 });
  group.pin(LOW);
  await tick();
  for (const seq of [1, 2, 3]) {
    push(top, seq, 0);
    push(top, seq, 1);
  }
  assertEquals(
    got().map((item) => item.from).join(""),
    "TTTTTT",
    "fragments 1 and 2 late but whole, then 3 as it comes",
  );
  assertEquals(low.subscriberCount, 0, "given up after two late starts, not tried again at once");
  group.pin(undefined);
});

Deno.test("group spectator: whole fragments, and the end of the current rendition ends the viewer", async () => {
  const { group, top, low, got, ends } = setup(false);
  group.begin(0, top, { maxInitialFragments: 0 });
  const fragment = (stream: Stream, seq: number) =>
    stream.pushFragment(
      { type: "F", duration: 1, seq },
      new Uint8Array(188).fill(stream === top ? 1 : 2),
    );
  fragment(top, 1);
  group.pin(LOW);
  await tick();
  fragment(low, 2); // target first: nothing of the current rendition is in progress
  fragment(top, 2);
  fragment(low, 3);
  assertEquals(got().map((item) => item.from).join(""), "TLL");
  low.end({ kind: "closed" });
  assertEquals(ends, [{ kind: "closed" }]);
  group.close();
});
