import { assertEquals } from "../../tests/helpers/assert.ts";
import { StartGate } from "./start_gate.ts";

interface Chunk {
  name: string;
  starts: boolean;
  independent: boolean;
}

const start = (name: string): Chunk => ({ name, starts: true, independent: true });
const key = (name: string): Chunk => ({ name, starts: false, independent: true });
const part = (name: string): Chunk => ({ name, starts: false, independent: false });
const names = (chunks: Chunk[]) => chunks.map((chunk) => chunk.name);

Deno.test("StartGate holds from the newest fragment start, and nothing a decoder cannot start from", () => {
  const gate = new StartGate<Chunk>(32);
  gate.hold(part("a1"));
  gate.hold(part("a2"));
  assertEquals(gate.length, 0, "parts before any keyframe are of no use");
  gate.hold(key("a3"));
  gate.hold(part("a4"));
  gate.hold(start("b0"));
  gate.hold(part("b1"));
  gate.hold(key("b2"));
  assertEquals(names(gate.take()), ["b0", "b1", "b2"]);
  assertEquals(gate.length, 0, "take empties the gate");
  gate.hold(part("b3"));
  assertEquals(gate.length, 0, "after take, the next chunk must be independent again");
});

Deno.test("StartGate on overflow keeps the newest independent chunk and what follows", () => {
  const gate = new StartGate<Chunk>(4);
  gate.hold(start("0"));
  gate.hold(part("1"));
  gate.hold(key("2"));
  gate.hold(part("3"));
  assertEquals(gate.length, 4);
  gate.hold(part("4"));
  assertEquals(names(gate.take()), ["2", "3", "4"]);

  // The newest independent chunk is the last one: it alone is kept.
  for (const chunk of [start("0"), part("1"), part("2"), part("3"), key("4")]) gate.hold(chunk);
  assertEquals(names(gate.take()), ["4"]);
});

Deno.test("StartGate on overflow without a later keyframe lets go and waits for the next one", () => {
  const gate = new StartGate<Chunk>(3);
  for (const chunk of [start("0"), part("1"), part("2"), part("3")]) gate.hold(chunk);
  assertEquals(gate.length, 0, "nothing decodable fits in the bound");
  gate.hold(part("4"));
  assertEquals(gate.length, 0);
  gate.hold(key("5"));
  gate.hold(part("6"));
  assertEquals(names(gate.take()), ["5", "6"]);
});

Deno.test("StartGate holds at least one chunk whatever the bound", () => {
  const gate = new StartGate<Chunk>(0);
  gate.hold(start("0"));
  assertEquals(names(gate.take()), ["0"]);
});
