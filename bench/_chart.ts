/**
 * The benchmark's chart as hand-written SVG: one row per figure, a bar from 1× to the figure's
 * ratio to its baseline on a logarithmic axis, the goal marked where there is one.
 *
 * @module
 */

/** One row of the chart. */
export interface ChartRow {
  /** The section the row belongs to; a header is drawn when it changes. */
  section: string;
  /** What is measured. */
  label: string;
  /** The figure divided by its baseline. */
  ratio: number;
  /** Smallest and largest ratio of repeated measurements, drawn as a whisker. */
  range?: [number, number];
  /** Which way is better. */
  better: "higher" | "lower";
  /** The goal as a ratio to the same baseline, when there is one. */
  goalRatio?: number;
  /** Whether the goal holds; `undefined` when there is no goal. */
  holds?: boolean;
  /** The figures themselves, printed beside the bar. */
  text: string;
}

/** Options of {@linkcode renderChart}. */
export interface ChartOptions {
  /** The title. */
  title: string;
  /** A line under the title (machine, date, duration). */
  subtitle: string;
}

const escape = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

const fmtRatio = (r: number) =>
  !Number.isFinite(r)
    ? "n/a"
    : r >= 100
    ? `${r.toFixed(0)}×`
    : r >= 10
    ? `${r.toFixed(1)}×`
    : `${r.toFixed(2)}×`;

/**
 * Draws the chart.
 *
 * @param rows The rows, in order.
 * @param options Title and subtitle.
 * @returns The SVG document.
 */
