/**
 * A local stand-in for the cloud.iO cloud, for development: an in-process MQTT broker and a
 * cloud that follows every endpoint on it, checks each message by the real cloud's strict rules
 * and writes set-points with `@set`.
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
 * @module
 */

export { startLocalBroker } from "./broker.ts";
export type { LocalBroker, LocalBrokerOptions } from "./broker.ts";
export { DevCloud, findAttribute } from "./cloud.ts";
export type {
  CloudEvent,
  DevCloudOptions,
  EndpointView,
  HistoryPoint,
  SetResult,
} from "./cloud.ts";
