import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { AddressList, CidrRange, limitKey, parseAddress } from "./cidr.ts";

Deno.test("parseAddress reads IPv4, IPv6, mapped, compressed and zoned forms", () => {
  assertEquals(parseAddress("1.2.3.4"), { value: (0xffffn << 32n) | 0x01020304n, v4: true });
  assertEquals(parseAddress("::ffff:1.2.3.4"), parseAddress("1.2.3.4"));
  assertEquals(parseAddress("::ffff:102:304"), parseAddress("1.2.3.4"));
  assertEquals(parseAddress("::1"), { value: 1n, v4: false });
  assertEquals(parseAddress("::"), { value: 0n, v4: false });
  assertEquals(parseAddress("[fe80::1%eth0]"), parseAddress("fe80::1"));
  assertEquals(parseAddress("2001:db8:0:0:0:0:0:1"), parseAddress("2001:db8::1"));
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.256",
      "1.2.3.4.5",
      "01234::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "g::1",
      "host.example",
      "::ffff:1.2.3.999",
    ]
  ) {
    assertEquals(parseAddress(bad), null, bad);
  }
});

Deno.test("CIDR ranges match IPv4 and IPv6 addresses at their prefix", () => {
  const ten = CidrRange.parse("10.0.0.0/8");
  assert(ten.contains("10.255.1.2"));
  assert(ten.contains("::ffff:10.0.0.1"), "IPv4-mapped form of the same address");
  assert(!ten.contains("11.0.0.1"));
  assert(!ten.contains("::a00:1"), "IPv4-compatible is not IPv4-mapped");
  assert(!ten.contains("not an address"));
  const host = CidrRange.parse("192.168.1.7");
  assert(host.contains("192.168.1.7") && !host.contains("192.168.1.8"));
  const v6 = CidrRange.parse("2001:db8::/32");
  assert(v6.contains("2001:db8:ffff::1") && !v6.contains("2001:db9::1"));
  assert(CidrRange.parse("0.0.0.0/0").contains("8.8.8.8"));
  assert(!CidrRange.parse("0.0.0.0/0").contains("2001:db8::1"), "IPv4 /0 holds IPv4 only");
  assert(CidrRange.parse("::/0").contains("8.8.8.8"), "IPv6 /0 holds everything");
  assert(CidrRange.parse("10.1.2.3/8").contains("10.9.9.9"), "host bits are ignored");
  for (const bad of ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "::/129", "x/8", "10.0.0/8"]) {
    assertThrows(() => CidrRange.parse(bad), RangeError);
  }
});

Deno.test("an address list holds any of its entries", () => {
  const list = new AddressList(["127.0.0.1", " 10.0.0.0/8 ", "fd00::/8"]);
  assertEquals(list.size, 3);
  assert(list.contains("127.0.0.1") && list.contains("10.3.4.5") && list.contains("fd12::1"));
  assert(!list.contains("127.0.0.2") && !list.contains("fe80::1"));
  assert(!new AddressList([]).contains("127.0.0.1"));
  const error = assertThrows(() => new AddressList(["10.0.0.0/8", "bogus"]), RangeError);
  assert(error.message.includes("bogus"));
});

Deno.test("limitKey: IPv4 per address, IPv6 per /64", () => {
  assertEquals(limitKey("::ffff:10.0.0.1"), "10.0.0.1");
  assertEquals(limitKey("10.0.0.1"), "10.0.0.1");
  assertEquals(limitKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assertEquals(limitKey("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
  assert(limitKey("2001:db8:1:3::1") !== limitKey("2001:db8:1:2::1"));
  assertEquals(limitKey("unix-socket"), "unix-socket");
});
