import fc from "fast-check";
import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { escapeControls, quote } from "./quote.ts";

// deno-lint-ignore no-control-regex -- what must never be left
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

Deno.test("escapeControls leaves nothing that breaks a line or drives a terminal", () => {
  assertEquals(
    escapeControls("\r\n\t\0\x1b\x7f\x85\u2028\u202e\u2066ok"),
    "\\x0d\\x0a\\x09\\x00\\x1b\\x7f\\x85\\u2028\\u202e\\u2066ok",
  );
  assertEquals(escapeControls("room/ü/😀 C:\\path"), "room/ü/😀 C:\\path", "the rest stays");
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => !UNSAFE.test(escapeControls(text))),
  );
});

Deno.test("quote escapes, quotes and cuts", () => {
  assertEquals(quote(""), '""');
  assertEquals(quote('a"b\\c\n'), '"a\\"b\\\\c\\x0a"');
  assertEquals(quote("😀".repeat(70)), `"${"😀".repeat(64)}…" (70 characters)`);
  assertEquals(quote("abc", 3), '"abc"', "exactly the limit is not cut");
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
    const quoted = quote(text);
    assert(!UNSAFE.test(quoted));
    assert(quoted.length <= 64 * 6 + 40, `bounded: ${quoted.length}`);
    // Inside the quotes, every quote character is escaped.
    const inner = quoted.slice(1, quoted.lastIndexOf('"'));
    assert(!/(^|[^\\])(\\\\)*"/.test(inner), quoted);
  }));
});
