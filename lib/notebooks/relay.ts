/**
 * The relay between Jupyter and the sandboxed kernel. Deno 2.9.6's kernel speaks ZMQ over TCP
 * only (`"transport": "ipc"` fails: it passes the path to `Deno.listen` as a host name), and a
 * kernel in its own network namespace listens on a loopback Jupyter cannot reach. So each of the
 * five channels is carried in two halves over a unix socket in a directory bound into the
 * sandbox:
 *
 * - outside ({@link relayIntoSandbox}): Jupyter connects to `127.0.0.1:<port>` of the connection
 *   file; each connection is carried to `<dir>/<channel>`;
 * - inside ({@link relayToKernel}): each connection on `<dir>/<channel>` is carried to the
 *   kernel's `127.0.0.1:<port>` on the sandbox's own loopback.
 *
 * Connections only ever go into the sandbox: nothing in it can open one to the outside.
 *
 * @module
 */

import { KERNEL_CHANNELS as CHANNELS } from "../config/kernel.ts";

export { CHANNELS };

/** A channel of a Jupyter connection. */
export type Channel = typeof CHANNELS[number];

/** A connection file that cannot be used (named in the message). */
export class ConnectionFileError extends Error {
  override name = "ConnectionFileError";
}

/** What memdil reads of a Jupyter connection file. */
export interface ConnectionInfo {
  /** `tcp`: the only transport Deno's kernel speaks. */
  transport: string;
  /** The address Jupyter connects to (a loopback address). */
  ip: string;
  /** The channels' ports. */
  ports: Record<Channel, number>;
  /** The whole file, as Jupyter wrote it (the kernel reads it inside the sandbox). */
  raw: Record<string, unknown>;
}

/**
 * Reads and checks a Jupyter connection file: TCP on a loopback address, five valid ports.
 * Throws a {@link ConnectionFileError} naming the file and what is wrong.
 *
 * @example
 * ```ts
 * const info = readConnectionFile("/run/user/1000/jupyter/kernel-1.json");
 * info.ports.shell; // 53794
 * ```
 */
export function readConnectionFile(path: string): ConnectionInfo {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    throw new ConnectionFileError(
      `cannot read the connection file ${path}: ${(error as Error).message}`,
    );
  }
  const transport = raw.transport ?? "tcp";
  const ip = raw.ip ?? "127.0.0.1";
  if (
    transport !== "tcp" || typeof ip !== "string" || !/^(127\.\d+\.\d+\.\d+|localhost)$/.test(ip)
  ) {
    throw new ConnectionFileError(
      `${path}: the sandboxed kernel is reached over TCP on the loopback only, not ` +
        `${String(transport)}://${String(ip)} (Jupyter's default is tcp on 127.0.0.1)`,
    );
  }
  const ports = Object.fromEntries(CHANNELS.map((channel) => {
    const port = raw[`${channel}_port`];
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConnectionFileError(
        `${path}: ${channel}_port must be a port number, got ${String(port)}`,
      );
    }
    return [channel, port];
  })) as Record<Channel, number>;
  return { transport, ip, ports, raw };
}

/** A running relay: `close()` stops accepting and ends every connection it carries. */
export interface Relay {
  close(): void;
}

function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // already closed
  }
}

/** Carries bytes both ways until either side ends, then closes both. */
async function splice(a: Deno.Conn, b: Deno.Conn): Promise<void> {
  await Promise.race([
    a.readable.pipeTo(b.writable, { preventClose: true }).catch(() => {}),
    b.readable.pipeTo(a.writable, { preventClose: true }).catch(() => {}),
  ]);
  closeQuietly(a);
  closeQuietly(b);
}

/**
 * Connects with `connect`, trying again while the other side is not there yet (the kernel takes
 * a moment to start), until `seconds` passed or `stopped()`.
 */
async function connectPatiently(
  connect: () => Promise<Deno.Conn>,
  seconds: number,
  stopped: () => boolean,
): Promise<Deno.Conn | undefined> {
  const deadline = Date.now() + seconds * 1000;
  while (!stopped()) {
    try {
      return await connect();
    } catch (error) {
      if (
        Date.now() > deadline ||
        !(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused)
      ) {
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return undefined;
}

function relay(
  listeners: Deno.Listener[],
  connect: (index: number) => Promise<Deno.Conn>,
  seconds: number,
): Relay {
  let closed = false;
  const open = new Set<Deno.Conn>();
  listeners.forEach(async (listener, index) => {
    try {
      for await (const incoming of listener) {
        open.add(incoming);
        (async () => {
          const outgoing = await connectPatiently(() => connect(index), seconds, () => closed);
          if (!outgoing) {
            open.delete(incoming);
            return closeQuietly(incoming);
          }
          open.add(outgoing);
          await splice(incoming, outgoing);
          open.delete(incoming);
          open.delete(outgoing);
        })();
      }
    } catch {
      // the listener was closed
    }
  });
  return {
    close() {
      closed = true;
      listeners.forEach(closeQuietly);
      open.forEach(closeQuietly);
    },
  };
}

/**
 * Outside the sandbox: listens where Jupyter connects (the connection file's loopback ports) and
 * carries each connection to the channel's unix socket in `dir`. A socket replaced by anything
 * but a socket (a symlink placed by the sandbox) is not followed.
 *
 * @example
 * ```ts
 * declare const info: ConnectionInfo;
 * const relay = relayIntoSandbox(info, "/tmp/memdil-kernel-x1");
 * relay.close();
 * ```
 */
export function relayIntoSandbox(info: ConnectionInfo, dir: string, seconds = 120): Relay {
  const listeners = CHANNELS.map((channel) =>
    Deno.listen({ hostname: info.ip, port: info.ports[channel] })
  );
  return relay(listeners, (index) => {
    const path = `${dir}/${CHANNELS[index]}`;
    if (!Deno.lstatSync(path).isSocket) {
      return Promise.reject(new Error(`${path} is not a socket`));
    }
    return Deno.connect({ transport: "unix", path });
  }, seconds);
}

/**
 * Inside the sandbox: listens on a unix socket per channel in `dir` and carries each connection to
 * the kernel's port on the sandbox's loopback.
 *
 * @example
 * ```ts
 * declare const info: ConnectionInfo;
 * const relay = relayToKernel(info, "/tmp/memdil-kernel");
 * relay.close();
 * ```
 */
export function relayToKernel(info: ConnectionInfo, dir: string, seconds = 120): Relay {
  const listeners = CHANNELS.map((channel) =>
    Deno.listen({ transport: "unix", path: `${dir}/${channel}` })
  );
  return relay(
    listeners,
    (index) => Deno.connect({ hostname: "127.0.0.1", port: info.ports[CHANNELS[index]] }),
    seconds,
  );
}
