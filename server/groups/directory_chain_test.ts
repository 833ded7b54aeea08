/** GroupDirectoryChain with fake sources: order, first non-empty answer, failures, abort. */

import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { parseRenditionId, type RenditionId } from "../../shared/rendition.ts";
import { GroupDirectoryChain, type GroupLister } from "./directory_chain.ts";

/** A source that lists `ids` (or fails with `error`), recording what it was asked. */
function lister(name: string, ids: string[] | Error, asked: string[]): GroupLister {
  return {
    name,
    listGroup: (group: string, via: readonly string[]) => {
      asked.push(`${name}:${group}:${via.join(",")}`);
      if (ids instanceof Error) return Promise.reject(ids);
      return Promise.resolve(ids.map((id) => parseRenditionId(id)!) as RenditionId[]);
    },
  };
}

const signal = new AbortController().signal;

Deno.test("group directory chain: sources in order, the first that knows the group", async () => {
  const asked: string[] = [];
  const chain = new GroupDirectoryChain([
    { name: "local" }, // knows no groups: passed over
    lister("registry", [], asked),
    lister("relay", ["g/2x2~20", "g/1x1~10"], asked),
    lister("never", ["g/3x3"], asked),
  ]);
  assertEquals(await chain.list("g", ["edge"], signal), ["g/2x2~20", "g/1x1~10"]);
  assertEquals(asked, ["registry:g:edge", "relay:g:edge"]);
});

Deno.test("group directory chain: the registry answers before the upstream", async () => {
  const asked: string[] = [];
  const chain = new GroupDirectoryChain([
    lister("registry", ["g/2x2"], asked),
    lister("relay", ["g/1x1"], asked),
  ]);
  assertEquals(await chain.list("g", [], signal), ["g/2x2"]);
  assertEquals(asked, ["registry:g:"]);
});

Deno.test("group directory chain: a failing source is passed over; none is an empty list", async () => {
  const asked: string[] = [];
  const failing = new GroupDirectoryChain([
    lister("registry", new Error("Redis is down"), asked),
    lister("relay", ["g/1x1"], asked),
  ]);
  assertEquals(await failing.list("g", [], signal), ["g/1x1"]);
  assertEquals(await new GroupDirectoryChain([]).list("g", [], signal), []);
  assertEquals(await new GroupDirectoryChain([lister("r", [], [])]).list("g", [], signal), []);
});

Deno.test("group directory chain: an aborted pull stops asking", async () => {
  const controller = new AbortController();
  const asked: string[] = [];
  const chain = new GroupDirectoryChain([
    {
      name: "registry",
      listGroup: () => {
        controller.abort(new Error("viewer left"));
        return Promise.reject(new Error("aborted"));
      },
    },
    lister("relay", ["g/1x1"], asked),
  ]);
  await assertRejects(chain.list("g", [], controller.signal), Error);
  assertEquals(asked, [], "the next source was not asked");
});
