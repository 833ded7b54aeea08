/** What `deno task start` builds first: every served file that is missing, and nothing once built. */
import { assertEquals } from "../tests/helpers/assert.ts";
import { missingBuiltFiles, SERVED_FILES } from "./ensure_built.ts";

Deno.test("the files a node serves are listed as missing until each is there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hlswscdn-dist-" });
  try {
    const url = new URL(`file://${dir}/`);
    assertEquals(await missingBuiltFiles(url), [...SERVED_FILES]);
    for (const name of SERVED_FILES.slice(1)) await Deno.writeTextFile(`${dir}/${name}`, "x");
    assertEquals(await missingBuiltFiles(url), [SERVED_FILES[0]]);
    await Deno.writeTextFile(`${dir}/${SERVED_FILES[0]}`, "x");
    assertEquals(await missingBuiltFiles(url), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
