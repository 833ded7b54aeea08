import { assert, assertThrows } from "../../tests/helpers/assert.ts";
import { HostList } from "./host_list.ts";

const allows = (list: HostList, url: string) => list.allows(new URL(url));

Deno.test("hosts, host:port, wildcards, addresses and ranges", () => {
  const list = new HostList([
    "origin.example",
    "node-1.cdn.example:8080",
    "*.edge.example",
    "10.0.0.0/8",
    "192.0.2.7:443",
    "[2001:db8::7]:8443",
    "fd00::/8",
  ]);
  assert(allows(list, "ws://origin.example/") && allows(list, "wss://ORIGIN.example:9/a?b"));
  assert(allows(list, "ws://node-1.cdn.example:8080/"));
  assert(!allows(list, "ws://node-1.cdn.example/"), "port 80 is not 8080");
  assert(allows(list, "ws://a.edge.example/") && allows(list, "ws://a.b.edge.example/"));
  assert(!allows(list, "ws://edge.example/"), "a wildcard holds the names below, not the name");
  assert(allows(list, "ws://10.20.30.40:1234/"));
  assert(allows(list, "wss://192.0.2.7/"), "wss defaults to 443");
  assert(!allows(list, "ws://192.0.2.7/"), "ws defaults to 80");
  assert(allows(list, "ws://[2001:db8::7]:8443/") && !allows(list, "ws://[2001:db8::7]/"));
  assert(allows(list, "ws://[fd12::1]/"));
  assert(!allows(list, "ws://127.0.0.1/") && !allows(list, "ws://evil.example/"));
  assert(!allows(list, "ws://origin.example.evil.example/"));
  assert(
    !allows(new HostList(["10.0.0.0/8"]), "ws://ten.example/"),
    "no DNS: names are not ranges",
  );
});

Deno.test("a bad entry names itself", () => {
  for (const entry of ["a host", "host:99999", "10.0.0.0/33", "10.0.0.0/8:80", "http://x", ""]) {
    const error = assertThrows(() => new HostList([entry]), RangeError);
    assert(error.message.includes(entry) || entry === "", error.message);
  }
});
