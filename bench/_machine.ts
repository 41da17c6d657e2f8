/**
 * The machine a run measured on: CPU, cores, memory, OS, Deno, V8, mosquitto and the load
 * average at the start.
 *
 * @module
 */

/** Describes the machine, as results.json records it. */
export function machine() {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  let mosquitto = "unknown";
  try {
    const out = new Deno.Command("/usr/sbin/mosquitto", { args: ["-h"], stdout: "piped" })
      .outputSync();
    mosquitto = /mosquitto version (\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1] ??
      mosquitto;
  } catch {
    // not installed: startMosquitto() will say so
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    mosquitto,
    loadAverageAtStart: read("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  };
}
