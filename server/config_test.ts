import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { ConfigError, parseConfig } from "./config.ts";

const SECRETS = { PULL_SECRET: "p", PUSH_SECRET: "q" };

Deno.test("parseConfig gives the documented defaults", () => {
  const config = parseConfig(SECRETS, () => true, 8 * 1024 ** 3);
  assertEquals(config.http, { enabled: true, port: 80, bindAddress: "" });
  assertEquals(config.tls.port, 443);
  assertEquals(config.tls.enabled, false);
  assertEquals(config.websocketPrefix, "/");
  assertEquals(config.maxBinaryMessageSize, 50 * 1024 * 1024);
  assertEquals(config.transport, "ws");
  assertEquals(config.registry.port, 6379);
  assertEquals(config.registry.host, "127.0.0.1");
  assertEquals(config.registry.refreshIntervalSeconds, 60);
  assertEquals(config.relay.inactivityPeriodSeconds, 30);
  assertEquals(config.buffers, {
    limiterEnabled: true,
    limitBytes: 2048 * 1024 * 1024,
    maxFragments: 10,
  }, "the limiter is on, at a quarter of the machine's memory");
  assertEquals(
    parseConfig(SECRETS, () => true, 100 * 1024 ** 2).buffers.limitBytes,
    64 * 1024 ** 2,
  );
  assertEquals(config.maxPendingPerAddress, 64);
  assertEquals(config.auth.tokenMaxLifetimeSeconds, 30 * 86400);
  assertEquals(config.registry.allowedHosts, []);
  assertEquals(config.rateLimit.cleanupSeconds, 10);
  assertEquals(config.playerTargetDelaySeconds, 0.1);
  assertEquals(config.auth.pushAllowed, true);
  assertEquals(config.log, {
    error: true,
    warning: true,
    info: true,
    requests: true,
    debug: false,
    trace: false,
  });
  assertEquals(config.timeouts.firstMessageSeconds, 30);
  assertEquals(config.timeouts.idleSeconds, 60);
});

Deno.test("parseConfig reads YES/NO words and numbers", () => {
  const config = parseConfig({
    ...SECRETS,
    LOG_DEBUG: "yes",
    HTTP_PORT: " 8080 ",
    TLS_ENABLED: "NO",
    RATE_LIMIT_WHITELIST: "127.0.0.1, 10.0.0.0/8",
    WEBSOCKET_TRANSPORT: "deno",
  });
  assertEquals(config.log.debug, true);
  assertEquals(config.http.port, 8080);
  assertEquals(config.rateLimit.whitelist, ["127.0.0.1", "10.0.0.0/8"]);
  assertEquals(config.transport, "deno");
});

Deno.test("a bad value names the variable and the value", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ HTTP_PORT: "eighty" }, /^HTTP_PORT="eighty": expected a whole number/],
    [{ HTTP_PORT: "70000" }, /^HTTP_PORT="70000"/],
    [{ LOG_INFO: "maybe" }, /^LOG_INFO="maybe": expected YES or NO/],
    [
      { TLS_ENABLED: "YES", TLS_CERTIFICATE: "/nope.pem", TLS_PRIVATE_KEY: "/nope.key" },
      /^TLS_CERTIFICATE="\/nope.pem": no such file/,
    ],
    [
      { RELAY_FROM_URL: "http://x" },
      /^RELAY_FROM_URL="http:\/\/x": expected a ws:\/\/ or wss:\/\/ URL/,
    ],
    [{ RELAY_FROM_ENABLED: "YES" }, /^RELAY_FROM_URL="": required/],
    [{ WEBSOCKET_TRANSPORT: "uws" }, /^WEBSOCKET_TRANSPORT="uws"/],
    [{ WEBSOCKET_PREFIX: "ws" }, /^WEBSOCKET_PREFIX="ws"/],
    [{ FRAGMENT_BUFFER_MAX_LENGTH: "-1" }, /^FRAGMENT_BUFFER_MAX_LENGTH="-1"/],
    [{ HTTP_ENABLED: "NO" }, /nothing would listen/],
    [
      { RELAY_FROM_URL: "ws://user:pw@origin/" },
      /^RELAY_FROM_URL="\(hidden\)": expected a URL without/,
    ],
    [{ PUB_REG_ALLOWED_HOSTS: "10.0.0.0/33" }, /^PUB_REG_ALLOWED_HOSTS=/],
    [{ PUB_REG_ALLOWED_HOSTS: "a host" }, /^PUB_REG_ALLOWED_HOSTS=.*not a host/],
    [{ NODE_ID: "edge 1" }, /^NODE_ID="edge 1": expected 1 to 64 letters/],
    [{ TOKEN_MAX_LIFETIME_SECONDS: "60" }, /^TOKEN_MAX_LIFETIME_SECONDS="60"/],
    [{ MAX_PENDING_CONNECTIONS_PER_ADDRESS: "-1" }, /^MAX_PENDING_CONNECTIONS_PER_ADDRESS=/],
    [
      { PLAYER_TARGET_DELAY_SECONDS: "0.01" },
      /^PLAYER_TARGET_DELAY_SECONDS="0.01": expected a number from 0.02 to 30/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const error = assertThrows(() => parseConfig({ ...SECRETS, ...env }, () => false), ConfigError);
    assert(pattern.test(error.message), `${JSON.stringify(env)}: ${error.message}`);
  }
});

Deno.test("an empty secret never turns authentication off silently", () => {
  const pull = assertThrows(() => parseConfig({ PUSH_SECRET: "q" }), ConfigError);
  assert(pull.message.startsWith('PULL_SECRET="": empty'), pull.message);
  const push = assertThrows(() => parseConfig({ PULL_SECRET: "p" }), ConfigError);
  assert(push.message.includes("PUSH_AUTH_DISABLED=YES"), push.message);
  // Explicit opt-outs, or no pushing at all, are accepted.
  assertEquals(
    parseConfig({ PULL_AUTH_DISABLED: "YES", PUSH_SECRET: "q" }).auth.pullAuthDisabled,
    true,
  );
  assertEquals(parseConfig({ PULL_SECRET: "p", PUSH_ALLOWED: "NO" }).auth.pushAllowed, false);
});
