/**
 * Reads a `.env` file: `NAME=value` lines, `#` comments, optional `export ` and quotes.
 * Variables already set in the environment win over the file, as with other `.env` loaders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDotenv } from "./dotenv.ts";
 * const vars = parseDotenv("# comment\nHTTP_PORT=8080\nexport LOG_DEBUG='YES'\n");
 * assert(vars.HTTP_PORT === "8080" && vars.LOG_DEBUG === "YES");
 * ```
 * @module
 */

/** Parses the text of a `.env` file into variables. */
export function parseDotenv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replaceAll("\\n", "\n").replaceAll('\\"', '"');
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    result[match[1]] = value;
  }
  return result;
}

/**
 * The environment of this process over the variables of the `.env` file (when it exists). The
 * file is `ENV_FILE` when set (an empty `ENV_FILE` reads no file), else `.env` in the working folder.
 */
export function loadEnvironment(path = Deno.env.get("ENV_FILE") ?? ".env"): Record<string, string> {
  let fromFile: Record<string, string> = {};
  if (path === "") return Deno.env.toObject();
  try {
    fromFile = parseDotenv(Deno.readTextFileSync(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return { ...fromFile, ...Deno.env.toObject() };
}
