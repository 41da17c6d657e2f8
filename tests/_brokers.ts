/**
 * The brokers the scenario suite (`tests/_scenarios.ts`) runs against, behind one interface:
 * mosquitto with TLS, client certificates and the cloud.iO ACL; RabbitMQ with certificate login and
 * cloud.iO's topic permissions; the devcloud's in-process broker (plain MQTT, no ACL).
 *
 * @module
 */

import type { LocalBroker } from "../devcloud/broker.ts";
import type { Mosquitto } from "./_broker.ts";
import { type Cloud, connectCloud, type ConnectCloudOptions } from "./_cloud.ts";
import {
  recordedEndpoint,
  type TestEndpoint,
  type TestEndpointOptions,
  tlsEndpoint,
} from "./_endpoint.ts";
import type { RabbitMq } from "./_rabbitmq.ts";

/** Options of {@linkcode BrokerUnderTest.endpoint}. */
export interface ScenarioEndpointOptions extends TestEndpointOptions {
  /** The endpoint's UUID (and certificate), when it is not a new one. */
  uuid?: string;
}

/** An endpoint of a scenario, with the UUID it was made for. */
export interface ScenarioEndpoint extends TestEndpoint {
  uuid: string;
}

/** A broker the scenarios run against. */
export interface BrokerUnderTest {
  /** For the test names. */
  readonly name: string;
  /** Whether `stop()` and `start()` keep the sessions and what was queued for them. */
  readonly restarts: boolean;
  /**
   * Creates (not connects) an endpoint, with a new UUID unless one is given, which the broker
   * accepts.
   *
   * @param options The UUID, format, extra configuration, name, endpoint options.
   * @returns The endpoint.
   */
  endpoint(options?: ScenarioEndpointOptions): Promise<ScenarioEndpoint>;
  /**
   * Connects a test cloud that may see every topic.
   *
   * @param options What to subscribe to, and the session.
   * @returns The cloud.
   */
  cloud(options: ConnectCloudOptions): Promise<Cloud>;
  /** Stops the broker (only when `restarts`). */
  stop(): Promise<void>;
  /** Starts it again (only when `restarts`). */
  start(): Promise<void>;
  /**
   * What the broker refused or broke of an endpoint, from its own log.
   *
   * @param uuid The endpoint.
   * @returns One line per refusal; none expected.
   */
  refusals(uuid: string): Promise<string[]>;
}

/**
 * Mosquitto with TLS, client certificates and the ACL. Start it with `persistence: true` (so that
 * sessions survive restarts) and `logTypes: ["all"]` (so that refused publishes are logged).
 *
 * @param broker The broker.
 * @returns The broker under test.
 */
export function mosquittoUnderTest(broker: Mosquitto): BrokerUnderTest {
  return {
    name: "mosquitto",
    restarts: true,
    async endpoint({ uuid = crypto.randomUUID(), ...options } = {}) {
      return { uuid, ...await tlsEndpoint(broker, uuid, options) };
    },
    cloud: (options) => connectCloud(broker.cloudUrl, options),
    stop: () => broker.stop(),
    start: () => broker.start(),
    refusals: (uuid) =>
      Promise.resolve(
        broker.output().split("\n").filter((line) =>
          line.includes("Denied") && line.includes(uuid)
        ),
      ),
  };
}

/** Lines of RabbitMQ's log that mean a connection was refused or broken by the broker. */
const RABBITMQ_COMPLAINT =
  /access_refused|authorization failure|authentication failure|protocol error|cannot parse|login failed/;

/**
 * A private RabbitMQ node with certificate login; each endpoint gets a user with cloud.iO's
 * permissions.
 *
 * @param broker The node.
 * @returns The broker under test.
 */
export function rabbitMqUnderTest(broker: RabbitMq): BrokerUnderTest {
  const users = new Set<string>();
  return {
    name: "RabbitMQ",
    restarts: true,
    async endpoint({ uuid = crypto.randomUUID(), ...options } = {}) {
      if (!users.has(uuid)) await broker.addEndpoint(uuid);
      users.add(uuid);
      return { uuid, ...await tlsEndpoint(broker, uuid, options) };
    },
    cloud: (options) => connectCloud(broker.cloudUrl, options),
    stop: () => broker.stop(),
    start: () => broker.start(),
    async refusals(uuid) {
      return (await broker.syncLog()).split("\n").filter((line) =>
        line.includes(uuid) && (RABBITMQ_COMPLAINT.test(line) || /refused for user/.test(line))
      );
    },
  };
}

/**
 * The devcloud's in-process broker: plain MQTT, no ACL, sessions in memory (lost on a restart, so
 * it does not restart).
 *
 * @param broker The broker.
 * @returns The broker under test.
 */
export function localBrokerUnderTest(broker: LocalBroker): BrokerUnderTest {
  const unsupported = () => Promise.reject(new Error("The local broker does not restart"));
  return {
    name: "the devcloud's broker",
    restarts: false,
    endpoint(options = {}) {
      const {
        uuid = crypto.randomUUID(),
        format = "JSON",
        extra = {},
        name = uuid,
        plain: _,
        ...rest
      } = options;
      return Promise.resolve({
        uuid,
        ...recordedEndpoint(name, {
          config: { hostUri: broker.url, messageFormat: format, persistence: "memory", ...extra },
          ...rest,
        }),
      });
    },
    cloud: (options) => connectCloud(broker.url, options),
    stop: unsupported,
    start: unsupported,
    refusals: () => Promise.resolve([]),
  };
}
