/**
 * Tokens signed by a backend's private key: push tokens checked with a PEM public key file, pull
 * tokens with a JWKS served by a local HTTP server (with a key rotation), beside the HS256
 * secrets, which keep working. Runs on every transport.
 */

import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { assert, assertEquals } from "../helpers/assert.ts";
import { pullToken, pushToken, TestClient } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { metric } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

function sign(key: KeyPair, alg: string, subject: string, kid?: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject(subject)
    .setExpirationTime("5m").sign(key.privateKey);
}

/** Connects, sends PUSH or PULL with `auth`, and returns the answer (`OK` or the `E` code). */
async function attempt(url: string, type: "PUSH" | "PULL", stream: string, auth: string) {
  const client = await TestClient.connect(url);
  client.send({ type, stream, auth });
  const message = await client.nextMessage();
  return { client, answer: message.type === "E" ? message.code : message.type };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] tokens checked with a public key file and a JWKS URL`, async () => {
    const backend = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const first = await generateKeyPair("RS256", { extractable: true });
    const second = await generateKeyPair("ES256", { extractable: true });
    const published: JWK[] = [{ ...await exportJWK(first.publicKey), kid: "k1", alg: "RS256" }];
    let fetches = 0;
    const jwks = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      fetches++;
      return Response.json({ keys: published });
    });
    const dir = await Deno.makeTempDir();
    const clients: TestClient[] = [];
    try {
      const keyFile = `${dir}/push.pem`;
      await Deno.writeTextFile(keyFile, await exportSPKI(backend.publicKey));
      await using node = await startNode({
        transport,
        env: {
          PUSH_PUBLIC_KEY_FILE: keyFile,
          PULL_JWKS_URL: `http://127.0.0.1:${jwks.addr.port}/jwks.json`,
        },
      });
      const media = await tsFragments();

      const push = await attempt(node.wsUrl, "PUSH", "k", await sign(backend, "EdDSA", "PUSH:k"));
      clients.push(push.client);
      assertEquals(push.answer, "OK", "EdDSA push token from the key file");

      const pull = await attempt(
        node.wsUrl,
        "PULL",
        "k",
        await sign(first, "RS256", "PULL:k", "k1"),
      );
      clients.push(pull.client);
      assertEquals(pull.answer, "OK", "RS256 pull token from the JWKS");
      push.client.sendFragment(media[0].duration, media[0].data);
      assertEquals((await pull.client.nextFragment()).data, media[0].data);

      // The backend rotates to a new key.
      published.push({ ...await exportJWK(second.publicKey), kid: "k2", alg: "ES256" });
      const rotated = await attempt(
        node.wsUrl,
        "PULL",
        "k",
        await sign(second, "ES256", "PULL:k", "k2"),
      );
      clients.push(rotated.client);
      assertEquals(rotated.answer, "OK", "a new kid is fetched");
      assertEquals(fetches, 2);

      // The shared secrets keep working beside the keys.
      const hs = await attempt(node.wsUrl, "PULL", "k", await pullToken("k"));
      clients.push(hs.client);
      assertEquals(hs.answer, "OK");
      const hsPush = await attempt(node.wsUrl, "PUSH", "h", await pushToken("h"));
      clients.push(hsPush.client);
      assertEquals(hsPush.answer, "OK");

      // A key nobody published, and a push token signed with a pull key, are refused.
      const stranger = await generateKeyPair("ES256");
      const refusals: ["PUSH" | "PULL", string][] = [
        ["PULL", await sign(stranger, "ES256", "PULL:k", "k9")],
        ["PUSH", await sign(first, "RS256", "PUSH:k", "k1")],
      ];
      for (const [type, token] of refusals) {
        const refused = await attempt(node.wsUrl, type, "k", token);
        clients.push(refused.client);
        assertEquals(refused.answer, "AUTH_FAILED", type);
      }
      assert(await metric(node, 'hlswscdn_jwks_fetches_total{result="ok"}') >= 2);
    } finally {
      for (const client of clients) client.close();
      await jwks.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
