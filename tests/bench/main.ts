/**
 * `deno task bench <name> [options]`: runs one benchmark of `tests/bench/` (`fanout` by default).
 * Benchmarks print numbers and ratios against a baseline measured in the same run; they are not
 * tests.
 * @module
 */

const BENCHMARKS: Record<string, string> = {
  fanout: "./fanout.ts",
  relay: "./relay_hops.ts",
  latency: "./latency.ts",
  soak: "./soak.ts",
  preauth: "./preauth_memory.ts",
  hls: "./hls.ts",
  abr: "./abr.ts",
};

const name = Deno.args[0] && !Deno.args[0].startsWith("-") ? Deno.args[0] : "fanout";
const path = BENCHMARKS[name];
if (path === undefined) {
  console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(", ")}`);
  Deno.exit(2);
}
await import(path);
