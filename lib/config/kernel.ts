/**
 * Names shared by the notebook kernel's launcher, its relay and the permissions the launcher is
 * given (a leaf module: the relay inside the sandbox imports it without the rest of lib/).
 *
 * @module
 */

/** The name of memdil's sandboxed Deno kernel in Jupyter (the notebooks name it). */
export const KERNEL_NAME = "memdil";

/**
 * The five channels of a Jupyter connection, by their connection-file port keys; the relay
 * carries each over a unix socket of this name in its directory.
 */
export const KERNEL_CHANNELS = ["shell", "iopub", "stdin", "control", "hb"] as const;
