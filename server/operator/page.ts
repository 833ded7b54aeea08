/**
 * The operator page (`GET /operator`, with `OPERATOR_TOKEN`): live charts of a node drawn from
 * `/stats` every two seconds, as plain SVG, with nothing loaded from elsewhere. The page never
 * holds the token: its login form POSTs it once, and the session cookie that answers (HttpOnly)
 * goes with every request to `/stats`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { operatorPage } from "./page.ts";
 * const html = operatorPage("r4nd0m");
 * assert(html.includes('<script nonce="r4nd0m">'));
 * ```
 * @module
 */

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 10px 16px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0; }
header span { opacity: .8; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; padding: 12px; }
section { background: #fff; border-radius: 6px; padding: 8px 12px; box-shadow: 0 1px 2px #0002; }
h2 { font-size: 13px; margin: 2px 0 6px; font-weight: 600; }
svg { width: 100%; height: 150px; display: block; }
.legend { font-size: 12px; display: flex; gap: 10px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
table { width: 100%; border-collapse: collapse; font-size: 12px; }
td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eee; }
#error { color: #b00020; padding: 0 16px; }
form { padding: 16px; }
`;

/** The page's script: polling, derived rates, and the SVG charts. */
const SCRIPT = `
const POINTS = 150, PERIOD = 2000;
const COLORS = ["#2f6fdf", "#e0662c", "#2a9d5c", "#a24bd1", "#c9a227", "#d43c6b", "#4aa3b5", "#777"];
const charts = [
  { id: "connections", title: "Connections", unit: "" },
  { id: "traffic", title: "Media traffic (Mbit/s)", unit: "" },
  { id: "fragments", title: "Fragments in, media messages out (/s)", unit: "" },
  { id: "delay", title: "Receive-to-send delay (ms, estimated from the histogram)", unit: "" },
  { id: "buffer", title: "Buffer memory (MiB)", unit: "" },
  { id: "refusals", title: "Refusals by code (/s)", unit: "" },
  { id: "process", title: "Process: RSS (MiB), CPU (%), open files", unit: "" },
  { id: "fleet", title: "Registry and relay errors, reconnects (/s)", unit: "" },
];
const history_ = new Map();
let previous = null;
const main = document.querySelector("main");
for (const chart of charts) {
  const section = document.createElement("section");
  section.innerHTML = '<h2></h2><svg viewBox="0 0 400 150" preserveAspectRatio="none"></svg><div class="legend"></div>';
  section.querySelector("h2").textContent = chart.title;
  chart.svg = section.querySelector("svg");
  chart.legend = section.querySelector(".legend");
  main.appendChild(section);
}
const streamsSection = document.createElement("section");
streamsSection.innerHTML = "<h2>Streams</h2><table><thead><tr><th>stream</th><th>origin</th><th>spectators</th><th>last seq</th></tr></thead><tbody></tbody></table>";
main.appendChild(streamsSection);

function sum(metrics, prefix) {
  let total = 0;
  for (const [name, value] of Object.entries(metrics)) {
    if (name === prefix || name.startsWith(prefix + "{")) total += value;
  }
  return total;
}
function byLabel(metrics, prefix, label) {
  const out = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (!name.startsWith(prefix + "{")) continue;
    const match = new RegExp(label + '="([^"]*)"').exec(name);
    if (match) out[match[1]] = (out[match[1]] || 0) + value;
  }
  return out;
}
function buckets(metrics) {
  const list = [];
  for (const [name, value] of Object.entries(metrics)) {
    const match = /^hlswscdn_send_delay_seconds_bucket\\{le="([^"]+)"\\}$/.exec(name);
    if (match) list.push([match[1] === "+Inf" ? Infinity : Number(match[1]), value]);
  }
  return list.sort((a, b) => a[0] - b[0]);
}
function quantile(now, before, q) {
  const counts = now.map(([le, count], index) => [le, count - (before[index] ? before[index][1] : 0)]);
  const total = counts.length ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  let lower = 0, below = 0;
  for (const [le, count] of counts) {
    if (count >= q * total) {
      if (le === Infinity) return lower * 1000;
      const inBucket = count - below;
      return (lower + (le - lower) * (inBucket ? (q * total - below) / inBucket : 1)) * 1000;
    }
    lower = le; below = count;
  }
  return null;
}
function record(chartId, series) {
  let store = history_.get(chartId);
  if (!store) history_.set(chartId, store = new Map());
  for (const [name, value] of Object.entries(series)) {
    if (!store.has(name)) store.set(name, []);
  }
  for (const [name, points] of store) {
    points.push(name in series ? series[name] : null);
    if (points.length > POINTS) points.shift();
  }
}
function draw(chart) {
  const store = history_.get(chart.id);
  if (!store) return;
  let max = 0;
  for (const points of store.values()) for (const value of points) if (value !== null && value > max) max = value;
  const top = max > 0 ? max * 1.1 : 1;
  const ns = "http://www.w3.org/2000/svg";
  chart.svg.replaceChildren();
  for (const y of [0, 0.5, 1]) {
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("x2", "400");
    line.setAttribute("y1", String(145 - y * 135)); line.setAttribute("y2", String(145 - y * 135));
    line.setAttribute("stroke", "#e3e5ea"); line.setAttribute("stroke-width", "1");
    chart.svg.appendChild(line);
  }
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "2"); label.setAttribute("y", "12"); label.setAttribute("font-size", "10");
  label.setAttribute("fill", "#666");
  label.textContent = format(top);
  chart.svg.appendChild(label);
  chart.legend.replaceChildren();
  let index = 0;
  for (const [name, points] of store) {
    const color = COLORS[index++ % COLORS.length];
    const path = document.createElementNS(ns, "polyline");
    const coordinates = [];
    points.forEach((value, i) => {
      if (value === null) return;
      const x = 400 - (points.length - 1 - i) * (400 / (POINTS - 1));
      coordinates.push(x.toFixed(1) + "," + (145 - value / top * 135).toFixed(1));
    });
    path.setAttribute("points", coordinates.join(" "));
    path.setAttribute("fill", "none"); path.setAttribute("stroke", color);
    path.setAttribute("stroke-width", "1.5"); path.setAttribute("vector-effect", "non-scaling-stroke");
    chart.svg.appendChild(path);
    const item = document.createElement("span");
    const last = points[points.length - 1];
    item.innerHTML = "<i></i>";
    item.querySelector("i").style.background = color;
    item.append(name + ": " + (last === null ? "–" : format(last)));
    chart.legend.appendChild(item);
  }
}
function format(value) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
function rate(now, before, seconds) {
  return before === undefined ? 0 : Math.max(0, (now - before) / seconds);
}
async function poll() {
  let stats;
  try {
    const response = await fetch("/stats", { credentials: "same-origin" });
    if (response.status === 401) throw new Error("signed out: reload the page and sign in again");
    if (!response.ok) throw new Error("HTTP " + response.status);
    stats = await response.json();
    document.querySelector("#error").textContent = "";
  } catch (error) {
    document.querySelector("#error").textContent = "cannot read /stats: " + error.message;
    return;
  }
  const m = stats.metrics;
  const at = performance.now();
  const seconds = previous ? (at - previous.at) / 1000 : 1;
  const p = previous ? previous.metrics : {};
  document.querySelector("#node").textContent = "node " + stats.nodeId + " (" + stats.transport + ")";
  document.querySelector("#uptime").textContent = "up " + Math.round(stats.uptimeSeconds) + " s";
  document.querySelector("#state").textContent = stats.shuttingDown ? "SHUTTING DOWN" : "serving";
  const roles = byLabel(m, "hlswscdn_connections", "role");
  record("connections", { publishers: roles.publisher || 0, spectators: roles.spectator || 0, pending: roles.pending || 0 });
  record("traffic", {
    in: rate(m.hlswscdn_bytes_in_total, p.hlswscdn_bytes_in_total, seconds) * 8 / 1e6,
    out: rate(m.hlswscdn_bytes_out_total, p.hlswscdn_bytes_out_total, seconds) * 8 / 1e6,
  });
  record("fragments", {
    "fragments in": rate(m.hlswscdn_fragments_in_total, p.hlswscdn_fragments_in_total, seconds),
    "messages out": rate(sum(m, "hlswscdn_media_messages_out_total"), previous ? sum(p, "hlswscdn_media_messages_out_total") : undefined, seconds),
  });
  const now = buckets(m), before = previous ? buckets(p) : [];
  record("delay", { p50: quantile(now, before, 0.5), p99: quantile(now, before, 0.99) });
  const buffer = { used: stats.bufferBytes / 1048576 };
  if (stats.bufferLimitBytes) buffer.limit = stats.bufferLimitBytes / 1048576;
  record("buffer", buffer);
  const refusals = byLabel(m, "hlswscdn_refusals_total", "code");
  const before_ = previous ? byLabel(p, "hlswscdn_refusals_total", "code") : {};
  const refusalRates = { all: rate(sum(m, "hlswscdn_refusals_total"), previous ? sum(p, "hlswscdn_refusals_total") : undefined, seconds) };
  for (const [code, value] of Object.entries(refusals)) refusalRates[code] = rate(value, before_[code] ?? (previous ? 0 : undefined), seconds);
  record("refusals", refusalRates);
  const processSeries = {
    "RSS": stats.process.rssBytes / 1048576,
    "CPU %": rate(stats.process.cpuSeconds, previous ? previous.cpu : undefined, seconds) * 100,
  };
  if (stats.process.openFds !== null) processSeries["open files"] = stats.process.openFds;
  record("process", processSeries);
  record("fleet", {
    "registry errors": rate(sum(m, "hlswscdn_registry_errors_total"), previous ? sum(p, "hlswscdn_registry_errors_total") : undefined, seconds),
    "registry reconnects": rate(m.hlswscdn_registry_reconnects_total, p.hlswscdn_registry_reconnects_total, seconds),
    "relay errors": rate(sum(m, "hlswscdn_relay_errors_total"), previous ? sum(p, "hlswscdn_relay_errors_total") : undefined, seconds),
    "relay reconnects": rate(m.hlswscdn_relay_reconnects_total, p.hlswscdn_relay_reconnects_total, seconds),
  });
  for (const chart of charts) draw(chart);
  const body = streamsSection.querySelector("tbody");
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
setInterval(poll, PERIOD);
`;

/** The operator page; `nonce` allows its inline script and style under the page's CSP. */
export function operatorPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>HLS WebSocket CDN node</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><h1>HLS WebSocket CDN</h1><span id="node"></span><span id="uptime"></span><span id="state"></span></header>
<p id="error"></p>
<main></main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

/**
 * The page shown without a valid token: a form that POSTs it (never in the address), and a line
 * saying why when a previous attempt failed.
 */
export function operatorLoginPage(nonce: string, problem = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>Operator token</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<form method="post" action="/operator">
${
    problem === ""
      ? ""
      : `<p id="error">${problem}</p>\n`
  }<label>Operator token <input type="password" name="token" autocomplete="off" autofocus></label>
<button>Open</button>
</form>
</body>
</html>
`;
}

/** The headers of both pages: no caching, no framing, nothing loaded from elsewhere. */
export function operatorHeaders(nonce: string): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy":
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}' 'unsafe-inline'; ` +
      "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
}
