/**
 * Ports for the brokers the tests start, shared by `_broker.ts` and `_rabbitmq.ts`.
 *
 * A broker is a separate process: it cannot be handed a socket that is already bound, so its ports
 * are chosen first and bound by the broker a moment later. Two things make that safe here:
 *
 * - Ports are taken from below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 on
 *   Linux by default). The kernel gives out ports from that range only, both to `listen(port 0)`
 *   and to the source ports of outgoing connections, so nothing the tests or their clients do
 *   implicitly can take a port chosen here between the check and the broker's bind.
 * - Two test files choosing the same port at the same time (each file runs in its own worker with
 *   `--parallel`) is still possible: a broker that fails with "address in use" on its first start
 *   is started again on new ports ({@linkcode retryOnAddressInUse}).
 *
 * @module
 */

/** Where chosen ports come from: below the ephemeral range, above the well-known ports. */
const RANGE = ephemeralStart();
const handedOut = new Set<number>();

/**
 * A port nobody listens on now on `hostname`, below the ephemeral range, never handed out before
 * by this module instance.
 *
 * @param hostname The address to check.
 * @returns The port.
 * @throws {Error} When no free port is found in 1,000 tries.
 */
export function freePort(hostname = "127.0.0.1"): number {
  for (let tries = 0; tries < 1000; tries++) {
    const port = RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low));
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname, port }).close();
    } catch {
      continue; // in use, or in TIME_WAIT of a listener
    }
    handedOut.add(port);
    return port;
  }
  throw new Error(`Cannot find a free port in ${RANGE.low}–${RANGE.high} on ${hostname}`);
}

/**
 * Whether a broker's failure to start says that one of its ports was taken.
 *
 * @param error The error `start()` threw (its message carries the broker's output).
 * @returns Whether choosing other ports may help.
 */
export function isAddressInUse(error: unknown): boolean {
  return /address already in use|eaddrinuse/i.test(String((error as Error)?.message ?? error));
}

/**
 * Runs `start` again with new ports (`repick`) while it fails because a port was taken.
 *
 * @param start Starts the broker.
 * @param repick Chooses new ports before the next try.
 * @param tries Tries at most.
 * @returns What `start` returns.
 * @throws The last error, when it is not about a taken port or every try failed.
 */
export async function retryOnAddressInUse<T>(
  start: () => Promise<T>,
  repick: () => void | Promise<void>,
  tries = 4,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= tries || !isAddressInUse(error)) throw error;
      console.warn(`a port was taken, starting again on others (try ${attempt + 1} of ${tries})`);
      await repick();
    }
  }
}

/**
 * Whether something accepts TCP connections on `port` of 127.0.0.1.
 *
 * @param port The port.
 * @returns Whether a connection succeeded.
 */
export async function accepts(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

function ephemeralStart(): { low: number; high: number } {
  let first = 32768;
  try {
    const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(
      /\s+/,
    ).map(Number);
    if (Number.isInteger(low) && low > 12_000) first = low;
  } catch {
    // Not Linux: assume the default range.
  }
  return { low: 10_000, high: first - 1 };
}
