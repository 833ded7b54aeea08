/**
 * The script of the operator page (`/operator`): polls `/stats` every two seconds (the session
 * cookie goes with it; the page never holds the token), derives rates from successive counters,
 * and draws each chart as plain SVG, with nothing loaded from elsewhere. `tools/build.ts` bundles
 * it into `client/dist/operator.js`, which the node inlines under the page's nonce.
 *
 * @module
 */

import { bucketsOf, byLabel, quantile, rate, sum } from "./stats_math.ts";

/** What the page reads of `/stats`. */
interface NodeStats {
  nodeId: string;
  transport: string;
  uptimeSeconds: number;
  shuttingDown: boolean;
  bufferBytes: number;
  bufferLimitBytes: number;
  process: { rssBytes: number; cpuSeconds: number; openFds: number | null };
  streams: { id: string; origin: string; spectators: number; lastSeq: number }[];
  metrics: Record<string, number>;
}

/** One chart: its title and where it is drawn. */
interface Chart {
  id: string;
  title: string;
  svg: SVGSVGElement;
  legend: HTMLElement;
}

/** Points kept per series (five minutes at one poll every two seconds). */
const POINTS = 150;
const PERIOD_MS = 2000;
const COLORS = [
  "#2f6fdf",
  "#e0662c",
  "#2a9d5c",
  "#a24bd1",
  "#c9a227",
  "#d43c6b",
  "#4aa3b5",
  "#777",
];
const SVG = "http://www.w3.org/2000/svg";
const CHARTS: [id: string, title: string][] = [
  ["connections", "Connections"],
  ["traffic", "Media traffic (Mbit/s)"],
  ["fragments", "Fragments in, media messages out (/s)"],
  ["delay", "Receive-to-send delay (ms, estimated from the histogram)"],
  ["buffer", "Buffer memory (MiB)"],
  ["refusals", "Refusals by code (/s)"],
  ["process", "Process: RSS (MiB), CPU (%), open files"],
  ["fleet", "Registry and relay errors, reconnects (/s)"],
];

/** The series of each chart: name → the last `POINTS` values (null where it had none). */
const history = new Map<string, Map<string, (number | null)[]>>();
let previous: { at: number; metrics: Record<string, number>; cpu: number } | null = null;

function element<T extends Element>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (found === null) throw new Error(`the page has no ${selector}`);
  return found;
}

const main = element<HTMLElement>("main");
const charts: Chart[] = CHARTS.map(([id, title]) => {
  const section = document.createElement("section");
  section.innerHTML =
    '<h2></h2><svg viewBox="0 0 400 150" preserveAspectRatio="none"></svg><div class="legend"></div>';
  element("h2", section).textContent = title;
  main.appendChild(section);
  return {
    id,
    title,
    svg: element<SVGSVGElement>("svg", section),
    legend: element(".legend", section),
  };
});
const streamsSection = document.createElement("section");
streamsSection.innerHTML =
  "<h2>Streams</h2><table><thead><tr><th>stream</th><th>origin</th><th>spectators</th><th>last seq</th></tr></thead><tbody></tbody></table>";
main.appendChild(streamsSection);

/** Adds one point to every series of a chart (null for a series that has none this time). */
function record(chartId: string, series: Record<string, number | null>): void {
  let store = history.get(chartId);
  if (store === undefined) history.set(chartId, store = new Map());
  for (const name of Object.keys(series)) if (!store.has(name)) store.set(name, []);
  for (const [name, points] of store) {
    points.push(name in series ? series[name] : null);
    if (points.length > POINTS) points.shift();
  }
}

