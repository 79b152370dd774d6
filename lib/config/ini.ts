/**
 * `config/config.ini`: paths, logging, resources and compute defaults (docs/reference.md#flags-and-configuration).
 *
 * @module
 */
import ini from "ini";
import { type BackendName, parseBackendName } from "../backend/mod.ts";

/** config.ini cannot be used (unreadable, unknown or repeated section or key, bad value). */
export class IniError extends Error {
  override name = "IniError";
}

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
  /** [SLURM] SHARED_PATH resolved ("" when unset). */
  slurmSharedPath: string;
}

/** Every section of config.ini and its keys: anything else is a mistake, and is refused. */
export const INI_KEYS: Readonly<Record<string, readonly string[]>> = {
  PATHS: ["BASE_PATH", "FOURCLASS_EXP_PATH", "HO_EXP_PATH", "HO_EXP_LN_PATH", "TMP_PATH"],
  LOGGING: ["LOG_LEVEL"],
  RESOURCES: ["GPUS_PER_NODE", "CPUS_PER_NODE", "MAXIMUM_CONCURRENT_JOBS", "HEAP_MEMORY_IN_GB"],
  DATA: ["DATA_DIR"],
  COMPUTE: ["BACKEND"],
  SLURM: [
    "PARTITION",
    "TIME",
    "CPUS_PER_TASK",
    "GPUS_PER_TASK",
    "EXTRA_SBATCH",
    "SHARED_PATH",
    "POLL_SECONDS",
    "RESUBMITS",
  ],
};

/**
 * Check config.ini's text line by line: every section known and given once, every key known in
 * its section and given once (the parser would otherwise merge a duplicate section silently).
 *
 * @example
 * ```ts
 * checkIniText("[PATHS]\nBASE_PATH = results/runs\n", "config.ini"); // passes
 * ```
 */
export function checkIniText(text: string, file: string): void {
  const seenSections = new Set<string>();
  let section: string | undefined;
  let seenKeys = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `${file}, line ${i + 1}`;
    if (line === "" || line.startsWith(";") || line.startsWith("#")) return;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      if (!Object.hasOwn(INI_KEYS, section)) {
        throw new IniError(
          `${where}: unknown section [${section}]; config.ini has ${
            Object.keys(INI_KEYS).map((s) => `[${s}]`).join(", ")
          }`,
        );
      }
      if (seenSections.has(section)) {
        throw new IniError(`${where}: section [${section}] is given twice; merge the two into one`);
      }
      seenSections.add(section);
      seenKeys = new Set();
      return;
    }
    const at = line.indexOf("=");
    if (at < 0) throw new IniError(`${where}: expected KEY = value or [SECTION], got '${line}'`);
    const key = line.slice(0, at).trim();
    if (section === undefined) {
      throw new IniError(`${where}: key ${key} comes before any [SECTION]`);
    }
    if (!INI_KEYS[section].includes(key)) {
      throw new IniError(
        `${where}: unknown key ${key} in [${section}]; its keys are ${
          INI_KEYS[section].join(", ")
        }`,
      );
    }
    if (seenKeys.has(key)) throw new IniError(`${where}: ${key} is given twice in [${section}]`);
    seenKeys.add(key);
  });
}

/**
 * The directories memdil's commands may write results into: `results/` of the repository and
 * every path configured in config.ini ([PATHS], [SLURM] SHARED_PATH). Sweep and search files
 * may only name places under these; the task launcher grants write access to exactly these.
 *
 * @example
 * ```ts
 * resultRoots(readIniConfig()); // ["/repo/results", "/scratch/me/runs", ...]
 * ```
 */
export function resultRoots(config: IniConfig): string[] {
  return [
    ...new Set([
      `${REPO_ROOT}/results`,
      ...Object.values(config.paths),
      ...(config.slurmSharedPath ? [config.slurmSharedPath] : []),
    ]),
  ];
}

/**
 * Whether `path` (absolute) lies under one of `roots`, symlinks resolved as far as the path
 * exists (a symlink inside results/ pointing elsewhere does not count as inside).
 *
 * @example
 * ```ts
 * isUnder("/repo/results/sweeps/a", ["/repo/results"]); // true
 * isUnder("/etc", ["/repo/results"]); // false
 * ```
 */
export function isUnder(path: string, roots: readonly string[]): boolean {
  const target = realPathAhead(path);
  return roots.some((root) => {
    for (const r of new Set([normalizeAbsolute(root), realPathAhead(root)])) {
      if (target === r || target.startsWith(r.endsWith("/") ? r : `${r}/`)) return true;
    }
    return false;
  });
}

/**
 * Where an absolute `path` really is, also before it exists: its longest existing prefix with
 * symlinks resolved, then the rest.
 *
 * @example
 * ```ts
 * realPathAhead("/repo/results/new/dir"); // "/scratch/results/new/dir" when results/ is a symlink
 * ```
 */
export function realPathAhead(path: string): string {
  const parts = normalizeAbsolute(path).split("/");
  for (let n = parts.length; n > 1; n--) {
    try {
      const head = Deno.realPathSync(parts.slice(0, n).join("/"));
      return [head, ...parts.slice(n)].join("/");
    } catch {
      // not there yet: try the parent
    }
  }
  return normalizeAbsolute(path);
}

function normalizeAbsolute(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
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
    throw new IniError(`${file}: missing key ${key} in section [${name}]`);
  }
  return value;
}

function positiveInt(value: string, key: string, file: string, min = 0): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new IniError(`${file}: ${key} must be an integer >= ${min}, got '${value}'`);
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
    throw new IniError(
      `cannot read ${path} (${(error as Error).message}); restore config/config.ini from git ` +
        `or point MEMDIL_CONFIG at a config file`,
    );
  }
  checkIniText(text, path);
  const parsed = ini.parse(text) as Record<string, Record<string, string>>;
  const get = (section: string, key: string) => requireKey(parsed[section], section, key, path);
  const logLevel = get("LOGGING", "LOG_LEVEL");
  if (!["DEBUG", "INFO", "WARNING", "ERROR"].includes(logLevel)) {
    throw new IniError(
      `${path}: LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got '${logLevel}'`,
    );
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
        1,
      ),
      heapMemoryInGb: positiveInt(get("RESOURCES", "HEAP_MEMORY_IN_GB"), "HEAP_MEMORY_IN_GB", path),
    },
    dataDir: resolvePath(dataDir(parsed.DATA?.DATA_DIR, path)),
    backend: iniBackend(parsed.COMPUTE?.BACKEND, path),
    slurmSharedPath: parsed.SLURM?.SHARED_PATH ? resolvePath(parsed.SLURM.SHARED_PATH) : "",
  };
}

function iniBackend(value: string | undefined, file: string): BackendName {
  try {
    return parseBackendName(value ?? "auto");
  } catch (error) {
    throw new IniError(`${file}: [COMPUTE] BACKEND: ${(error as Error).message}`);
  }
}

function dataDir(value: string | undefined, file: string): string {
  if (value === undefined) return "~/data";
  if (value.trim() === "") {
    throw new IniError(
      `${file}: [DATA] DATA_DIR is empty (it would be the repository root); give a directory, ` +
        `e.g. ~/data, or remove the key for that default`,
    );
  }
  return value.trim();
}
