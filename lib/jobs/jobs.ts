/**
 * Remote jobs (protocol §6.9): `@exec/<uuid>` names a job as `cmd://<name>` (a handler registered
 * in code), `cmd://listJobs` (built in), or `file://<name>` (a program in a folder the device's
 * owner chose, only when one was configured). Output goes back line by line as
 * `@execOutput/<uuid>/<correlationID>` when the command asks for it. Unlike the Java reference,
 * nothing is downloaded or unzipped, no shell is involved, and the correlation ID is checked
 * before it becomes a topic level.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { nameProblem } from "../model/names.ts";

/** What a job handler is given. */
export interface JobContext {
  /** The job's name (`<name>` of `cmd://<name>`). */
  readonly name: string;
  /** The command's `data` string. */
  readonly data: string;
  /** The command's correlation ID. */
  readonly correlationID: string;
  /** Aborted when the job times out or the endpoint closes. */
  readonly signal: AbortSignal;
  /**
   * Sends output; each line (split on newlines) is one `@execOutput` message, sent only when the
   * command asked for output.
   */
  output(text: string): void;
}

/** A job implemented in code. */
export type JobHandler = (job: JobContext) => void | Promise<void>;

/** Options of a registered job. */
export interface JobOptions {
  /**
   * How long the job may run, in ms; then its signal aborts and a line says so.
   *
   * @default {60000}
   */
  timeout?: number;
}

/** An `@exec` command (protocol §6.9). */
export interface JobCommand {
  /** Names the run; becomes the last level of the output topic. */
  correlationID: string;
  /** `cmd://<name>` or `file://<name>`. */
  jobURI: string;
  /** Free text for the job. */
  data: string;
  /** Whether output is wanted. */
  sendOutput: boolean;
}

/** Runs a program without a shell; supplied by the platform (Deno), absent in browsers. */
export type FileRunner = (
  path: string,
  args: string[],
  signal: AbortSignal,
  onLine: (line: string) => void,
) => Promise<number>;

/** How the endpoint runs jobs. */
export interface JobsOptions {
  /** Publishes one output line. */
  output(correlationID: string, line: string): void;
  /** Reports a refused command. */
  refused(error: ProtocolError): void;
  /** Runs `file://` jobs; without it, or without `folder`, they are refused. */
  runFile?: FileRunner;
  /** The folder `file://` jobs may come from, asked when such a job arrives. */
  folder?: () => string | undefined;
  /**
   * Default timeout in ms.
   *
   * @default {60000}
   */
  timeout?: number;
  /**
   * Jobs that may run at once; more are refused with a line that says so.
   *
   * @default {4}
   */
  concurrency?: number;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Reads an `@exec` payload: `correlationID` and `jobURI` must be strings, `data` a string when
 * present, `sendOutput` a boolean when present; unknown keys are ignored.
 *
 * @param body The decoded payload.
 * @param topic The topic, for messages.
 * @returns The command.
 * @throws {ProtocolError} `malformed-payload` when a key has the wrong type.
 *
 * @example
 * ```ts
 * import { parseJobCommand } from "./jobs.ts";
 * import assert from "node:assert/strict";
 *
 * const command = parseJobCommand({ correlationID: "j1", jobURI: "cmd://listJobs", data: "", sendOutput: true });
 * assert.equal(command.jobURI, "cmd://listJobs");
 * ```
 */
export function parseJobCommand(body: Record<string, unknown>, topic?: string): JobCommand {
  const { correlationID, jobURI, data = "", sendOutput = false } = body;
  const bad = (what: string) =>
    new ProtocolError(`Cannot run the job of ${topic ?? "@exec"}: ${what}`, {
      code: "malformed-payload",
      topic,
    });
  if (typeof correlationID !== "string") throw bad("correlationID is not a string");
  if (typeof jobURI !== "string") throw bad("jobURI is not a string");
  if (typeof data !== "string") throw bad("data is not a string");
  if (typeof sendOutput !== "boolean") throw bad("sendOutput is not a boolean");
  return { correlationID, jobURI, data, sendOutput };
}

/**
 * The jobs of an endpoint: registered handlers and the runs in progress.
 *
 * @example
 * ```ts
 * import { Jobs } from "./jobs.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const jobs = new Jobs({ output: (_, line) => lines.push(line), refused: () => {} });
 * jobs.register("hello", (job) => job.output(`hello ${job.data}`));
 * await jobs.run({ correlationID: "c1", jobURI: "cmd://hello", data: "world", sendOutput: true });
 * assert.deepEqual(lines, ["hello world"]);
 * ```
 */
export class Jobs {
  #handlers = new Map<string, { handler: JobHandler; options: JobOptions }>();
  #running = new Set<AbortController>();
  #options: JobsOptions;

