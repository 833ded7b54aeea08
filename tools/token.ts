/**
 * `deno task token`: signs a push or pull token for a stream with a secret and a lifetime, and
 * prints it (stdout); `--claims` also prints the decoded header and claims (stderr, so that
 * `$(deno task token ...)` still captures only the token).
 *
 * ```sh
 * deno task token -- --action push --stream room/a --secret "$PUSH_SECRET" --lifetime 2h --claims
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLifetime } from "./token.ts";
 * assert(parseLifetime("90") === 90 && parseLifetime("2h") === 7200 && parseLifetime("1d") === 86400);
 * ```
 * @module
 */

import { parseTaskArgs } from "./task_args.ts";
import { isValidStreamId } from "../shared/stream_id.ts";
import { signToken, type TokenAction } from "../shared/token.ts";

/** The help text. */
export const TOKEN_USAGE = `Sign a token for the HLS WebSocket CDN.

Usage: deno task token -- --action push|pull --stream ID [--secret SECRET] [--lifetime DURATION] [--claims]

  --action push|pull   what the token allows (PUSH:<id> or PULL:<id> as its subject)
  --stream ID          the stream id
  --secret SECRET      the HS256 secret; default $PUSH_SECRET or $PULL_SECRET for the action
  --lifetime DURATION  seconds, or with a unit: 90s, 30m, 2h, 7d (default 1h)
  --claims             also print the decoded header and claims (on stderr)

Exit codes: 0 printed, 2 bad arguments.
`;

/** Seconds in a lifetime written as `90`, `90s`, `30m`, `2h` or `7d`; NaN when it is none of these. */
export function parseLifetime(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text.trim());
  if (match === null) return NaN;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2]]!;
  return Math.round(Number(match[1]) * unit);
}

/** Decodes the header and claims of a JWT (no check). */
export function decodeToken(token: string): { header: unknown; claims: unknown } {
  const [header, claims] = token.split(".").slice(0, 2).map((part) =>
    JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(
          atob(part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - part.length % 4) % 4)),
          (c) => c.charCodeAt(0),
        ),
      ),
    )
  );
  return { header, claims };
}

/** What the command does, as a function: returns the exit code and writes through `out`/`err`. */
export async function tokenCommand(
  args: string[],
  env: Record<string, string | undefined>,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  let values;
  try {
    values = parseTaskArgs(args, {
      action: { type: "string" },
      stream: { type: "string" },
      secret: { type: "string" },
      lifetime: { type: "string" },
      claims: { type: "boolean" },
      help: { type: "boolean" },
    });
  } catch (error) {
    err(`error: ${error instanceof Error ? error.message : error} (see --help)\n`);
    return 2;
  }
  if (values.help) {
    out(TOKEN_USAGE);
    return 0;
  }
  const fail = (message: string) => {
    err(`error: ${message} (see --help)\n`);
    return 2;
  };
  const action = values.action?.toUpperCase();
  if (action !== "PUSH" && action !== "PULL") return fail("--action must be push or pull");
  if (values.stream === undefined || !isValidStreamId(values.stream)) {
    return fail("--stream must be a stream id of 1 to 255 characters");
  }
  const secret = values.secret ?? env[`${action}_SECRET`];
  if (secret === undefined || secret === "") {
    return fail(`--secret (or $${action}_SECRET) is required`);
  }
  const lifetime = parseLifetime(values.lifetime ?? "1h");
  if (!(lifetime > 0)) {
    return fail(
      `--lifetime must be a positive duration like 3600, 30m, 2h, got '${values.lifetime}'`,
    );
  }
  const token = await signToken({
    secret,
    action: action as TokenAction,
    stream: values.stream,
    lifetimeSeconds: lifetime,
  });
  out(`${token}\n`);
  if (values.claims) {
    const decoded = decodeToken(token);
    const claims = decoded.claims as { exp: number };
    err(
      `${JSON.stringify(decoded, null, 2)}\nexpires ${new Date(claims.exp * 1000).toISOString()}\n`,
    );
  }
  return 0;
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  Deno.exit(
    await tokenCommand(
      Deno.args,
      Deno.env.toObject(),
      (text) => Deno.stdout.writeSync(encoder.encode(text)),
      (text) => Deno.stderr.writeSync(encoder.encode(text)),
    ),
  );
}
