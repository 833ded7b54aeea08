import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { TestPki } from "../tests/helpers/certificates.ts";
import { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { CertificateReloader, checkCertificate, type CheckedCertificate } from "./tls_reloader.ts";

Deno.test("checkCertificate accepts a matching pair and says why it refuses others", async () => {
  await using pki = await TestPki.create();
  const first = await pki.issue("first");
  const second = await pki.issue("second");
  const checked = checkCertificate(first);
  assertEquals(checked.subject, "CN=first");
  assert(checked.notAfter.getTime() > Date.now());
  const cases: [string, () => unknown][] = [
    ["does not belong", () => checkCertificate({ cert: first.cert, key: second.key })],
    ["not a PEM certificate", () => checkCertificate({ cert: "garbage", key: first.key })],
    ["not a PEM private key", () => checkCertificate({ cert: first.cert, key: first.cert })],
    ["expired", () => checkCertificate(first, new Date(Date.now() + 10 * 86400_000))],
  ];
  for (const [reason, check] of cases) {
    assert(assertThrows(check, Error).message.includes(reason), reason);
  }
});

Deno.test("the reloader applies changed valid files once, and keeps the old pair otherwise", async () => {
  await using pki = await TestPki.create();
  const first = await pki.issue("first");
  const second = await pki.issue("second");
  const third = await pki.issue("third");
  const certFile = `${pki.dir}/server.pem`;
  const keyFile = `${pki.dir}/server.key`;
  await Deno.writeTextFile(certFile, first.cert);
  await Deno.writeTextFile(keyFile, first.key);
  const applied: CheckedCertificate[] = [];
  const lines: string[] = [];
  const metrics = new Metrics();
  const reloader = new CertificateReloader({
    certificateFile: certFile,
    privateKeyFile: keyFile,
    intervalSeconds: 0,
    current: { cert: first.cert, key: first.key },
    apply: (next) => {
      if (next.subject === "CN=third") throw new Error("listener failed");
      applied.push(next);
    },
    log: Logger.into((line) => lines.push(line)),
    metrics,
  });
  assertEquals(await reloader.check(), "unchanged");

  // Half-written renewal: new certificate, old key.
  await Deno.writeTextFile(certFile, second.cert);
  assertEquals(await reloader.check(), "rejected");
  assertEquals(await reloader.check(), "rejected");
  assertEquals(applied.length, 0);
  assertEquals(lines.filter((line) => line.includes("WARNING")).length, 1, "warned once");
  assert(lines[0].includes("does not belong"));

  await Deno.writeTextFile(keyFile, second.key);
  assertEquals(await reloader.check(), "loaded");
  assertEquals(applied.map((pair) => pair.subject), ["CN=second"]);
  assertEquals(await reloader.check(), "unchanged");

  // A missing file and a pair the listener refuses keep the current one too.
  await Deno.remove(keyFile);
  assertEquals(await reloader.check(), "rejected");
  await Deno.writeTextFile(certFile, third.cert);
  await Deno.writeTextFile(keyFile, third.key);
  assertEquals(await reloader.check(), "rejected");
  assertEquals(applied.length, 1);
  const text = await metrics.registry.metrics();
  assert(text.includes('hlswscdn_tls_reloads_total{result="loaded"} 1'), text);
  assert(text.includes('hlswscdn_tls_reloads_total{result="rejected"} 3'));
  reloader.destroy();
});

Deno.test("the reloader checks on its own every interval", async () => {
  await using pki = await TestPki.create();
  const first = await pki.issue("first");
  const second = await pki.issue("second");
  const applied: string[] = [];
  const reloader = new CertificateReloader({
    certificateFile: second.certFile,
    privateKeyFile: second.keyFile,
    intervalSeconds: 0.05,
    current: first,
    apply: (next) => void applied.push(next.subject),
    log: Logger.silent(),
  });
  const deadline = performance.now() + 3000;
  while (applied.length === 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  reloader.destroy();
  assertEquals(applied, ["CN=second"]);
});
