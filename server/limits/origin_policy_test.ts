import { assert, assertThrows } from "../../tests/helpers/assert.ts";
import { OriginPolicy } from "./origin_policy.ts";

Deno.test("an empty list allows every origin", () => {
  const policy = new OriginPolicy([]);
  assert(policy.open);
  assert(policy.allows("https://anything.example") && policy.allows("null"));
});

Deno.test("exact origins, normalized", () => {
  const policy = new OriginPolicy(["https://Watch.Example.com:443", "http://localhost:8080/"]);
  assert(!policy.open);
  assert(policy.allows("https://watch.example.com"));
  assert(policy.allows("HTTPS://WATCH.EXAMPLE.COM"));
  assert(policy.allows("http://localhost:8080"));
  assert(!policy.allows("http://localhost:8081"), "another port");
  assert(!policy.allows("http://watch.example.com"), "another scheme");
  assert(!policy.allows("https://watch.example.com.evil.example"));
  assert(!policy.allows("https://evil.example"));
  assert(!policy.allows("garbage"));
  assert(!policy.allows("null"), "opaque origins only when listed");
});

Deno.test("requests without Origin (non-browser clients) are allowed", () => {
  const policy = new OriginPolicy(["https://watch.example.com"]);
  assert(policy.allows(null) && policy.allows(undefined) && policy.allows(""));
});

Deno.test("wildcards hold subdomains, not the domain itself", () => {
  const policy = new OriginPolicy(["https://*.example.org", "null"]);
  assert(policy.allows("https://a.example.org") && policy.allows("https://a.b.example.org"));
  assert(!policy.allows("https://example.org"));
  assert(!policy.allows("https://badexample.org"));
  assert(!policy.allows("http://a.example.org"), "scheme is part of the pattern");
  assert(!policy.allows("https://a.example.org:8443"), "port is part of the pattern");
  assert(policy.allows("null"));
});

Deno.test("entries that are not origins are refused at start-up", () => {
  for (const bad of ["example.com", "https://example.com/path", "https://*", "*", "ftp//x"]) {
    assertThrows(() => new OriginPolicy([bad]), RangeError);
  }
});
