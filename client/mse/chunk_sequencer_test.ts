import { assertEquals } from "../../tests/helpers/assert.ts";
import { ChunkSequencer } from "./chunk_sequencer.ts";

interface Chunk {
  n: number;
  starts: boolean;
}

/** A sequencer whose chunks finish when the test says, recording the order of events. */
function setUp(maxChunks = 3, maxOperations = 10) {
  const events: string[] = [];
  const release: Array<() => void> = [];
  let operations = 0;
  const sequencer = new ChunkSequencer<Chunk>({
    process: (chunk) => {
      events.push(`start ${chunk.n}`);
      return new Promise<void>((resolve) => release.push(resolve)).then(() => {
        events.push(`end ${chunk.n}`);
        if (chunk.n < 0) throw new Error(`chunk ${chunk.n} fails`);
      });
    },
    fail: (error) => events.push(`fail: ${(error as Error).message}`),
    resync: () => events.push("resync"),
    maxChunks,
    maxOperations,
    operations: () => operations,
  });
  const finishAll = async () => {
    while (sequencer.pending > 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      release.shift()?.();
    }
    await sequencer.idle();
  };
  return { sequencer, events, finishAll, setOperations: (n: number) => operations = n };
}

Deno.test("ChunkSequencer processes chunks and tasks one at a time, in order", async () => {
  const { sequencer, events, finishAll } = setUp();
  sequencer.run(async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    events.push("set up");
  });
  sequencer.push({ n: 1, starts: true });
  sequencer.push({ n: 2, starts: false });
  assertEquals(sequencer.pending, 2);
  await finishAll();
  assertEquals(events, ["set up", "start 1", "end 1", "start 2", "end 2"]);
  assertEquals(sequencer.pending, 0);
});

Deno.test("ChunkSequencer skips to the next fragment start when chunks pile up", async () => {
  const { sequencer, events, finishAll } = setUp(2);
  sequencer.push({ n: 1, starts: true });
  sequencer.push({ n: 2, starts: false });
  sequencer.push({ n: 3, starts: false }); // two wait: skipped
  sequencer.push({ n: 4, starts: true }); // a fragment start, but chunks still wait: skipped
  await finishAll();
  sequencer.push({ n: 5, starts: false }); // still skipping: not a fragment start
  sequencer.push({ n: 6, starts: true }); // resumes here, on a new timeline
  await finishAll();
  assertEquals(events, ["start 1", "end 1", "start 2", "end 2", "resync", "start 6", "end 6"]);
});

Deno.test("ChunkSequencer skips when a SourceBuffer queue is full", async () => {
  const { sequencer, events, finishAll, setOperations } = setUp(10, 4);
  sequencer.push({ n: 1, starts: true });
  setOperations(4);
  sequencer.push({ n: 2, starts: false }); // the queue is full: skipped
  setOperations(0);
  sequencer.push({ n: 3, starts: false }); // skipping until a fragment start
  await finishAll();
  sequencer.push({ n: 4, starts: true });
  await finishAll();
  assertEquals(events, ["start 1", "end 1", "resync", "start 4", "end 4"]);
});

Deno.test("ChunkSequencer reports a failure and goes on with the next chunk", async () => {
  const { sequencer, events, finishAll } = setUp();
  sequencer.push({ n: -1, starts: true });
  sequencer.push({ n: 2, starts: false });
  await finishAll();
  assertEquals(events, ["start -1", "end -1", "fail: chunk -1 fails", "start 2", "end 2"]);
});
