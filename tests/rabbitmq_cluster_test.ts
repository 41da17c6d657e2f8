/**
 * The harness of `deno task cluster`: a 3-node RabbitMQ cluster on loopback starts, serves an
 * endpoint on a node other than the one that created its user (failing over to it from a
 * closed address), and leaves nothing running. The
 * failover run itself (kills, restarts, counting) takes minutes, so it is `deno task cluster`,
 * not part of this suite.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CloudioError, Endpoint } from "../mod.ts";
import { denoPlatform } from "../extend.ts";
import { type AttemptEvent, recordAttempts } from "./_attempt_recorder.ts";
import { rabbitMqMissing, startRabbitMqCluster } from "./_rabbitmq_cluster.ts";

const missing = rabbitMqMissing();
if (missing) console.log(`%cSkipping tests/rabbitmq_cluster_test.ts: ${missing}`, "color: yellow");

Deno.test({
  name: "startRabbitMqCluster() runs 3 clustered nodes and stop() leaves nothing running",
  ignore: missing !== undefined,
  async fn() {
    const cluster = await startRabbitMqCluster({ queueType: "quorum" });
    let pids: number[] = [];
    try {
      const running = await cluster.runningNodes();
      assert.deepEqual(running.toSorted(), cluster.nodes.map((n) => n.nodeName).toSorted());
      pids = cluster.processes();
      assert.ok(pids.length >= 4, `3 Erlang VMs and an epmd: ${pids.join(", ")}`);

      // The user is created through the first node and used on the last: users, permissions
      // and the persistent session's quorum queue are the cluster's.
      const uuid = crypto.randomUUID();
      await cluster.addEndpoint(uuid);
      const client = await cluster.pki.client(uuid);
      const [first, , last] = cluster.nodes;
      // The first URL listed is closed: the endpoint fails over to the last node by itself.
      const closed = first.tlsUrl.replace(/:\d+$/, ":1");
      const attempts: AttemptEvent[] = [];
      const errors: CloudioError[] = [];
      const endpoint = new Endpoint(uuid, {
        config: { hostUri: [closed, last.tlsUrl, first.tlsUrl], persistence: "memory" },
        credentials: { ca: cluster.pki.caPem, cert: client.certPem, key: client.keyPem },
        platform: recordAttempts(denoPlatform, attempts),
        onError: (error) => errors.push(error),
      });
      endpoint.addNode("Node").addObject("Status").addAttribute("a0", {
        type: "Integer",
        constraint: "Status",
        value: 1,
      });
      await endpoint.connect();
      assert.equal(endpoint.broker, last.tlsUrl);
      assert.deepEqual(attempts.map((a) => [a.url, a.outcome]), [
        [closed, "failed"],
        [last.tlsUrl, "online"],
      ]);
      await endpoint.close();
      assert.deepEqual(errors, []);
      const queues = await cluster.ctl("list_queues", "name", "type", "--no-table-headers");
      assert.match(queues, new RegExp(`mqtt-subscription-${uuid}qos1\\s+quorum`));
    } finally {
      await cluster.stop();
    }
    assert.deepEqual(cluster.processes(), []);
    for (const pid of pids) assert.throws(() => Deno.kill(pid, "SIGCONT"), `${pid} is gone`);
  },
});