function format(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function svgElement(name: string, attributes: Record<string, string>): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function draw(chart: Chart): void {
  const store = history.get(chart.id);
  if (store === undefined) return;
  let max = 0;
  for (const points of store.values()) {
    for (const value of points) if (value !== null && value > max) max = value;
  }
  const top = max > 0 ? max * 1.1 : 1;
  chart.svg.replaceChildren();
  for (const y of [0, 0.5, 1]) {
    const at = String(145 - y * 135);
    chart.svg.appendChild(
      svgElement("line", {
        x1: "0",
        x2: "400",
        y1: at,
        y2: at,
        stroke: "#e3e5ea",
        "stroke-width": "1",
      }),
    );
  }
  const label = svgElement("text", { x: "2", y: "12", "font-size": "10", fill: "#666" });
  label.textContent = format(top);
  chart.svg.appendChild(label);
  chart.legend.replaceChildren();
  let index = 0;
  for (const [name, points] of store) {
    const color = COLORS[index++ % COLORS.length];
    const coordinates: string[] = [];
    points.forEach((value, i) => {
      if (value === null) return;
      const x = 400 - (points.length - 1 - i) * (400 / (POINTS - 1));
      coordinates.push(`${x.toFixed(1)},${(145 - value / top * 135).toFixed(1)}`);
    });
    chart.svg.appendChild(
      svgElement("polyline", {
        points: coordinates.join(" "),
        fill: "none",
        stroke: color,
        "stroke-width": "1.5",
        "vector-effect": "non-scaling-stroke",
      }),
    );
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    const last = points[points.length - 1];
    item.append(swatch, `${name}: ${last === null ? "–" : format(last)}`);
    chart.legend.appendChild(item);
  }
}

/** Reads `/stats`; null (with the reason shown) when it cannot. */
async function readStats(): Promise<NodeStats | null> {
  const error = element("#error");
  try {
    const response = await fetch("/stats", { credentials: "same-origin" });
    if (response.status === 401) throw new Error("signed out: reload the page and sign in again");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const stats = await response.json() as NodeStats;
    error.textContent = "";
    return stats;
  } catch (failure) {
    error.textContent = `cannot read /stats: ${(failure as Error).message}`;
    return null;
  }
}

async function poll(): Promise<void> {
  const stats = await readStats();
  if (stats === null) return;
  const m = stats.metrics;
  const at = performance.now();
  const seconds = previous ? (at - previous.at) / 1000 : 1;
  const p = previous?.metrics;
  /** The rate of a counter since the last poll (0 on the first). */
  const perSecond = (now: number, before: (metrics: Record<string, number>) => number) =>
    rate(now, p === undefined ? undefined : before(p), seconds);
  element("#node").textContent = `node ${stats.nodeId} (${stats.transport})`;
  element("#uptime").textContent = `up ${Math.round(stats.uptimeSeconds)} s`;
  element("#state").textContent = stats.shuttingDown ? "SHUTTING DOWN" : "serving";
  const roles = byLabel(m, "hlswscdn_connections", "role");
  record("connections", {
    publishers: roles.publisher ?? 0,
    spectators: roles.spectator ?? 0,
    pending: roles.pending ?? 0,
  });
  record("traffic", {
    in: perSecond(m.hlswscdn_bytes_in_total, (b) => b.hlswscdn_bytes_in_total) * 8 / 1e6,
    out: perSecond(m.hlswscdn_bytes_out_total, (b) => b.hlswscdn_bytes_out_total) * 8 / 1e6,
  });
  const messagesOut = (metrics: Record<string, number>) =>
    sum(metrics, "hlswscdn_media_messages_out_total");
  record("fragments", {
    "fragments in": perSecond(m.hlswscdn_fragments_in_total, (b) => b.hlswscdn_fragments_in_total),
    "messages out": perSecond(messagesOut(m), messagesOut),
  });
  const delays = bucketsOf(m);
  const before = p === undefined ? [] : bucketsOf(p);
  record("delay", { p50: quantile(delays, before, 0.5), p99: quantile(delays, before, 0.99) });
  const buffer: Record<string, number> = { used: stats.bufferBytes / 1048576 };
  if (stats.bufferLimitBytes) buffer.limit = stats.bufferLimitBytes / 1048576;
  record("buffer", buffer);
  const refusals = (metrics: Record<string, number>) => sum(metrics, "hlswscdn_refusals_total");
  const refusalRates: Record<string, number> = { all: perSecond(refusals(m), refusals) };
  const byCode = byLabel(m, "hlswscdn_refusals_total", "code");
  const byCodeBefore = p === undefined ? {} : byLabel(p, "hlswscdn_refusals_total", "code");
  for (const [code, value] of Object.entries(byCode)) {
    refusalRates[code] = rate(value, byCodeBefore[code] ?? (p ? 0 : undefined), seconds);
  }
  record("refusals", refusalRates);
  const processSeries: Record<string, number> = {
    "RSS": stats.process.rssBytes / 1048576,
    "CPU %": rate(stats.process.cpuSeconds, previous?.cpu, seconds) * 100,
  };
  if (stats.process.openFds !== null) processSeries["open files"] = stats.process.openFds;
  record("process", processSeries);
  const registryErrors = (metrics: Record<string, number>) =>
    sum(metrics, "hlswscdn_registry_errors_total");
  const relayErrors = (metrics: Record<string, number>) =>
    sum(metrics, "hlswscdn_relay_errors_total");
  record("fleet", {
    "registry errors": perSecond(registryErrors(m), registryErrors),
    "registry reconnects": perSecond(
      m.hlswscdn_registry_reconnects_total,
      (b) => b.hlswscdn_registry_reconnects_total,
    ),
    "relay errors": perSecond(relayErrors(m), relayErrors),
    "relay reconnects": perSecond(
      m.hlswscdn_relay_reconnects_total,
      (b) => b.hlswscdn_relay_reconnects_total,
    ),
  });
  for (const chart of charts) draw(chart);
  const body = element("tbody", streamsSection);
  body.replaceChildren();
  for (const stream of stats.streams) {
    const row = document.createElement("tr");
    for (const value of [stream.id, stream.origin, stream.spectators, stream.lastSeq]) {
      const cell = document.createElement("td");
      cell.textContent = String(value ?? "");
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  previous = { at, metrics: m, cpu: stats.process.cpuSeconds };
}

poll();
setInterval(poll, PERIOD_MS);
