/**
 * The VacuumCleaner model of `vacuum_cleaner.xml`, written as classes: each object is a class
 * whose fields are its attributes, and the node is a class whose fields are its objects. The
 * fields are typed (`vacuum.Status.throughput.value` is a `number`), named after themselves, and
 * live: the program reads and writes them directly.
 *
 * ```ts ignore
 * import { Endpoint } from "../mod.ts";
 * import { VacuumCleaner } from "./vacuum_cleaner_classes.ts";
 *
 * const vacuum = new VacuumCleaner();
 * await using endpoint = new Endpoint(uuid, { model: { nodes: { VacuumCleaner: vacuum } } });
 * await endpoint.connect();
 * vacuum.Status.throughput.value = 3.5; // → @update
 * ```
 *
 * @module
 */

import { CloudioNode, CloudioObject, measure, parameter } from "../mod.ts";

/** Written by the cloud (`@set`); the endpoint keeps them and answers with `@didSet`. */
export class Parameters extends CloudioObject {
  /** The name the cloud gives the device. */
  set_identification = parameter("String", { value: "VC-0001" });
  /** Whether the cloud wants the motor running. */
  set_power_on = parameter("Boolean", { value: false });
  /** The throughput the cloud asks for; no more than 10. */
  set_throughput = parameter("Number", {
    value: 2.5,
    accept: (value) => value >= 0 && value <= 10,
  });
  /** The operating mode: 1, 2 or 3. */
  set_operating_mode = parameter("Integer", { value: 1, accept: (mode) => mode >= 1 && mode <= 3 });
}

/** Measured by the device (`@update`). */
export class Status extends CloudioObject {
  /** The name the device answers to. */
  identification = measure("String", { value: "VC-0001" });
  /** Whether the motor runs. */
  isPoweredOn = measure("Boolean", { value: false });
  /** The throughput measured: sent when it moves by more than 0.05, and at least once a minute. */
  throughput = measure("Number", { value: 0, policy: { deadband: 0.05, maxInterval: 60_000 } });
  /** The operating mode in force. */
  operatingMode = measure("Integer", { value: 1 });
}

/** The vacuum cleaner: a node with its Parameters and Status. */
export class VacuumCleaner extends CloudioNode {
  /** The interface the Python reference's connector declares for every node. */
  override readonly implements = ["NodeInterface"];
  /** What the cloud sets. */
  Parameters = new Parameters();
  /** What the device measures. */
  Status = new Status();

  /** Makes the Status follow the Parameters the cloud set. */
  reflect(): void {
    const { Parameters: p, Status: s } = this;
    if (s.isPoweredOn.value !== p.set_power_on.value) s.isPoweredOn.value = p.set_power_on.value;
    if (s.operatingMode.value !== p.set_operating_mode.value) {
      s.operatingMode.value = p.set_operating_mode.value;
    }
    if (s.identification.value !== p.set_identification.value) {
      s.identification.value = p.set_identification.value;
    }
  }
}
