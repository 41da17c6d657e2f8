/**
 * cloudio-endpoint: put a device into the cloud.iO platform. Declare the device's data model
 * (nodes → objects → attributes), connect over MQTT with TLS, and from then on every value the
 * device sets reaches the cloud, every value the cloud sets reaches the device, and nothing is
 * lost while the network is down.
 *
 * This entry point is for Deno: it reads `<uuid>.properties` files, certificate files and keeps
 * a durable outbox in SQLite. Provisioning (fetching an endpoint's configuration and certificates
 * from the cloud, and installing them) is in `@cloudio/endpoint/provision`.
 *
 * @example A vacuum cleaner in the cloud
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint";
 *
 * await using endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
 * const throughput = node.addObject("Status")
 *   .addAttribute("throughput", { type: "Number", constraint: "Measure" });
 * const power = node.addObject("Parameters")
 *   .addAttribute("set_power_on", { type: "Boolean", constraint: "Parameter", value: false });
 * await endpoint.connect();          // finds 0b3c….properties, TLS with its client certificate
 * throughput.value = 3.5;            // → @update
 * for await (const change of power.changes()) {
 *   console.log("power", change.value); // @set from the cloud → applied → @didSet
 * }
 * ```
 *
 * Runtimes, transports and outbox stores of one's own go through `@cloudio/endpoint/extend`;
 * provisioning from the cloud through `@cloudio/endpoint/provision`.
 *
 * @module
 */

import { denoPlatform } from "./lib/adapters/deno.ts";
import { setDefaultPlatform } from "./lib/platform.ts";

setDefaultPlatform(denoPlatform);

export * from "./lib/api.ts";
export { modelFromXml } from "./connectors/xml.ts";
