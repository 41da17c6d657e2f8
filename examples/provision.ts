#!/usr/bin/env -S deno run -A
/**
 * Provisions an endpoint: fetches its configuration from cloud.iO with a provisioning token (the
 * key pair is generated here and only the public key is sent), or reads the JSON or ZIP file
 * downloaded by hand, and installs it into ~/.config/cloud.io (or --dir) where the endpoint finds it.
 *
 *     deno run -A examples/provision.ts --api https://cloudio.example.com --token TOKEN
 *     deno run -A examples/provision.ts --zip endpoint.zip      (or --json endpoint.json)
 *
 * The token may also come from the CLOUDIO_PROVISION_TOKEN environment variable, which keeps it
 * out of the shell history and the process list. Run with --help for every option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CloudioError,
  type InstalledFiles,
  installProvisioned,
  parseProvisioningJson,
  parseProvisioningZip,
  provision,
  type Provisioned,
  stringifyProvisioningJson,
} from "../provision.ts";

const USAGE = `Usage:
  deno run -A examples/provision.ts --api URL --token TOKEN [options]
  deno run -A examples/provision.ts --zip FILE | --json FILE [--key FILE] [options]

  --api URL           the cloud's base URL (https://…); asks GET /api/v1/provision/<token>
  --token TOKEN       the provisioning token (or env CLOUDIO_PROVISION_TOKEN); single-use
  --no-generate-key   let the cloud generate the key pair and send the private key
  --format json|zip   what to ask the cloud for (default json)
  --zip FILE          install a provisioning ZIP archive downloaded by hand
  --json FILE         install a provisioning JSON file downloaded by hand
  --key FILE          the private key, when the downloaded file has none
  --dir DIR           where to install (default ~/.config/cloud.io)
  --name NAME         name the properties file NAME.properties (default: the UUID)
  --host-uri URI      the broker, instead of the cloud's hostUri property
  --overwrite         replace existing files with other content
  --insecure-http     allow plain http to a host other than this machine`;

function usage(problem: string): never {
  console.error(`error: ${problem}\n\n${USAGE}`);
  Deno.exit(2);
}

let args;
try {
  args = parseArgs({
    args: Deno.args,
    options: {
      api: { type: "string" },
      token: { type: "string" },
      "no-generate-key": { type: "boolean" },
      format: { type: "string" },
      zip: { type: "string" },
      json: { type: "string" },
      key: { type: "string" },
      dir: { type: "string" },
      name: { type: "string" },
      "host-uri": { type: "string" },
      overwrite: { type: "boolean" },
      "insecure-http": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
if (args.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const sources = [args.api, args.zip, args.json].filter((source) => source !== undefined);
if (sources.length !== 1) usage("give exactly one of --api, --zip and --json");
if (args.format !== undefined && args.format !== "json" && args.format !== "zip") {
  usage(`--format must be json or zip, not "${args.format}"`);
}

/** Shows where each file went; the private key is marked as readable by its owner only. */
function report(files: InstalledFiles): void {
  console.log(`Installed endpoint ${files.uuid} in ${files.dir}:`);
  for (const path of [files.properties, files.authorityCert, files.clientCert, files.clientKey]) {
    const notes = [
      path === files.clientKey ? "owner only" : "",
      files.unchanged.includes(path) ? "unchanged" : "",
    ].filter((note) => note !== "");
    console.log(`  ${path}${notes.length ? ` (${notes.join(", ")})` : ""}`);
  }
  // The next step: run an endpoint with this configuration, here the vacuum cleaner example.
  const home = Deno.env.get("HOME");
  const standard = [`${home}/.config/cloud.io`, "/etc/cloud.io"].includes(files.dir);
  const example = new URL("./vacuum_cleaner.ts", import.meta.url);
  const script = example.protocol === "file:" ? example.pathname : example.href;
  const config = standard ? "" : ` --config ${files.dir}`;
  const locations = standard ? "" : `, { locations: [${JSON.stringify(files.dir)}] }`;
  console.log(
    `\nNext, run an endpoint with it:\n  deno run -A ${script} --uuid ${files.name}${config}`,
  );
  console.log(`or in your code: new Endpoint(${JSON.stringify(files.name)}${locations})`);
}

/** Keeps what was fetched (the token is used up) when it cannot be installed. */
async function rescue(provisioned: Provisioned): Promise<string | undefined> {
  const path = `${Deno.cwd()}/${provisioned.uuid}.provisioning.json`;
  try {
    await Deno.writeTextFile(path, stringifyProvisioningJson(provisioned), {
      mode: 0o600,
      createNew: true,
    });
    return path;
  } catch {
    return undefined;
  }
}

try {
  let provisioned: Provisioned;
  if (args.api !== undefined) {
    const token = args.token ?? Deno.env.get("CLOUDIO_PROVISION_TOKEN");
    if (token === undefined) usage("give --token or set CLOUDIO_PROVISION_TOKEN");
    const generateKey = !args["no-generate-key"];
    provisioned = await provision(args.api, token, {
      generateKey,
      format: args.format === "zip" ? "zip" : "json",
      allowInsecureHttp: args["insecure-http"] ?? false,
    });
    console.log(
      `Provisioned endpoint ${provisioned.uuid}` +
        (generateKey
          ? " (its key pair was generated here; the cloud never saw the private key)"
          : ""),
    );
  } else if (args.zip !== undefined) {
    provisioned = await parseProvisioningZip(await Deno.readFile(args.zip));
  } else {
    provisioned = parseProvisioningJson(await Deno.readTextFile(args.json!));
  }
  try {
    report(
      await installProvisioned(provisioned, {
        dir: args.dir,
        overwrite: args.overwrite ?? false,
        name: args.name,
        hostUri: args["host-uri"],
        keyPem: args.key === undefined ? undefined : await Deno.readTextFile(args.key),
      }),
    );
  } catch (error) {
    if (args.api !== undefined) {
      const saved = await rescue(provisioned);
      if (saved) {
        console.error(
          `The token is used up; what the cloud sent is saved in ${saved} (keep it private).\n` +
            `Fix the problem below, then install it with: --json ${saved}`,
        );
      }
    }
    throw error;
  }
} catch (error) {
  // Configuration, network and file errors are the user's to fix: no stack trace for those.
  const expected = error instanceof CloudioError || error instanceof TypeError ||
    Object.values(Deno.errors).some((kind) => error instanceof kind);
  if (!expected) throw error;
  console.error(`error: ${(error as Error).message}`);
  Deno.exit(1);
}
