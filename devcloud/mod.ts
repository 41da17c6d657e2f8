/**
 * A local stand-in for the cloud.iO cloud, for development: an in-process MQTT broker, a cloud
 * that follows every endpoint on it, checks each message by the real cloud's strict rules and
 * writes set-points with `@set`, and a web page that shows it all live. `deno run -A
 * devcloud/main.ts` starts the three.
 *
 * @example Watching a device from code
 * ```ts ignore
 * import { DevCloud, startLocalBroker } from "@cloudio/endpoint/devcloud";
 *
 * await using broker = await startLocalBroker();
 * await using cloud = await DevCloud.connect({ url: broker.url });
 * for await (const event of cloud.events()) console.log(event);
 * ```
 *
 * @example Watching a device in a browser
 * ```ts ignore
 * import { DevCloud, startDevCloudServer, startLocalBroker } from "@cloudio/endpoint/devcloud";
 *
 * await using broker = await startLocalBroker();
 * await using cloud = await DevCloud.connect({ url: broker.url });
 * await using server = await startDevCloudServer({ cloud, brokerUrl: broker.url });
 * console.log(`Open ${server.url}`);
 * ```
 *
 * @module
 */

export { startLocalBroker } from "./broker.ts";
export type { LocalBroker, LocalBrokerOptions } from "./broker.ts";
export { DevCloud, findAttribute } from "./cloud.ts";
export type {
  CloudEvent,
  DevCloudOptions,
  EndpointView,
  ExecJob,
  ExecOptions,
  HistoryPoint,
  Rejection,
  SetResult,
} from "./cloud.ts";
export { startDevCloudServer } from "./server.ts";
export type { DevCloudServer, DevCloudServerOptions, DevCloudState } from "./server.ts";
