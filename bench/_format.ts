/**
 * How the runner shows its figures: numbers, durations, sizes and ratios; a row of the table (a
 * figure next to its baseline, with its goal), the Markdown table and the profile's hotspots.
 *
 * @module
 */

import type { ChartRow } from "./_chart.ts";
import type { ProfileSummary } from "./_profile.ts";

/** A megabyte, as the table counts them. */
export const MB = 1e6;

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtMB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / MB).toFixed(1)} MB` : "n/a";
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×` : "n/a";
}

export function fmtShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export interface Row extends ChartRow {
  /** The endpoint's figure, formatted. */
  value: string;
  /** The baseline's figure and what it is, formatted. */
  baseline: string;
  /** The goal in words, when there is one. */
  goal?: string;
  /** The raw numbers, for results.json. */
  numbers: { value: number; baseline: number; unit: string };
}

export interface RowOptions {
  section: string;
  label: string;
  /** The endpoint's figure. */
  value: number;
  /** The baseline's figure. */
  baseline: number;
  unit: string;
  format: (n: number) => string;
  /** What the baseline is. */
  baselineName: string;
  better: "higher" | "lower";
  /** The ratio when it is not `value / baseline` (the median of paired ratios). */
  ratio?: number;
  /** Smallest and largest of the paired ratios. */
  range?: [number, number];
  /** The goal: in words, as a ratio to the baseline, and whether it holds. */
  goal?: { text: string; ratio: number; holds: (ratio: number, value: number) => boolean };
}

export function row(o: RowOptions): Row {
  const ratio = o.ratio ?? o.value / o.baseline;
  const measured = Number.isFinite(ratio);
  return {
    section: o.section,
    label: o.label,
    ratio,
    range: o.range,
    better: o.better,
    value: o.format(o.value),
    baseline: `${o.format(o.baseline)} ${o.baselineName}`,
    goal: o.goal?.text,
    goalRatio: o.goal?.ratio,
    holds: o.goal ? measured && o.goal.holds(ratio, o.value) : undefined,
    text: `${o.format(o.value)} vs ${o.format(o.baseline)}`,
    numbers: { value: o.value, baseline: o.baseline, unit: o.unit },
  };
}

export function markdownTable(rows: readonly Row[]): string {
  const header = ["figure", "endpoint", "baseline", "ratio", "spread", "goal"];
  const lines = [header];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push([`**${section}**`, "", "", "", "", ""]);
    }
    const verdict = r.goal ? `${r.goal} ${r.holds ? "✓ holds" : "✗ missed"}` : "";
    const spread = r.range ? `${fmtRatio(r.range[0])}–${fmtRatio(r.range[1])}` : "";
    lines.push([r.label, r.value, r.baseline, fmtRatio(r.ratio), spread, verdict]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const render = (cells: string[]) =>
    `| ${cells.map((c, i) => i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(" | ")} |`;
  return [
    render(lines[0]),
    `|${widths.map((w, i) => i === 3 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)).join("|")}|`,
    ...lines.slice(1).map(render),
  ].join("\n");
}

export function hotspotText(
  name: string,
  profile: ProfileSummary | undefined,
  top: number,
): string {
  if (!profile) return `${name}: no profile`;
  const lines = [
    `${name}: ${fmtMs(profile.busyMs)} busy, ${fmtMs(profile.idleMs)} idle between START and ACKED`,
    `  by origin: ${profile.origins.map((o) => `${o.origin} ${fmtShare(o.share)}`).join(", ")}`,
    `  self time:`,
    ...profile.self.slice(0, top).map((h) =>
      `    ${fmtShare(h.share).padStart(6)}  ${h.fn} (${h.where})`
    ),
  ];
  if (profile.inclusive.length) {
    lines.push(
      `  the endpoint's functions, inclusive (themselves + what they call):`,
      ...profile.inclusive.filter((h) => h.share >= 0.02).slice(0, 16).map((h) =>
        `    ${fmtShare(h.share).padStart(6)}  ${h.fn} (${h.where})`
      ),
    );
  }
  return lines.join("\n");
}
