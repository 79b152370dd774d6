/**
 * The optional native `tensorflow` backend: tfjs-node-gpu, else tfjs-node, installed by hand with
 * npm into `vendor/tfjs-node` on a GPU host (docs/backends.md) and never fetched at run time.
 *
 * Both packages are CommonJS with a native addon, outside deno.lock, so they are loaded with
 * `require` from two fixed paths in the repository (an `import()` of them fails in this
 * project, which has no node_modules directory: `exports is not defined`). No path is computed:
 * nothing outside `vendor/tfjs-node` can be loaded this way.
 *
 * @module
 */
import { createRequire } from "node:module";
import { tf } from "./tf.ts";

const require = createRequire(import.meta.url);

/** The packages tried, in order, each loaded from its fixed place under `vendor/tfjs-node`. */
const NATIVE_PACKAGES: { name: string; load: () => unknown }[] = [
  {
    name: "@tensorflow/tfjs-node-gpu",
    load: () => require("../../vendor/tfjs-node/node_modules/@tensorflow/tfjs-node-gpu"),
  },
  {
    name: "@tensorflow/tfjs-node",
    load: () => require("../../vendor/tfjs-node/node_modules/@tensorflow/tfjs-node"),
  },
];

/**
 * Load the first native TensorFlow package that loads and registers the `tensorflow` backend;
 * undefined when one did, else why none did (one reason per package).
 *
 * @example
 * ```ts
 * const failure = loadNativeTensorflow();
 * console.log(failure ?? "tensorflow backend registered");
 * ```
 */
export function loadNativeTensorflow(): string | undefined {
  const failures: string[] = [];
  for (const { name, load } of NATIVE_PACKAGES) {
    try {
      // tfjs keeps its engine and kernel registry in globals, so the package's own copy of
      // tfjs-core registers 'tensorflow' with the engine this module uses.
      load();
      if (tf.findBackend("tensorflow")) return undefined;
      failures.push(`${name} loaded but registered no 'tensorflow' backend`);
    } catch (error) {
      const notInstalled = (error as { code?: string }).code === "MODULE_NOT_FOUND" &&
        (error as Error).message.includes(name);
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      failures.push(
        notInstalled
          ? `${name} not installed in vendor/tfjs-node`
          : `${name} failed to load (${message})`,
      );
    }
  }
  return failures.join("; ");
}
