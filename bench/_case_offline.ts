/**
 * Case 3, the offline queue: an endpoint process (`_offline.ts`) sets `config.offline` values
 * while its broker is down, then replays them when it comes back; its memory is read at each
 * step. It runs with the default V8 heap and with a bounded one.
 *
 * @module
 */

import { startMosquitto } from "../tests/_broker.ts";
import { connectCloud, type Received } from "../tests/_cloud.ts";
import { spawnDeno } from "../tests/_process.ts";
import { field, log, remove, script, sleep, tempDir } from "./_common.ts";
import { config } from "./_config.ts";
import { fmtInt, fmtMB, fmtMs } from "./_format.ts";

/** How many messages a `@delayed` payload carries (CBOR header or JSON), or 1 for the rest. */
function carried(message: Received): number {
  if (!message.topic.startsWith("@delayed/")) return 1;
  const bytes = message.payload;
  if (bytes[0] === 0x7b) {
    return (JSON.parse(new TextDecoder().decode(bytes)) as { messages: unknown[] }).messages
      .length;
  }
  // CBOR: find the "messages" key (0x68 + 8 bytes) and read the array header after it.
  const key = [0x68, ...new TextEncoder().encode("messages")];
  search: for (let i = 0; i + key.length < bytes.length; i++) {
    for (let j = 0; j < key.length; j++) if (bytes[i + j] !== key[j]) continue search;
    const at = i + key.length;
    const info = bytes[at] & 0x1f;
    if (info < 24) return info;
    if (info === 24) return bytes[at + 1];
    if (info === 25) return (bytes[at + 1] << 8) | bytes[at + 2];
    if (info === 26) {
      return ((bytes[at + 1] << 24) >>> 0) + (bytes[at + 2] << 16) + (bytes[at + 3] << 8) +
        bytes[at + 4];
    }
  }
  return 0;
}

/** V8 flags that bound the heap, for memory-constrained devices (see the README). */
export const SMALL_HEAP = ["--max-semi-space-size=1", "--max-old-space-size=24"];

export async function offlineCase(v8Flags: string[] = []) {
  const uuid = crypto.randomUUID();
  const store = await tempDir("offline");
  // A broker of its own, with persistence: the subscriber's session survives the stop.
  await using broker = await startMosquitto({ persistence: true });
  let delivered = 0;
  await using _cloud = await connectCloud(broker.cloudUrl, {
    clientId: `bench-${uuid.slice(0, 8)}`,
    clean: false,
    record: false,
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    onMessage: (m) => delivered += carried(m),
  });
  await broker.stop();
  // The default run has no V8 flags at all. --expose-gc (for the heap after a full GC) is one, and
  // the forced collection before the replay changed what followed: V8 grew the young generation to
  // its maximum and the replay of 1,000,000 values peaked at 188 MB instead of 144 MB. The bounded
  // run measures that heap.
  const flags = v8Flags.length > 0 ? ["--expose-gc", ...v8Flags] : [];
  const child = spawnDeno([
    "run",
    "-A",
    ...(flags.length > 0 ? [`--v8-flags=${flags.join(",")}`] : []),
    script("_offline.ts"),
    "--url",
    broker.tcpUrl,
    "--uuid",
    uuid,
    "--store",
    store,
    "--count",
    String(config.offline),
    "--attributes",
    String(config.attributes),
    "--format",
    config.format,
  ]);
  try {
    await child.waitForLine(/^RSS_SET /, 240_000);
    log(`offline: ${fmtInt(config.offline)} values queued in ${fmtMs(field(child, "SET"))}`);
    await broker.start();
    await child.waitForLine(/^HEAP_REPLAY /, 240_000);
    await child.status;
    const deadline = Date.now() + 30_000;
    while (delivered < config.offline && Date.now() < deadline) await sleep(20);
    const result = {
      count: config.offline,
      setMs: field(child, "SET"),
      rssIdle: field(child, "RSS_IDLE"),
      rssSet: field(child, "RSS_SET"),
      rssReplay: field(child, "RSS_REPLAY"),
      replayMs: field(child, "REPLAYED"),
      delivered,
      heapIdle: {
        total: field(child, "RSS_IDLE", 2),
        used: field(child, "RSS_IDLE", 3),
        external: field(child, "RSS_IDLE", 4),
      },
      /** Largest V8 heap (total, used) and external memory while queueing, bytes. */
      /** V8 heap in use after a full GC with the whole backlog queued (bounded run only). */
      heapAfterGc: field(child, "HEAP_AFTER_GC"),
      heapSet: {
        total: field(child, "HEAP_SET", 1),
        used: field(child, "HEAP_SET", 2),
        external: field(child, "HEAP_SET", 3),
      },
      heapReplay: {
        total: field(child, "HEAP_REPLAY", 1),
        used: field(child, "HEAP_REPLAY", 2),
        external: field(child, "HEAP_REPLAY", 3),
      },
    };
    log(
      `offline: replayed in ${fmtMs(result.replayMs)}, peak RSS ${
        fmtMB(result.rssSet)
      } queueing (V8 heap at most ${fmtMB(result.heapSet.total)}${
        Number.isNaN(result.heapAfterGc)
          ? ""
          : `, ${fmtMB(result.heapAfterGc)} live after a full GC`
      }) / ${fmtMB(result.rssReplay)} overall (heap ${fmtMB(result.heapReplay.total)}), ${
        fmtInt(delivered)
      } delivered`,
    );
    return result;
  } finally {
    await child[Symbol.asyncDispose]();
    await remove(store);
  }
}
