/**
 * Runs inside the notebook kernel's sandbox (started by `cli/kernel.ts` through bwrap): the inner
 * half of the relay, and the parent of Deno's Jupyter kernel, whose exit status it passes on.
 *
 * Usage: `deno run ... sandboxed_kernel.ts <relay dir>`; the relay directory holds the connection
 * file (`connection.json`) and receives one unix socket per channel.
 *
 * @module
 */
import { readConnectionFile, relayToKernel } from "./relay.ts";

if (import.meta.main) {
  const [dir] = Deno.args;
  const connection = `${dir}/connection.json`;
  const relay = relayToKernel(readConnectionFile(connection), dir);
  const kernel = new Deno.Command(Deno.execPath(), {
    args: ["jupyter", "--kernel", "--conn", connection],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await kernel.status;
  relay.close();
  Deno.exit(status.signal ? 1 : status.code);
}
