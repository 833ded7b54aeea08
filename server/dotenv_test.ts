import { assertEquals } from "../tests/helpers/assert.ts";
import { parseDotenv } from "./dotenv.ts";

Deno.test("parseDotenv reads names, values, quotes and comments", () => {
  const text = [
    "# a comment",
    "HTTP_PORT=8080",
    "export LOG_DEBUG=YES",
    'PULL_SECRET="with spaces # not a comment"',
    "PUSH_SECRET='single'",
    "EXTERNAL_WEBSOCKET_URL=ws://example.com/ # trailing comment",
    "EMPTY=",
    "not a line",
  ].join("\n");
  assertEquals(parseDotenv(text), {
    HTTP_PORT: "8080",
    LOG_DEBUG: "YES",
    PULL_SECRET: "with spaces # not a comment",
    PUSH_SECRET: "single",
    EXTERNAL_WEBSOCKET_URL: "ws://example.com/",
    EMPTY: "",
  });
});
