/**
 * Run directories: identity (uid), lock, state and opening rules, files and tensor format.
 *
 * @module
 */
export * from "./directory.ts";
export * from "./files.ts";
export * from "./identity.ts";
export * from "./lock.ts";
