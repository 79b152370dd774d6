/**
 * The permissions each `deno task` runs with, derived from config.ini and the command's own
 * flags: a task may write exactly memdil's result roots (results/ and every place config.ini
 * names, so a cluster's scratch directory works without editing deno.json), the dataset
 * directories (config.ini DATA_DIR, `--data_dir`), and what its flags name as an output; it
 * reaches only the dataset mirrors, loads native code only from the npm cache and OpenBLAS, and
 * starts only the programs it needs. `cli/launch.ts` resolves them and starts the command.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  defaultIniPath,
  type IniConfig,
  readIniConfig,
  REPO_ROOT,
  resolvePath,
  resultRoots,
} from "./ini.ts";

/** Hosts a run may download a missing dataset from (those of `deno task data`). */
export const DATA_HOSTS: readonly string[] = [
  "ossci-datasets.s3.amazonaws.com",
  "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
  "www.cs.toronto.edu",
  "ufldl.stanford.edu",
];

/** Where OpenBLAS lives on Debian (x86-64, arm64), as the native backend looks for it. */
const OPENBLAS = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
];

/** The commands the launcher starts, with their scripts. */
export const TASK_SCRIPTS = {
  train: "cli/train.ts",
  "train-large": "cli/train_large.ts",
  evaluate: "cli/evaluate.ts",
  "evaluate-large": "cli/evaluate_large.ts",
  summarize: "cli/summarize.ts",
  reproduce: "cli/reproduce.ts",
  sweep: "cli/sweep.ts",
  search: "cli/search.ts",
  gallery: "cli/gallery.ts",
  data: "cli/data.ts",
  notebooks: "cli/notebooks.ts",
} as const;

/** A task the launcher knows. */
export type TaskName = keyof typeof TASK_SCRIPTS;

/** What a task runs: its script (absolute) and its permission flags. */
export interface TaskPermissions {
  script: string;
  flags: string[];
}

/** Options of {@link taskPermissions}. */
export interface TaskPermissionOptions {
  /** config.ini (default: the one memdil reads, `MEMDIL_CONFIG` or config/config.ini). */
  ini?: IniConfig;
  /** Where config.ini is, when not memdil's default (read from there, and made readable). */
  iniPath?: string;
  /** Further writable places (the tests' temporary directories). */
  extraWrite?: string[];
}

/** The value of `--name value` or `--name=value` in `args` (the last one), if any. */
function flagValue(args: string[], name: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === name && i + 1 < args.length) value = args[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

function absolute(path: string): string {
  return resolve(isAbsolute(path) || path.startsWith("~") ? resolvePath(path) : path);
}

function list(flag: string, values: string[]): string {
  return `${flag}=${[...new Set(values.filter((v) => v !== ""))].join(",")}`;
}

/**
 * The permission flags of `task` run with `args` (the command's own arguments).
 *
 * @example
 * ```ts
 * const { script, flags } = taskPermissions("train", ["--epochs", "2"]);
 * // flags: ["--allow-read", "--allow-write=/repo/results,...", "--allow-env", ...]
 * ```
 */
export function taskPermissions(
  task: TaskName,
  args: string[],
  options: TaskPermissionOptions = {},
): TaskPermissions {
  const iniPath = options.iniPath ?? defaultIniPath();
  const ini = options.ini ?? readIniConfig(iniPath);
  const home = Deno.env.get("HOME") ?? "/root";
  const denoDir = Deno.env.get("DENO_DIR");
  const npm = [join(home, ".cache", "deno", "npm"), ...(denoDir ? [join(denoDir, "npm")] : [])];
  const openblas = Deno.env.get("MEMDIL_OPENBLAS_LIB");
  const ffi = [...npm, join(REPO_ROOT, "vendor"), ...OPENBLAS, ...(openblas ? [openblas] : [])];
  const roots = [...resultRoots(ini), ...(options.extraWrite ?? [])];
  const dataDir = flagValue(args, "--data_dir");
  const data = [
    join(REPO_ROOT, "data"),
    join(home, "data"),
    ini.dataDir,
    ...(dataDir ? [absolute(dataDir)] : []),
  ];
  const net = list("--allow-net", [...DATA_HOSTS]);
  const training = [
    "--allow-read",
    list("--allow-write", [...roots, ...data]),
    "--allow-env",
    "--allow-sys",
    list("--allow-ffi", ffi),
    net,
  ];
  const drivers = [
    "--allow-read",
    list("--allow-write", [
      ...roots,
      ...data,
      ...(task === "search" && flagValue(args, "--results_dir")
        ? [absolute(flagValue(args, "--results_dir")!)]
        : []),
    ]),
    "--allow-env",
    "--allow-sys",
    list("--allow-ffi", npm),
    list("--allow-run", ["deno", "sbatch", "squeue", "scancel"]),
  ];
  const out = flagValue(args, "--out");
  const flags: Record<TaskName, string[]> = {
    train: training,
    "train-large": training,
    evaluate: training,
    "evaluate-large": training,
    reproduce: [...training, list("--allow-run", ["deno"])],
    sweep: drivers,
    search: drivers,
    summarize: [
      "--allow-read",
      list("--allow-write", [...roots, ...(out ? [dirname(absolute(out))] : [])]),
      "--allow-env",
      "--allow-sys",
      list("--allow-ffi", npm),
    ],
    gallery: [
      "--allow-read",
      list("--allow-write", roots),
      "--allow-env",
      "--allow-sys",
      list("--allow-ffi", npm),
      "--allow-net=127.0.0.1",
    ],
    data: ["--allow-read", list("--allow-write", [...roots, ...data]), "--allow-env", net],
    notebooks: [
      list("--allow-read", [
        REPO_ROOT,
        iniPath,
        ...roots,
        ...["--notebooks-dir", "--out-dir"].flatMap((f) => {
          const v = flagValue(args, f);
          return v ? [absolute(v)] : [];
        }),
      ]),
      list("--allow-run", ["/usr/bin/python3", "python3", "python", "deno"]),
      list("--allow-env", ["MEMDIL_PYTHON", "MEMDIL_CONFIG", "HOME"]),
    ],
  };
  return { script: join(REPO_ROOT, TASK_SCRIPTS[task]), flags: flags[task] };
}
