/**
 * memdil's sweep runners (`simple`, `large`) and their static registry.
 *
 * @module
 */
export * from "./runner_registry.ts";
