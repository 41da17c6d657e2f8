/**
 * Serves a directory over HTTP on loopback, as a web server would serve the repository, so that
 * tests can load modules by URL.
 *
 * @module
 */

const TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  xml: "application/xml; charset=utf-8",
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** A running file server. */
export interface FileServer extends AsyncDisposable {
  /** Its base URL, ending with `/`. */
  readonly url: string;
  /** Paths requested so far. */
  readonly requested: string[];
}

/**
 * Serves the files under a directory (no listing, no `..`).
 *
 * @param root The directory.
 * @returns The server.
 */
export function serveDir(root: string): FileServer {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requested.push(path);
    if (path.split("/").includes("..")) return new Response("forbidden", { status: 403 });
    try {
      const body = await Deno.readFile(`${root.replace(/\/$/, "")}${path}`);
      const extension = path.split(".").pop() ?? "";
      return new Response(body, {
        headers: { "content-type": TYPES[extension] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    requested,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
