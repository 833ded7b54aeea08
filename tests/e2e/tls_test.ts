/**
 * TLS: the HTTP and TLS listeners side by side, real `wss://` clients that trust a test
 * certificate authority, and the certificate replaced on disk while the node runs: new
 * connections get the new one; a bad file keeps the current one. Runs on every transport.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { TestPki } from "../helpers/certificates.ts";
import { publisherFor, pullToken, TestClient } from "../helpers/client.ts";
import { metric, waitUntil } from "../helpers/node_metrics.ts";
import { freePort, startNode, testTransports } from "../helpers/node_process.ts";
import { tsFragments } from "../helpers/media.ts";

/** Whether a `wss://` client that trusts only `ca` can open a connection. */
async function trusted(url: string, ca: string): Promise<boolean> {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    const socket = await TestClient.connect(url, { client });
    await socket[Symbol.asyncDispose]();
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] TLS beside HTTP, certificate reloaded without a restart`, async (t) => {
    await using pki = await TestPki.create();
    const first = await pki.issue("first");
    const second = await pki.issue("second");
    const certFile = `${pki.dir}/server.pem`;
    const keyFile = `${pki.dir}/server.key`;
    await Deno.writeTextFile(certFile, first.cert);
    await Deno.writeTextFile(keyFile, first.key);
    const tlsPort = freePort();
    const wssUrl = `wss://127.0.0.1:${tlsPort}/`;
    await using node = await startNode({
      transport,
      env: {
        TLS_ENABLED: "YES",
        TLS_PORT: String(tlsPort),
        TLS_BIND_ADDRESS: "127.0.0.1",
        TLS_CERTIFICATE: certFile,
        TLS_PRIVATE_KEY: keyFile,
        TLS_CHECK_RELOAD_SECONDS: "1",
        HTTP_REQUEST_TIMEOUT_SECONDS: "1",
      },
    });
    const media = await tsFragments();
    await using publisher = await publisherFor(node.wsUrl, "tls");
    const firstClient = Deno.createHttpClient({ caCerts: [first.ca] });
    let spectator: TestClient | undefined;
    try {
      await t.step("ws:// and wss:// side by side; HTTPS answers too", async () => {
        spectator = await TestClient.connect(wssUrl, { client: firstClient });
        spectator.send({ type: "PULL", stream: "tls", auth: await pullToken("tls") });
        assertEquals((await spectator.nextMessage()).type, "OK");
        publisher.sendFragment(media[0].duration, media[0].data);
        assertEquals((await spectator.nextFragment()).data, media[0].data);
        const health = await fetch(`https://127.0.0.1:${tlsPort}/health`, { client: firstClient });
        assertEquals(health.status, 200);
        await health.body?.cancel();
        assert(!await trusted(wssUrl, second.ca), "not yet the second certificate");
      });

      await t.step("an open TLS connection outlives the request timeout", async () => {
        await new Promise((resolve) => setTimeout(resolve, 2500));
        spectator!.send({ type: "H" });
        publisher.sendFragment(media[1].duration, media[1].data);
        assertEquals((await spectator!.nextFragment()).data, media[1].data);
      });

      await t.step("new files are loaded; new connections get the new certificate", async () => {
        await Deno.writeTextFile(certFile, second.cert);
        await Deno.writeTextFile(keyFile, second.key);
        await waitUntil(() => trusted(wssUrl, second.ca), 6000, "the second certificate served");
        assert(!await trusted(wssUrl, first.ca), "the first one is gone");
        assertMatch(node.output, /TLS certificate reloaded: CN=second/);
        if (transport === "ws") {
          publisher.sendFragment(media[2].duration, media[2].data);
          assertEquals(
            (await spectator!.nextFragment()).data,
            media[2].data,
            "open connections stay",
          );
        } else {
          // Deno.serve restarts its listener: open connections are told 1012 and reconnect.
          assertEquals((await spectator!.waitClosed()).code, 1012);
        }
      });

      await t.step("a bad new file keeps the current certificate, with a warning", async () => {
        await Deno.writeTextFile(certFile, "-----BEGIN CERTIFICATE-----\nbroken\n");
        await waitUntil(
          () => node.output.includes("TLS certificate files not loaded"),
          5000,
          "the warning",
        );
        assert(await trusted(wssUrl, second.ca), "still served");
        assertEquals(await metric(node, 'hlswscdn_tls_reloads_total{result="loaded"}'), 1);
        assert(await metric(node, 'hlswscdn_tls_reloads_total{result="rejected"}') >= 1);
        assert(await metric(node, "hlswscdn_tls_certificate_expiry_seconds") > Date.now() / 1000);
      });
    } finally {
      await spectator?.[Symbol.asyncDispose]();
      firstClient.close();
    }
  });
}
