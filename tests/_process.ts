/**
 * Runs a Deno program as a child process and reads its output line by line, for tests of the
 * examples and of crash recovery.
 *
 * @module
 */

/** A running child process. */
export interface Child extends AsyncDisposable {
  /** Every line of stdout so far. */
  readonly lines: string[];
  /** stderr so far. */
  stderr(): string;
  /** Waits for a stdout line that matches. */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode spawnDeno}. */
export interface SpawnOptions {
  /** Environment variables to add. */
  env?: Record<string, string>;
  /** The working directory. */
  cwd?: string;
}

/** The Deno executable running the tests. */
export const DENO = Deno.execPath();

/**
 * Starts `deno <args>` with piped output.
 *
 * @param args The arguments after `deno`.
 * @param options Environment and working directory.
 * @returns The child.
 */
export function spawnDeno(args: string[], options: SpawnOptions = {}): Child {
  const process = new Deno.Command(DENO, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let err = "";
  let waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const offer = (line: string) => {
    lines.push(line);
    waiters = waiters.filter((w) => {
      if (!w.pattern.test(line)) return true;
      w.resolve(line);
      return false;
    });
  };
  const reading = (async () => {
    let partial = "";
    for await (const chunk of process.stdout.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const line of parts) offer(line);
    }
    if (partial) offer(partial);
  })();
  const readingErr = (async () => {
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  const status = Promise.all([process.status, reading, readingErr]).then(([s]) => s);
  let exited = false;
  status.then(() => exited = true);
  return {
    lines,
    stderr: () => err,
    status,
    kill(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          process.kill(signal);
        } catch {
          // Already gone.
        }
      }
    },
    waitForLine(pattern, timeout = 15_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(
            new Error(
              `No line matching ${pattern} within ${timeout} ms. stdout:\n${
                lines.join("\n")
              }\nstderr:\n${err}`,
            ),
          );
        }, timeout);
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ pattern, resolve: done });
        status.then(() => {
          if (waiters.some((w) => w.resolve === done)) {
            clearTimeout(timer);
            reject(
              new Error(
                `Exited before a line matching ${pattern}. stdout:\n${
                  lines.join("\n")
                }\nstderr:\n${err}`,
              ),
            );
          }
        });
      });
    },
    async [Symbol.asyncDispose]() {
      this.kill("SIGKILL");
      await status;
    },
  };
}
