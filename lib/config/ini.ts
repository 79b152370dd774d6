/**
 * `config/config.ini`: paths, logging, resources and compute defaults (docs/reference.md#flags-and-configuration).
 *
 * @module
 */
import ini from "ini";
import { type BackendName, parseBackendName } from "../backend/mod.ts";

/** Repository root (absolute path, no trailing slash). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Parsed config.ini with paths resolved to absolute ones. */
export interface IniConfig {
  paths: {
    basePath: string;
    fourclassExpPath: string;
    hoExpPath: string;
    hoExpLnPath: string;
    tmpPath: string;
  };
  logLevel: "DEBUG" | "INFO" | "WARNING" | "ERROR";
  resources: {
    gpusPerNode: number;
    cpusPerNode: number;
    maximumConcurrentJobs: number;
    heapMemoryInGb: number;
  };
  dataDir: string;
  backend: BackendName;
}

/** Expand a leading `~` and make a path absolute relative to the repository root. */
export function resolvePath(path: string, root: string = REPO_ROOT): string {
  if (path === "~" || path.startsWith("~/")) {
    const home = Deno.env.get("HOME") ?? "/root";
    return home + path.slice(1);
  }
  return path.startsWith("/") ? path : `${root}/${path}`;
}

/** Default location of config.ini, overridable with the `MEMDIL_CONFIG` variable. */
export function defaultIniPath(): string {
  return Deno.env.get("MEMDIL_CONFIG") ?? `${REPO_ROOT}/config/config.ini`;
}

function requireKey(section: Record<string, unknown>, name: string, key: string, file: string) {
  const value = section?.[key];
  if (typeof value !== "string" || value === "") {
    throw new Error(`${file}: missing key ${key} in section [${name}]`);
  }
  return value;
}

function positiveInt(value: string, key: string, file: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new Error(`${file}: ${key} must be a non-negative integer, got '${value}'`);
  }
  return parsed;
}

/**
 * Read and validate config.ini.
 *
 * @example
 * ```ts
 * const config = readIniConfig();
 * console.log(config.paths.basePath);
 * ```
 */
export function readIniConfig(path: string = defaultIniPath()): IniConfig {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(
      `cannot read ${path} (${(error as Error).message}); restore config/config.ini from git ` +
        `or point MEMDIL_CONFIG at a config file`,
    );
  }
  const parsed = ini.parse(text) as Record<string, Record<string, string>>;
  const get = (section: string, key: string) => requireKey(parsed[section], section, key, path);
  const logLevel = get("LOGGING", "LOG_LEVEL");
  if (!["DEBUG", "INFO", "WARNING", "ERROR"].includes(logLevel)) {
    throw new Error(`${path}: LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got '${logLevel}'`);
  }
  return {
    paths: {
      basePath: resolvePath(get("PATHS", "BASE_PATH")),
      fourclassExpPath: resolvePath(get("PATHS", "FOURCLASS_EXP_PATH")),
      hoExpPath: resolvePath(get("PATHS", "HO_EXP_PATH")),
      hoExpLnPath: resolvePath(get("PATHS", "HO_EXP_LN_PATH")),
      tmpPath: resolvePath(get("PATHS", "TMP_PATH")),
    },
    logLevel: logLevel as IniConfig["logLevel"],
    resources: {
      gpusPerNode: positiveInt(get("RESOURCES", "GPUS_PER_NODE"), "GPUS_PER_NODE", path),
      cpusPerNode: positiveInt(get("RESOURCES", "CPUS_PER_NODE"), "CPUS_PER_NODE", path),
      maximumConcurrentJobs: positiveInt(
        get("RESOURCES", "MAXIMUM_CONCURRENT_JOBS"),
        "MAXIMUM_CONCURRENT_JOBS",
        path,
      ),
      heapMemoryInGb: positiveInt(get("RESOURCES", "HEAP_MEMORY_IN_GB"), "HEAP_MEMORY_IN_GB", path),
    },
    dataDir: resolvePath(parsed.DATA?.DATA_DIR ?? "~/data"),
    backend: parseBackendName(parsed.COMPUTE?.BACKEND ?? "auto"),
  };
}
