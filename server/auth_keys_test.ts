import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { assert, assertEquals, assertRejects, assertThrows } from "../tests/helpers/assert.ts";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import { TokenVerifier } from "./token_verifier.ts";
import { pemToJwks, RemoteKeySet } from "./auth_keys.ts";
import type { AuthConfig } from "./config.ts";

const BASE: AuthConfig = {
  pullSecret: "",
  pushSecret: "push-secret",
  pushAllowed: true,
  pullAuthDisabled: false,
  pushAuthDisabled: false,
};

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

async function pair(alg: string): Promise<KeyPair> {
  return await generateKeyPair(alg, {
    extractable: true,
    crv: alg === "EdDSA" ? "Ed25519" : undefined,
  });
}

function sign(
  key: KeyPair["privateKey"] | Uint8Array,
  alg: string,
  subject: string,
  extra: { kid?: string; expiresIn?: number } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg, kid: extra.kid })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (extra.expiresIn ?? 60))
    .sign(key);
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await assertRejects(promise, ProtocolError);
  return `${error.code}: ${error.message}`;
}

Deno.test("PEM public keys and certificates become JWKs; private keys are refused", async () => {
  const rsa = await pair("RS256");
  const ec = await pair("ES256");
  const pem = `${await exportSPKI(rsa.publicKey)}\nsome comment\n${await exportSPKI(ec.publicKey)}`;
  assertEquals(pemToJwks(pem).map((key) => key.kty), ["RSA", "EC"]);
  const privatePem = await exportPKCS8(rsa.privateKey);
  assertThrows(() => pemToJwks(privatePem), RangeError);
  assertThrows(() => pemToJwks("nothing here"), RangeError);
});

