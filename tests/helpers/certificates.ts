/**
 * Test certificates made with `openssl` at test time: a throw-away certificate authority and a
 * server certificate for 127.0.0.1 and localhost signed by it (clients trust the authority, as
 * they would a real one; rustls refuses a self-signed certificate used as its own authority).
 *
 * @example
 * ```ts ignore
 * await using pki = await TestPki.create();
 * const first = await pki.issue("first");       // { cert, key, certFile, keyFile, ca }
 * const client = Deno.createHttpClient({ caCerts: [first.ca] });
 * ```
 * @module
 */

/** A server certificate and its key, as text and as files. */
export interface IssuedCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** Path of the certificate file. */
  certFile: string;
  /** Path of the key file. */
  keyFile: string;
  /** PEM certificate of the authority that signed it. */
  ca: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A folder of test certificates, removed on dispose. */
export class TestPki {
  /** The folder. */
  readonly dir: string;
  #count = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Makes an empty folder. */
  static async create(): Promise<TestPki> {
    return new TestPki(await Deno.makeTempDir({ prefix: "hlswscdn-pki-" }));
  }

  /** A new authority named `name` and a server certificate for 127.0.0.1 signed by it. */
  async issue(name: string, days = 2): Promise<IssuedCertificate> {
    const id = `${++this.#count}-${name}`;
    const dir = this.dir;
    await openssl([
      "req",
      "-x509",
      ...EC,
      "-keyout",
      `${id}-ca.key`,
      "-out",
      `${id}-ca.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=Test CA ${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    ], dir);
    await openssl([
      "req",
      ...EC,
      "-keyout",
      `${id}.key`,
      "-out",
      `${id}.csr`,
      "-subj",
      `/CN=${name}`,
    ], dir);
    await Deno.writeTextFile(
      `${dir}/${id}.ext`,
      "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    await openssl([
      "x509",
      "-req",
      "-in",
      `${id}.csr`,
      "-CA",
      `${id}-ca.pem`,
      "-CAkey",
      `${id}-ca.key`,
      "-CAcreateserial",
      "-out",
      `${id}.pem`,
      "-days",
      String(days),
      "-extfile",
      `${id}.ext`,
    ], dir);
    return {
      cert: await Deno.readTextFile(`${dir}/${id}.pem`),
      key: await Deno.readTextFile(`${dir}/${id}.key`),
      certFile: `${dir}/${id}.pem`,
      keyFile: `${dir}/${id}.key`,
      ca: await Deno.readTextFile(`${dir}/${id}-ca.pem`),
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
