/**
 * Announcing nodes: a node added to a started endpoint, or given new objects or attributes, is
 * announced with `@nodeAdded` once the code that builds it has run (at the end of the current
 * task), or at once when one of its values is about to be sent, so that the cloud knows the node
 * before any of its values.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CloudioAttribute } from "../model/attribute.ts";
import type { CloudioNode } from "../model/node.ts";
import { sinkOf } from "../model/sink.ts";

/** The nodes waiting to be announced. */
export class Announcements {
  #pending = new Set<CloudioNode>();
  #scheduled = false;
  #announce: (node: CloudioNode) => void;

  /**
   * Creates an empty set of announcements.
   *
   * @param announce Sends one node's `@nodeAdded`.
   */
  constructor(announce: (node: CloudioNode) => void) {
    this.#announce = announce;
  }

  /**
   * Announces a node at the end of the current task.
   *
   * @param node The node, added or grown.
   */
  add(node: CloudioNode): void {
    this.#pending.add(node);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * Announces the node of an attribute now, if it waits: its value is about to be sent.
   *
   * @param attribute The attribute.
   */
  before(attribute: CloudioAttribute): void {
    if (this.#pending.size > 0 && this.#pending.has(attribute.node as CloudioNode)) this.flush();
  }

  /**
   * Forgets a node that was removed before it was announced.
   *
   * @param node The node.
   */
  forget(node: CloudioNode): void {
    this.#pending.delete(node);
  }

  /** Announces every waiting node that still belongs to the endpoint. */
  flush(): void {
    this.#scheduled = false;
    const nodes = [...this.#pending];
    this.#pending.clear();
    for (const node of nodes) if (sinkOf(node)) this.#announce(node);
  }
}
