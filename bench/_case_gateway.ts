/**
 * Case 6, the gateway: N devices in one process (`_gateway.ts`), each the VacuumCleaner model with
 * its own UUID, client certificate and TLS connection, against a mosquitto of the case's own (TLS,
 * client certificates, the cloud.iO ACL). For each size, a {@linkcode Gateway} with durable
 * outboxes and its baseline, as many raw MQTT.js clients, run one after the other (order
 * alternating by size); each goes through start, idle, throughput and a broker restart.
 *
 * @module
 */

import { startMosquitto } from "../tests/_broker.ts";
import { spawnDeno } from "../tests/_process.ts";
import { epochNow, field, log, remove, script, sleep, tempDir } from "./_common.ts";
import { config } from "./_config.ts";
import { fmtInt, fmtMB, fmtMs } from "./_format.ts";

/** The figures of one process. */
export interface GatewayRun {
  variant: "endpoint" | "raw";
  count: number;
  /** From the first connection attempt to the last device online, ms. */
  onlineMs: number;
  /** CPU of the process while idle, as a share of one core. */
  idleCpu: number;
  /** RSS after the idle window, bytes. */
  rss: number;
  /** Peak RSS of the whole run (VmHWM), bytes. */
  rssPeak: number;
  /** Updates per second with every device publishing, until all were acknowledged. */
  updateRate: number;
  /** From the broker listening again to the last device online, ms. */
  backMs: number;
}

/** The properties of a device of the case. */
function properties(url: string, ca: string, cert: string, key: string, store: string): string {
  return [
    `ch.hevs.cloudio.endpoint.hostUri=${url}`,
    `ch.hevs.cloudio.endpoint.ssl.authorityCert=${ca}`,
    `ch.hevs.cloudio.endpoint.ssl.clientCert=${cert}`,
    `ch.hevs.cloudio.endpoint.ssl.clientKey=${key}`,
    `ch.hevs.cloudio.endpoint.persistence=file`,
    `ch.hevs.cloudio.endpoint.persistenceLocation=${store}`,
    `ch.hevs.cloudio.endpoint.keepAliveInterval=${config.gatewayKeepAlive}`,
    "",
  ].join("\n");
}

export async function gatewayCase(): Promise<GatewayRun[]> {
  await using broker = await startMosquitto({ plainEndpointListener: false });
  const largest = Math.max(...config.gatewayCounts);
  const started = performance.now();
  const uuids = Array.from({ length: largest }, () => crypto.randomUUID());
  const credentials = [];
  for (let i = 0; i < uuids.length; i += 32) {
    credentials.push(...await Promise.all(uuids.slice(i, i + 32).map((u) => broker.pki.client(u))));
  }
  log(`gateway: ${fmtInt(largest)} client certificates in ${fmtMs(performance.now() - started)}`);
  const runs: GatewayRun[] = [];
  for (const [i, count] of config.gatewayCounts.entries()) {
    const order = i % 2 === 0 ? ["raw", "endpoint"] as const : ["endpoint", "raw"] as const;
    for (const variant of order) {
      const dir = await tempDir("gateway");
      try {
        for (let d = 0; d < count; d++) {
          const { cert, key } = credentials[d];
          await Deno.writeTextFile(
            `${dir}/${uuids[d]}.properties`,
            properties(broker.tlsUrl, broker.pki.caCert, cert, key, `${dir}/store`),
          );
        }
        const run = await gatewayRun(broker, variant, count, dir);
        runs.push(run);
        log(
          `gateway ${variant} × ${fmtInt(count)}: online in ${fmtMs(run.onlineMs)}, idle CPU ${
            (run.idleCpu * 100).toFixed(2)
          }% of a core, RSS ${fmtMB(run.rss)} (peak ${fmtMB(run.rssPeak)}), ${
            fmtInt(run.updateRate)
          } updates/s, back ${fmtMs(run.backMs)} after a broker restart`,
        );
      } finally {
        await remove(dir);
      }
    }
  }
  return runs;
}

async function gatewayRun(
  broker: Awaited<ReturnType<typeof startMosquitto>>,
  variant: "endpoint" | "raw",
  count: number,
  dir: string,
): Promise<GatewayRun> {
  const child = spawnDeno([
    "run",
    "-A",
    script("_gateway.ts"),
    "--variant",
    variant,
    "--config",
    dir,
    "--rate",
    String(config.gatewayRate),
    "--idle",
    String(config.gatewayIdle(count)),
    "--updates",
    String(config.gatewayUpdates),
  ]);
  const timeout = 120_000 + count / config.gatewayRate * 2000;
  try {
    await child.waitForLine(/^RESTART$/, timeout + (10 + config.gatewayIdle(count)) * 1000);
    await broker.kill();
    await sleep(1000);
    await broker.start();
    const listening = epochNow();
    await child.waitForLine(/^END /, timeout);
    return {
      variant,
      count,
      onlineMs: field(child, "ONLINE"),
      idleCpu: field(child, "IDLE", 1) / 1000 / field(child, "IDLE", 2),
      rss: field(child, "IDLE", 3),
      rssPeak: field(child, "RSS_HWM"),
      updateRate: field(child, "THROUGHPUT", 1) / (field(child, "THROUGHPUT", 2) / 1000),
      backMs: field(child, "BACK") - listening,
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstderr:\n${child.stderr().slice(-2000)}`);
  } finally {
    await child[Symbol.asyncDispose]();
  }
}
