/**
 * Reads a V8 `.cpuprofile` (as `deno run --cpu-prof` writes it) and tells where the time went:
 * self time per function, inclusive time of the endpoint's own functions, and a split by origin
 * (the endpoint's code, MQTT.js and other npm code, Deno's runtime and Node compatibility layer,
 * garbage collection, V8 itself).
 *
 * @module
 */

/** One function in a summary. */
export interface Hotspot {
  /** The function's name, `(anonymous)` when it has none. */
  fn: string;
  /** Where it is: a short path and line. */
  where: string;
  /** What it belongs to (see {@linkcode ProfileSummary.origins}). */
  origin: string;
  /** Milliseconds of samples. */
  ms: number;
  /** Share of the busy (non-idle) samples, 0–1. */
  share: number;
}

/** What {@linkcode summarizeProfile} found. */
export interface ProfileSummary {
  /** Milliseconds of busy samples in the window. */
  busyMs: number;
  /** Milliseconds of idle samples in the window. */
  idleMs: number;
  /** Busy time by origin. */
  origins: { origin: string; ms: number; share: number }[];
  /** Functions by self time. */
  self: Hotspot[];
  /** The endpoint's functions (lib/, mod.ts) by inclusive time: themselves and what they call. */
  inclusive: Hotspot[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The JSON of a `.cpuprofile`. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Options of {@linkcode summarizeProfile}. */
export interface SummarizeOptions {
  /** The repository root as a `file://` URL prefix, to tell the endpoint's code from the rest. */
  root: string;
  /** Only samples in this window, in µs from the profile's `startTime`. */
  window?: [number, number];
  /**
   * How many functions each list keeps.
   *
   * @default {12}
   */
  top?: number;
}

/** The origin of a frame. */
function originOf(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)" || functionName === "(root)") return "V8 / native";
  if (url.startsWith(root)) {
    const path = url.slice(root.length);
    if (path.startsWith("bench/") || path.startsWith("tests/")) return "benchmark driver";
    return "endpoint (lib/)";
  }
  if (/npm|node_modules/.test(url)) return "MQTT.js and npm deps";
  if (url.startsWith("ext:") || url.startsWith("node:")) return "Deno runtime and node: compat";
  if (url === "") return "V8 / native";
  return "other";
}

function shortUrl(url: string, root: string): string {
  if (url.startsWith(root)) return url.slice(root.length);
  const npm = /(?:registry\.npmjs\.org|node_modules)\/(.+)$/.exec(url);
  if (npm) return `npm:${npm[1].replace(/^\.deno\/[^/]+\/node_modules\//, "")}`;
  return url || "(native)";
}

/**
 * Summarizes a CPU profile.
 *
 * @param profile The parsed `.cpuprofile`.
 * @param options The repository root, the window and the list length.
 * @returns Busy and idle time, the split by origin, and the hottest functions.
 */
export function summarizeProfile(profile: CpuProfile, options: SummarizeOptions): ProfileSummary {
  const { root, window, top = 12 } = options;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (frame: CallFrame) =>
    `${frame.functionName || "(anonymous)"}\u0000${shortUrl(frame.url, root)}:${
      frame.lineNumber + 1
    }`;
  const self = new Map<string, { frame: CallFrame; us: number }>();
  const inclusive = new Map<string, { frame: CallFrame; us: number }>();
  const origins = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    // A sample stands for the time until the next one.
    const weight = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    const node = byId.get(samples[i]);
    if (!node) continue;
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") {
      idle += weight;
      continue;
    }
    busy += weight;
    const key = keyOf(frame);
    const entry = self.get(key) ?? { frame, us: 0 };
    entry.us += weight;
    self.set(key, entry);
    const origin = originOf(frame, root);
    origins.set(origin, (origins.get(origin) ?? 0) + weight);
    // Inclusive time: each endpoint function on the stack, once per sample.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (originOf(f, root) !== "endpoint (lib/)") continue;
      const k = keyOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = inclusive.get(k) ?? { frame: f, us: 0 };
      e.us += weight;
      inclusive.set(k, e);
    }
  }
  const toHotspot = ({ frame, us }: { frame: CallFrame; us: number }): Hotspot => ({
    fn: frame.functionName || "(anonymous)",
    where: `${shortUrl(frame.url, root)}:${frame.lineNumber + 1}`,
    origin: originOf(frame, root),
    ms: us / 1000,
    share: busy ? us / busy : 0,
  });
  const ranked = (map: Map<string, { frame: CallFrame; us: number }>) =>
    [...map.values()].sort((a, b) => b.us - a.us).slice(0, top).map(toHotspot);
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    origins: [...origins].sort((a, b) => b[1] - a[1]).map(([origin, us]) => ({
      origin,
      ms: us / 1000,
      share: busy ? us / busy : 0,
    })),
    self: ranked(self),
    inclusive: ranked(inclusive),
  };
}
