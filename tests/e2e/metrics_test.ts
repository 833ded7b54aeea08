/**
 * `/metrics`, `/stats` and the operator page of a live node: every metric is there in the
 * Prometheus text format with the values the traffic implies, `/stats` carries the same numbers
 * as JSON, every metric name is documented in `documentation/operations.md`, and the operator
 * page needs its token. Runs on every transport.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { publisherFor, spectatorFor } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { metrics, parseMetrics, stats } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";

const TOKEN = "operator-token-for-tests-0123456789";

/** The metric names (without `_bucket`/`_sum`/`_count`) the node must export. */
const EXPECTED = [
  "hlswscdn_connections",
  "hlswscdn_connections_total",
  "hlswscdn_streams",
  "hlswscdn_bytes_in_total",
  "hlswscdn_bytes_out_total",
  "hlswscdn_fragments_in_total",
  "hlswscdn_parts_in_total",
  "hlswscdn_media_messages_out_total",
  "hlswscdn_send_delay_seconds",
  "hlswscdn_spectator_jumps_total",
  "hlswscdn_refusals_total",
  "hlswscdn_publisher_graces_total",
  "hlswscdn_buffer_bytes",
  "hlswscdn_buffer_limit_bytes",
  "hlswscdn_buffer_evictions_total",
  "hlswscdn_http_responses_total",
  "hlswscdn_rate_limit_tracked_addresses",
  "hlswscdn_registry_errors_total",
  "hlswscdn_registry_reconnects_total",
  "hlswscdn_registry_connected",
  "hlswscdn_relay_errors_total",
  "hlswscdn_relay_reconnects_total",
  "hlswscdn_relay_upstream_connections",
  "hlswscdn_tls_reloads_total",
  "hlswscdn_tls_certificate_expiry_seconds",
  "hlswscdn_jwks_fetches_total",
  "hlswscdn_node_info",
  "process_cpu_seconds_total",
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_resident_memory_bytes",
  "process_heap_bytes",
  "process_start_time_seconds",
];

for (const transport of testTransports()) {
  Deno.test(`[${transport}] /metrics, /stats and the operator page`, async (t) => {
    await using node = await startNode({
      transport,
      env: { OPERATOR_TOKEN: TOKEN, BUFFER_MEMORY_LIMIT_MB: "256", NODE_ID: "metrics-node" },
    });
    const media = (await tsFragments()).slice(0, 3);
    await using publisher = await publisherFor(node.wsUrl, "m");
    await using spectator = await spectatorFor(node.wsUrl, "m");
    for (const fragment of media) publisher.sendFragment(fragment.duration, fragment.data);
    for (const _ of media) await spectator.nextFragment();
    const bytes = media.reduce((total, fragment) => total + fragment.data.byteLength, 0);

    await t.step("every metric, in the Prometheus text format, with the right values", async () => {
      const response = await fetch(`${node.httpUrl}/metrics`);
      assertMatch(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      const types = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
      for (const name of EXPECTED) assert(types.has(name), `missing ${name}`);
      const values = parseMetrics(text);
      assertEquals(values.get("hlswscdn_bytes_in_total"), bytes);
      assertEquals(values.get("hlswscdn_fragments_in_total"), media.length);
      assertEquals(values.get('hlswscdn_media_messages_out_total{kind="fragment"}'), media.length);
      assertEquals(values.get("hlswscdn_send_delay_seconds_count"), media.length);
      assert((values.get("hlswscdn_bytes_out_total") ?? 0) >= bytes);
      assertEquals(values.get('hlswscdn_connections{role="publisher"}'), 1);
      assertEquals(values.get('hlswscdn_connections{role="spectator"}'), 1);
      assertEquals(values.get('hlswscdn_streams{origin="local"}'), 1);
      assertEquals(values.get("hlswscdn_buffer_bytes"), bytes);
      assertEquals(values.get("hlswscdn_buffer_limit_bytes"), 256 * 1024 * 1024);
      assertEquals(
        values.get(`hlswscdn_node_info{node_id="metrics-node",transport="${transport}"}`),
        1,
      );
      assert((values.get("process_resident_memory_bytes") ?? 0) > 10_000_000);
      // Deno lets a process read /proc/self only with --allow-all, which `deno task start` does not give.
      assertEquals(values.get("process_open_fds"), undefined);
      assert((values.get("process_cpu_seconds_total") ?? 0) > 0);
    });

    await t.step("every exported metric is documented in operations.md", async () => {
      const documentation = await Deno.readTextFile(
        new URL("../../documentation/operations.md", import.meta.url),
      );
      const names = [...(await fetch(`${node.httpUrl}/metrics`).then((r) => r.text()))
        .matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
      for (const name of names) {
        assert(documentation.includes(`\`${name}\``), `${name} undocumented`);
      }
    });

    await t.step("/metrics is public, /stats (stream ids) needs the operator token", async () => {
      const open = await fetch(`${node.httpUrl}/metrics`);
      assertEquals(open.status, 200);
      assert(!(await open.text()).includes('"m"'), "no stream id in /metrics");
      for (
        const headers of [{}, { authorization: `Bearer ${TOKEN}x` }] as Record<string, string>[]
      ) {
        const refused = await fetch(`${node.httpUrl}/stats`, { headers });
        assertEquals(refused.status, 401);
        assert(!(await refused.text()).includes('"m"'));
      }
    });

    await t.step("/stats gives the same numbers as JSON", async () => {
      const document = await stats(node, TOKEN);
      const values = await metrics(node);
      assertEquals(document.nodeId, "metrics-node");
      assertEquals(document.connections, 2);
      assertEquals(document.bufferBytes, bytes);
      assertEquals(document.bufferLimitBytes, 256 * 1024 * 1024);
      assertEquals(document.metrics.hlswscdn_bytes_in_total, values.get("hlswscdn_bytes_in_total"));
      assertEquals(
        document.metrics['hlswscdn_send_delay_seconds_bucket{le="+Inf"}'],
        media.length,
      );
      assert(document.process.rssBytes > 10_000_000 && document.process.heapBytes > 1_000_000);
      assert(document.uptimeSeconds >= 0 && document.shuttingDown === false);
      assertEquals(document.streams[0].id, "m");
    });

    await t.step("the operator page needs its token and loads nothing from elsewhere", async () => {
      const without = await fetch(`${node.httpUrl}/operator`);
      assertEquals(without.status, 401);
      assertMatch(await without.text(), /Operator token/);
      const inAddress = await fetch(`${node.httpUrl}/operator?token=${TOKEN}`);
      assertEquals(inAddress.status, 401, "a token in the address opens nothing");
      await inAddress.body?.cancel();
      const login = await fetch(`${node.httpUrl}/operator`, {
        method: "POST",
        body: new URLSearchParams({ token: TOKEN }),
        redirect: "manual",
      });
      assertEquals(login.status, 303);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
      for (
        const request of [
          new Request(`${node.httpUrl}/operator`, { headers: { cookie } }),
          new Request(`${node.httpUrl}/operator`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }),
        ]
      ) {
        const page = await fetch(request);
        assertEquals(page.status, 200);
        const csp = page.headers.get("content-security-policy") ?? "";
        const nonce = /'nonce-([a-z0-9]+)'/.exec(csp)?.[1];
        assert(nonce !== undefined && csp.includes("default-src 'none'"), csp);
        assertEquals(page.headers.get("cache-control"), "no-store");
        const html = await page.text();
        assert(html.includes(`<script nonce="${nonce}">`));
        assert(!/(src|href)=["']?(https?:)?\/\//.test(html), "nothing loaded from elsewhere");
      }
    });
  });
}