export function renderChart(rows: readonly ChartRow[], options: ChartOptions): string {
  const width = 1060;
  const labelX = 16;
  const plotX0 = 330;
  const plotX1 = 650;
  const textX = 664;
  const rowH = 24;
  const top = 78;
  const finite = rows.flatMap((r) => [r.ratio, r.goalRatio ?? 1, ...(r.range ?? [])]).filter((r) =>
    Number.isFinite(r) && r > 0
  );
  const lo = Math.min(0.1, 10 ** Math.floor(Math.log10(Math.min(...finite))));
  const hi = Math.max(10, 10 ** Math.ceil(Math.log10(Math.max(...finite))));
  const x = (r: number) =>
    plotX0 + (Math.log10(Math.min(hi, Math.max(lo, r))) - Math.log10(lo)) /
      (Math.log10(hi) - Math.log10(lo)) * (plotX1 - plotX0);

  const parts: string[] = [];
  let y = top;
  let section = "";
  const body: string[] = [];
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      y += 6;
      body.push(
        `<rect x="0" y="${y}" width="${width}" height="${rowH - 2}" fill="#eef1f5"/>`,
        `<text x="${labelX}" y="${y + 16}" class="section">${escape(section)}</text>`,
      );
      y += rowH;
    }
    const mid = y + rowH / 2;
    const arrow = row.better === "higher" ? "↑" : "↓";
    body.push(
      `<text x="${labelX}" y="${mid + 4}" class="label">${escape(row.label)} ` +
        `<tspan class="dim">${arrow} better</tspan></text>`,
    );
    if (Number.isFinite(row.ratio) && row.ratio > 0) {
      const a = x(1);
      const b = x(row.ratio);
      const color = row.holds === true ? "#2e7d32" : row.holds === false ? "#c62828" : "#4a78b5";
      body.push(
        `<rect x="${Math.min(a, b).toFixed(1)}" y="${y + 5}" width="${
          Math.max(1.5, Math.abs(b - a)).toFixed(1)
        }" height="${rowH - 10}" fill="${color}" rx="2"/>`,
      );
    }
    if (row.range && row.range.every((r) => Number.isFinite(r) && r > 0)) {
      const [a, b] = row.range.map(x);
      const wy = mid;
      body.push(
        `<path d="M${a.toFixed(1)} ${wy - 4} v8 M${a.toFixed(1)} ${wy} H${b.toFixed(1)} M${
          b.toFixed(1)
        } ${wy - 4} v8" class="whisker"/>`,
      );
    }
    if (row.goalRatio !== undefined && Number.isFinite(row.goalRatio)) {
      const g = x(row.goalRatio);
      body.push(
        `<line x1="${g.toFixed(1)}" y1="${y + 2}" x2="${g.toFixed(1)}" y2="${
          y + rowH - 2
        }" class="goal"/>`,
        `<path d="M${(g - 5).toFixed(1)} ${y + 1} L${(g + 5).toFixed(1)} ${y + 1} L${
          g.toFixed(1)
        } ${y + 7} Z" fill="#222"/>`,
      );
    }
    const verdict = row.holds === true ? "✓ goal" : row.holds === false ? "✗ goal" : "";
    body.push(
      `<text x="${textX}" y="${mid + 4}" class="value"><tspan class="ratio">${
        fmtRatio(row.ratio)
      }</tspan><tspan dx="6">${escape(row.text)}</tspan>${
        verdict ? `<tspan dx="8" class="${row.holds ? "ok" : "bad"}">${verdict}</tspan>` : ""
      }</text>`,
    );
    y += rowH;
  }
  const height = y + 56;

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<style>
  .title { font-size: 17px; font-weight: 600; fill: #111; }
  .subtitle { font-size: 12px; fill: #555; }
  .section { font-size: 13px; font-weight: 600; fill: #222; }
  .label { font-size: 12.5px; fill: #222; }
  .dim { fill: #888; font-size: 11px; }
  .value { font-size: 12px; fill: #333; }
  .ratio { font-weight: 600; }
  .ok { fill: #2e7d32; font-weight: 600; }
  .bad { fill: #c62828; font-weight: 600; }
  .axis { font-size: 11px; fill: #666; }
  .grid { stroke: #ccc; stroke-width: 1; }
  .minor { stroke: #eee; stroke-width: 1; }
  .minor-label { fill: #aaa; font-size: 10px; }
  .one { stroke: #555; stroke-width: 1.5; }
  .whisker { stroke: #111; stroke-width: 1.2; fill: none; opacity: 0.7; }
  .goal { stroke: #222; stroke-width: 1.5; stroke-dasharray: 3 2; }
</style>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${labelX}" y="26" class="title">${escape(options.title)}</text>`,
    `<text x="${labelX}" y="46" class="subtitle">${escape(options.subtitle)}</text>`,
  );
  // Decade grid lines and their labels, with 1× (the baseline) drawn darker; 2× and 5× lighter.
  for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) {
    const r = 10 ** d;
    for (const minor of [2, 5]) {
      if (r * minor >= hi) continue;
      const mx = x(r * minor).toFixed(1);
      parts.push(
        `<line x1="${mx}" y1="${top - 4}" x2="${mx}" y2="${y}" class="minor"/>`,
        `<text x="${mx}" y="${
          top - 10
        }" text-anchor="middle" class="axis minor-label">${+(r * minor).toPrecision(1)}</text>`,
      );
    }
    const gx = x(r).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${y}" class="${
        Math.abs(d) < 1e-9 ? "one" : "grid"
      }"/>`,
      `<text x="${gx}" y="${top - 10}" text-anchor="middle" class="axis">${
        r >= 1 ? r.toFixed(0) : r.toString()
      }×</text>`,
    );
  }
  parts.push(...body);
  parts.push(
    `<text x="${labelX}" y="${
      y + 24
    }" class="subtitle">Bar: the endpoint's figure ÷ its baseline from the same run (log scale);` +
      ` whisker: lowest–highest ratio of the rounds; ▼ goal; green/red: goal holds/missed; blue: no goal.</text>`,
    `<text x="${labelX}" y="${
      y + 42
    }" class="subtitle">Baselines: raw MQTT.js with the same payloads, topics, QoS, retain and window; a raw MQTT.js echo; JSON.stringify / cborg; the endpoint's own idle state.</text>`,
    `</svg>`,
  );
  return parts.join("\n") + "\n";
}