Deno.test("public key files: RS256, ES256 and EdDSA tokens pass; anything else is refused", async () => {
  const keys = {
    RS256: await pair("RS256"),
    ES256: await pair("ES256"),
    EdDSA: await pair("EdDSA"),
  };
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pull.pem`;
    await Deno.writeTextFile(
      file,
      (await Promise.all(Object.values(keys).map((key) => exportSPKI(key.publicKey)))).join("\n"),
    );
    const verifier = new TokenVerifier({ ...BASE, pullPublicKeyFile: file });
    await verifier.ready();
    for (const [alg, key] of Object.entries(keys)) {
      await verifier.verify("PULL", "room/a", await sign(key.privateKey, alg, "PULL:room/a"));
    }
    const other = await pair("ES256");
    const publicPem = await exportSPKI(keys.RS256.publicKey);
    const cases: [string, Promise<string>][] = [
      ["the token signature is not valid", sign(other.privateKey, "ES256", "PULL:room/a")],
      ["for another action or stream", sign(keys.ES256.privateKey, "ES256", "PULL:room/b")],
      ["expired", sign(keys.ES256.privateKey, "ES256", "PULL:room/a", { expiresIn: -10 })],
      // Algorithm confusion: the public key used as an HMAC secret.
      [
        "algorithm is not allowed",
        sign(new TextEncoder().encode(publicPem), "HS256", "PULL:room/a"),
      ],
    ];
    for (const [expected, token] of cases) {
      const text = await reason(verifier.verify("PULL", "room/a", await token));
      assert(text.startsWith("AUTH_FAILED") && text.includes(expected), `${expected}: ${text}`);
    }
    // Push tokens still use the push secret only.
    const pushText = await reason(
      verifier.verify("PUSH", "room/a", await sign(keys.ES256.privateKey, "ES256", "PUSH:room/a")),
    );
    assert(pushText.includes("HS256 only"), pushText);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad public key file makes ready() reject with the file name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.pem`;
    await Deno.writeTextFile(file, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    const verifier = new TokenVerifier({ ...BASE, pullPublicKeyFile: file });
    const error = await assertRejects(verifier.ready(), Error);
    assert(error.message.includes(file));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A JWKS server on 127.0.0.1 whose keys and health the test changes. */
function jwksServer() {
  const state = { keys: [] as JWK[], fetches: 0, status: 200, hang: false };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    state.fetches++;
    if (state.hang) await new Promise((resolve) => setTimeout(resolve, 1500));
    if (state.status !== 200) return new Response("down", { status: state.status });
    return Response.json({ keys: state.keys });
  });
  return { state, server, url: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json` };
}

async function jwk(key: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...await exportJWK(key.publicKey), kid, alg, use: "sig" };
}

Deno.test("JWKS: tokens checked with fetched keys; an unknown kid fetches again, once per cooldown", async () => {
  const jwks = jwksServer();
  try {
    const first = await pair("ES256");
    const second = await pair("RS256");
    jwks.state.keys = [await jwk(first, "k1", "ES256")];
    const verifier = new TokenVerifier({ ...BASE, pullJwksUrl: jwks.url });
    await verifier.ready();
    assertEquals(jwks.state.fetches, 1);
    await verifier.verify(
      "PULL",
      "s",
      await sign(first.privateKey, "ES256", "PULL:s", { kid: "k1" }),
    );
    assertEquals(jwks.state.fetches, 1, "cached");

    // Key rotation: the backend publishes k2 and signs with it.
    jwks.state.keys.push(await jwk(second, "k2", "RS256"));
    await verifier.verify(
      "PULL",
      "s",
      await sign(second.privateKey, "RS256", "PULL:s", { kid: "k2" }),
    );
    assertEquals(jwks.state.fetches, 2, "an unknown kid fetched the set again");

    // Unknown kids do not hammer the URL: one fetch per cooldown.
    const stranger = await pair("ES256");
    for (let index = 0; index < 5; index++) {
      const text = await reason(
        verifier.verify(
          "PULL",
          "s",
          await sign(stranger.privateKey, "ES256", "PULL:s", { kid: "x" }),
        ),
      );
      assert(text.includes("no key of this node matches"), text);
    }
    assertEquals(jwks.state.fetches, 2);
  } finally {
    await jwks.server.shutdown();
  }
});

Deno.test("JWKS: a failing or slow URL keeps the last good set; none at all is a retriable error", async () => {
  const jwks = jwksServer();
  try {
    const key = await pair("ES256");
    jwks.state.keys = [await jwk(key, "k1", "ES256")];
    const lines: string[] = [];
    const log = { warning: (line: string) => lines.push(line) };
    const set = new RemoteKeySet({
      url: jwks.url,
      cacheMs: 0,
      cooldownMs: 0,
      timeoutMs: 300,
      log: log as never,
    });
    await set.refresh();
    assert(set.loaded);
    jwks.state.status = 503;
    await set.refresh();
    jwks.state.hang = true;
    await set.refresh();
    assert(set.loaded, "the last good set stays");
    assertEquals(lines.length, 2);
    assert(lines[0].includes("HTTP 503") && lines[0].includes("stays in use"), lines[0]);

    const empty = new TokenVerifier({ ...BASE, pullJwksUrl: jwks.url, jwksTimeoutSeconds: 0.3 });
    await empty.ready();
    const error = await assertRejects(
      empty.verify("PULL", "s", await sign(key.privateKey, "ES256", "PULL:s", { kid: "k1" })),
      ProtocolError,
    );
    assertEquals(error.code, ErrorCode.INTERNAL_ERROR, "retriable: the client tries again later");
  } finally {
    await jwks.server.shutdown();
  }
});

Deno.test("with public keys configured, an empty secret does not open the door", async () => {
  const key = await pair("ES256");
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pull.pem`;
    await Deno.writeTextFile(file, await exportSPKI(key.publicKey));
    const verifier = new TokenVerifier({
      ...BASE,
      pullAuthDisabled: true,
      pullPublicKeyFile: file,
    });
    await verifier.ready();
    const text = await reason(verifier.verify("PULL", "s", ""));
    assert(text.startsWith("AUTH_FAILED"));
    await verifier.verify("PULL", "s", await sign(key.privateKey, "ES256", "PULL:s"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
