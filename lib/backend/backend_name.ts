/**
 * The backend names `--backend`, `MEMDIL_BACKEND` and config.ini take, and their check.
 *
 * @module
 */

/** Backend names accepted by `--backend`, the `MEMDIL_BACKEND` variable and config.ini. */
export const BACKEND_NAMES = ["auto", "tensorflow", "webgpu", "openblas", "wasm", "cpu"] as const;
/** A backend name as given by the user. */
export type BackendName = typeof BACKEND_NAMES[number];

/** Check a user-supplied backend name, throwing an error that lists the valid names. */
export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(
    `unknown backend '${value}': use one of ${BACKEND_NAMES.join(", ")} ` +
      `(flag --backend, variable MEMDIL_BACKEND or config.ini [COMPUTE] BACKEND)`,
  );
}
