/**
 * A small SVG line chart (no library): axes with round ticks, one polyline per series, a legend.
 * Gaps in a series (`null` values) break its line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChart } from "./svg_chart.ts";
 * const svg = lineChart({
 *   title: "latency",
 *   xLabel: "s",
 *   yLabel: "latency (s)",
 *   series: [{ name: "a", color: "#1f77b4", points: [[0, 1], [1, 1.2], [2, null], [3, 0.9]] }],
 * });
 * assert(svg.startsWith("<svg") && svg.includes("polyline"));
 * ```
 * @module
 */

/** One line of the chart. */
export interface ChartSeries {
  /** Name in the legend. */
  name: string;
  /** CSS colour. */
  color: string;
  /** Points `[x, y]`; a null `y` breaks the line. */
  points: Array<[number, number | null]>;
  /** SVG `stroke-dasharray`, for a dashed line. */
  dash?: string;
}

/** What to draw. */
export interface LineChartOptions {
  /** Title above the plot. */
  title: string;
  /** Label of the x axis. */
  xLabel: string;
  /** Label of the y axis. */
  yLabel: string;
  /** The lines. */
  series: ChartSeries[];
  /** Width in pixels. @default 900 */
  width?: number;
  /** Height in pixels. @default 420 */
  height?: number;
  /** Smallest upper bound of the y axis. @default 0 */
  minYMax?: number;
}

/** A round step giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function format(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** Draws the chart as an SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 420;
  const margin = { left: 64, right: 20, top: 40, bottom: 90 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = options.series.flatMap((series) => series.points);
  const xMax = Math.max(1, ...points.map(([x]) => x));
  const ys = points.map(([, y]) => y).filter((y): y is number => y !== null && Number.isFinite(y));
  const top = Math.max(options.minYMax ?? 0, ...ys.map((y) => y * 1.05), 0.1);
  const yStep = tickStep(top, 6);
  const yMax = Math.ceil(top / yStep) * yStep;
  const xStep = tickStep(xMax, 10);
  const sx = (x: number) => margin.left + (x / xMax) * plotWidth;
  const sy = (y: number) => margin.top + plotHeight - (y / yMax) * plotHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${
      escape(options.title)
    }</text>`,
  ];
  for (let y = 0; y <= yMax + yStep / 1000; y += yStep) {
    out.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(y)}" y2="${
        sy(y)
      }" stroke="#ddd"/>`,
      `<text x="${margin.left - 6}" y="${sy(y) + 4}" text-anchor="end">${format(y)}</text>`,
    );
  }
  for (let x = 0; x <= xMax + xStep / 1000; x += xStep) {
    out.push(
      `<line x1="${sx(x)}" x2="${sx(x)}" y1="${margin.top}" y2="${
        margin.top + plotHeight
      }" stroke="#eee"/>`,
      `<text x="${sx(x)}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${
        format(x)
      }</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${
      margin.top + plotHeight + 34
    }" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text transform="translate(16 ${
      margin.top + plotHeight / 2
    }) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`,
  );
  for (const series of options.series) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        out.push(
          `<polyline fill="none" stroke="${series.color}" stroke-width="1.6"${
            series.dash ? ` stroke-dasharray="${series.dash}"` : ""
          } points="${run.join(" ")}"/>`,
        );
      }
      run = [];
    };
    for (const [x, y] of series.points) {
      if (y === null || !Number.isFinite(y)) flush();
      else run.push(`${sx(x).toFixed(1)},${sy(Math.min(y, yMax)).toFixed(1)}`);
    }
    flush();
  }
  let legendX = margin.left;
  let legendY = margin.top + plotHeight + 56;
  for (const series of options.series) {
    const itemWidth = 40 + series.name.length * 7;
    if (legendX > margin.left && legendX + itemWidth > width - margin.right) {
      legendX = margin.left;
      legendY += 18;
    }
    out.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY - 4}" y2="${
        legendY - 4
      }" stroke="${series.color}" stroke-width="2.5"${
        series.dash ? ` stroke-dasharray="${series.dash}"` : ""
      }/>`,
      `<text x="${legendX + 30}" y="${legendY}">${escape(series.name)}</text>`,
    );
    legendX += itemWidth;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