  /**
   * Creates the job registry.
   *
   * @param options Output, refusals, file runner and limits.
   */
  constructor(options: JobsOptions) {
    this.#options = options;
  }

  /**
   * Registers a job as `cmd://<name>`.
   *
   * @param name The name: letters, digits, `_` and `-`.
   * @param handler The job.
   * @param options Its timeout.
   * @throws {TypeError} When the name is invalid, taken, or `listJobs`.
   */
  register(name: string, handler: JobHandler, options: JobOptions = {}): void {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new TypeError(`Cannot register job "${name}": use 1 to 64 letters, digits, "_" or "-"`);
    }
    if (name === "listJobs" || this.#handlers.has(name)) {
      throw new TypeError(`Cannot register job "${name}": the name is taken`);
    }
    if (typeof handler !== "function") {
      throw new TypeError(`Cannot register job "${name}": not a function`);
    }
    this.#handlers.set(name, { handler, options });
  }

  /**
   * Removes a job.
   *
   * @param name The name.
   * @returns Whether there was one.
   */
  unregister(name: string): boolean {
    return this.#handlers.delete(name);
  }

  /** The names of the registered jobs. */
  get names(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Runs a command to its end (or its timeout). Never throws: refusals are reported, failures
   * become an output line.
   *
   * @param command The command.
   * @param topic The topic it came on, for messages.
   */
  async run(command: JobCommand, topic?: string): Promise<void> {
    const { correlationID, jobURI, data, sendOutput } = command;
    const problem = nameProblem(correlationID);
    if (problem) {
      // It would become an invalid topic level (RabbitMQ disconnects on those): refuse.
      this.#options.refused(
        new ProtocolError(
          `Cannot run the job of ${topic ?? "@exec"}: correlation ID ${
            JSON.stringify(correlationID)
          } cannot be a topic level (${problem})`,
          { code: "invalid-topic", topic },
        ),
      );
      return;
    }
    const out = (text: string) => {
      if (!sendOutput) return;
      for (const line of text.split(/\r?\n/)) this.#options.output(correlationID, line);
    };
    const [scheme, rest] = splitUri(jobURI);
    if (scheme === "cmd" && rest === "listJobs") {
      out(this.#list().join("\n"));
      return;
    }
    if (this.#running.size >= (this.#options.concurrency ?? 4)) {
      out(`Job ${jobURI} refused: ${this.#running.size} jobs are running already`);
      return;
    }
    if (scheme === "cmd" && this.#handlers.has(rest)) {
      const { handler, options } = this.#handlers.get(rest)!;
      await this.#guard(
        options.timeout ?? this.#options.timeout ?? 60_000,
        jobURI,
        out,
        (signal) => handler({ name: rest, data, correlationID, signal, output: out }),
      );
      return;
    }
    const folder = this.#options.folder?.();
    if (
      scheme === "file" && folder && this.#options.runFile && FILE_NAME.test(rest) &&
      !rest.includes("..")
    ) {
      const path = `${folder.replace(/\/+$/, "")}/${rest}`;
      const args = data.trim() === "" ? [] : data.trim().split(/\s+/);
      await this.#guard(this.#options.timeout ?? 60_000, jobURI, out, async (signal) => {
        const code = await this.#options.runFile!(path, args, signal, (line) => out(line));
        if (code !== 0) out(`Job ${jobURI} exited with code ${code}`);
      });
      return;
    }
    out(`Job ${jobURI} is not supported by this endpoint (try cmd://listJobs)`);
  }

  #list(): string[] {
    return ["cmd://listJobs", ...this.names.map((name) => `cmd://${name}`)];
  }

  async #guard(
    timeout: number,
    jobURI: string,
    out: (text: string) => void,
    body: (signal: AbortSignal) => void | Promise<void>,
  ): Promise<void> {
    const controller = new AbortController();
    this.#running.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${timeout} ms`));
    }, timeout);
    try {
      await Promise.race([
        Promise.resolve().then(() => body(controller.signal)),
        new Promise<void>((resolve) =>
          controller.signal.addEventListener("abort", () => resolve(), { once: true })
        ),
      ]);
      if (timedOut) out(`Job ${jobURI} timed out after ${timeout} ms`);
      else if (controller.signal.aborted) out(`Job ${jobURI} was cancelled`);
    } catch (error) {
      out(`Job ${jobURI} failed: ${(error as Error)?.message ?? error}`);
    } finally {
      clearTimeout(timer);
      this.#running.delete(controller);
    }
  }

  /** Cancels every running job (when the endpoint closes). */
  cancelAll(): void {
    for (const controller of this.#running) controller.abort(new Error("the endpoint is closing"));
  }
}

function splitUri(uri: string): [string, string] {
  const match = /^([a-z]+):\/\/(.*)$/.exec(uri);
  return match ? [match[1], match[2]] : ["", uri];
}
