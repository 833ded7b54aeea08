/**
 * Reading a node's `/metrics` and `/stats` in tests, and waiting for a condition on them.
 *
 * @example
 * ```ts ignore
 * assertEquals(await metric(node, 'hlswscdn_refusals_total{code="RATE_LIMITED"}'), 3);
 * await waitUntil(async () => (await stats(node)).connections === 0, 5000, "connections closed");
 * ```
 * @module
 */

import { type NodeProcess, TEST_OPERATOR_TOKEN } from "./node_process.ts";

/** Parses the Prometheus text format into `series → value`. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Every series of a node's `/metrics` (with a bearer token when given). */
export async function metrics(node: NodeProcess, token?: string): Promise<Map<string, number>> {
  const response = await fetch(`${node.httpUrl}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** One series of a node's `/metrics` (0 when absent). */
export async function metric(node: NodeProcess, series: string): Promise<number> {
  return (await metrics(node)).get(series) ?? 0;
}

/**
 * A node's `/stats` document, read with the test nodes' operator token unless given another;
 * `null` reads it as anyone would (the node needs `STATS_PUBLIC=YES` for that).
 */
export async function stats(
  node: NodeProcess,
  token: string | null = TEST_OPERATOR_TOKEN,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const headers: Record<string, string> = token === null
    ? {}
    : { authorization: `Bearer ${token}` };
  const response = await fetch(`${node.httpUrl}/stats`, { headers });
  if (!response.ok) throw new Error(`/stats answered ${response.status}`);
  return await response.json();
}

/**
 * The `/stats` entry of one stream on a node (undefined when the node does not have it); with the
 * operator token it shows the upstream URL of a relayed stream too.
 */
export async function streamStats(
  node: NodeProcess,
  id: string,
  token?: string | null,
): Promise<Record<string, unknown> | undefined> {
  const streams = (await stats(node, token)).streams as Record<string, unknown>[];
  return streams.find((stream) => stream.id === id);
}

/** Polls `condition` every 50 ms until it holds, or throws `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
