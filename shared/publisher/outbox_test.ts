import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import type { FragmentMessage, PartMessage } from "../protocol.ts";
import { type OutboxSink, PublisherOutbox } from "./outbox.ts";

class RecordingSink implements OutboxSink {
  sent: { message: FragmentMessage | PartMessage; data: Uint8Array }[] = [];
  congested = false;
  send(message: FragmentMessage | PartMessage, data: Uint8Array): void {
    this.sent.push({ message, data });
  }
  get summary(): string[] {
    return this.sent.map(({ message }) =>
      message.type === "F"
        ? `F${message.seq}`
        : `P${message.seq}.${message.part}${message.last ? "L" : ""}`
    );
  }
}

const bytes = (value: number, size = 188) => new Uint8Array(size).fill(value);

function outbox(events: string[] = []): PublisherOutbox {
  return new PublisherOutbox({
    firstSeq: 100,
    now: () => 5000,
    onSent: (kind, seq, _bytes, complete, part) =>
      events.push(
        `${kind} ${seq}${part === undefined ? "" : `.${part}`}${complete ? " complete" : ""}`,
      ),
  });
}

Deno.test("parts go out at once with seq, index, time, independent and last", () => {
  const events: string[] = [];
  const box = outbox(events);
  const sink = new RecordingSink();
  box.attach(sink, true);
  assertEquals(box.addPart({ data: bytes(1), time: 1234 }), "sent");
  assertEquals(box.addPart({ data: bytes(2), independent: true, time: 1434 }), "sent");
  assertEquals(box.addPart({ data: bytes(3), last: true, duration: 2 }), "sent");
  assertEquals(box.addPart({ data: bytes(4) }), "sent");
  assertEquals(sink.summary, ["P100.0", "P100.1", "P100.2L", "P101.0"]);
  assertEquals(sink.sent[0].message, {
    type: "P",
    seq: 100,
    part: 0,
    time: 1234,
    independent: true,
    discontinuity: undefined,
  });
  assertEquals(sink.sent[1].message, {
    type: "P",
    seq: 100,
    part: 1,
    time: 1434,
    independent: true,
    discontinuity: undefined,
  });
  assertEquals(sink.sent[2].message, {
    type: "P",
    seq: 100,
    part: 2,
    time: 5000,
    independent: undefined,
    discontinuity: undefined,
    last: true,
    duration: 2,
  });
  assertEquals(events, ["part 100.0", "part 100.1", "part 100.2 complete", "part 101.0"]);
});

Deno.test("for a node without parts, parts are joined into one whole F", () => {
  const box = outbox();
  const sink = new RecordingSink();
  box.attach(sink, false);
  assertEquals(box.addPart({ data: bytes(1), time: 1000 }), "held");
  assertEquals(box.addPart({ data: bytes(2), last: true, duration: 1.5 }), "sent");
  assertEquals(sink.sent.length, 1);
  assertEquals(sink.sent[0].message, {
    type: "F",
    seq: 100,
    duration: 1.5,
    time: 1000,
    discontinuity: undefined,
  });
  assertEquals([...sink.sent[0].data.slice(186, 190)], [1, 1, 2, 2]);
});

Deno.test("while disconnected only the newest complete fragment is held", () => {
  const events: string[] = [];
  const box = outbox(events);
  for (let index = 0; index < 5; index++) {
    assertEquals(box.addFragment({ data: bytes(index, 1000), duration: 2, time: index }), "held");
  }
  assertEquals(box.heldBytes, 1000, "one fragment held");
  assertEquals(events, ["dropped 100", "dropped 101", "dropped 102", "dropped 103"]);
  const sink = new RecordingSink();
  box.attach(sink, true);
  assertEquals(sink.summary, ["F104"]);
  assertEquals(sink.sent[0].data[0], 4);
  assertEquals(box.heldBytes, 0);
});

Deno.test("a fragment cut by a disconnect is sent again from part 0, never half", () => {
  const box = outbox();
  const first = new RecordingSink();
  box.attach(first, true);
  box.addPart({ data: bytes(1) });
  box.addPart({ data: bytes(2) });
  box.attach(null, false); // the connection is lost
  box.addPart({ data: bytes(3) });
  assertEquals(box.heldBytes, 3 * 188);
  const second = new RecordingSink();
  box.attach(second, true);
  assertEquals(second.summary, ["P100.0", "P100.1", "P100.2"]);
  box.addPart({ data: bytes(4), last: true, duration: 2 });
  assertEquals(second.summary, ["P100.0", "P100.1", "P100.2", "P100.3L"]);

  // Lost again mid-fragment, and the fragment ends while disconnected: it goes out whole.
  box.addPart({ data: bytes(5) });
  box.attach(null, false);
  box.addPart({ data: bytes(6), last: true, duration: 2 });
  const third = new RecordingSink();
  box.attach(third, true);
  assertEquals(third.summary, ["F101"]);
  assertEquals(third.sent[0].data.byteLength, 2 * 188);
});

Deno.test("a congested socket drops whole fragments, and the next one goes out", () => {
  const events: string[] = [];
  const box = outbox(events);
  const sink = new RecordingSink();
  box.attach(sink, true);
  sink.congested = true;
  assertEquals(box.addPart({ data: bytes(1) }), "dropped");
  sink.congested = false; // drained mid-fragment: the fragment stays dropped
  assertEquals(box.addPart({ data: bytes(2), last: true, duration: 2 }), "dropped");
  assertEquals(box.addPart({ data: bytes(3), last: true, duration: 2 }), "sent");
  assertEquals(sink.summary, ["P101.0L"]);
  assert(events.includes("dropped 100"));
  sink.congested = true;
  assertEquals(box.addFragment({ data: bytes(4), duration: 2 }), "dropped");
});

Deno.test("mixing whole fragments into a fragment in progress is refused", () => {
  const box = outbox();
  box.addPart({ data: bytes(1) });
  let threw = false;
  try {
    box.addFragment({ data: bytes(2), duration: 1 });
  } catch {
    threw = true;
  }
  assert(threw);
  box.abortFragment();
  assertEquals(box.addFragment({ data: bytes(2), duration: 1 }), "held");
});
