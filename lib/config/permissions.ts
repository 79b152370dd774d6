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
import { KERNEL_CHANNELS, KERNEL_NAME } from "./kernel.ts";

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
  kernel: "cli/kernel.ts",
} as const;

/** A task the launcher knows. */
export type TaskName = keyof typeof TASK_SCRIPTS;

/**
 * The `deno` arguments that start `task` through the launcher, as deno.json's task lines do (the
 * launcher's own permissions: it reads config.ini and starts the task with the task's).
 *
 * @example
 * ```ts
 * new Deno.Command(Deno.execPath(), { args: launcherArgs("notebooks", ["--profile", "quick"]) });
 * ```
 */
export function launcherArgs(task: TaskName, args: string[] = []): string[] {
  return [
    "run",
    "--no-prompt",
    "--allow-read",
    "--allow-env",
    "--allow-run=deno",
    join(REPO_ROOT, "cli", "launch.ts"),
    task,
    ...args,
  ];
}

/** What a task runs: its script (absolute), its permission flags and its arguments. */
export interface TaskPermissions {
  script: string;
  flags: string[];
  /** The command's arguments: those given, and what the launcher chose for it (`--relay-dir`). */
  args: string[];
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

/**
 * The directory of memdil's Jupyter kernelspec: `<jupyterPath>/kernels/memdil` when given (a
 * `JUPYTER_PATH` entry), else in the user's Jupyter data directory (`JUPYTER_DATA_DIR`,
 * `XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`), where Jupyter looks for it.
 *
 * @example
 * ```ts
 * kernelSpecDir(); // "/home/me/.local/share/jupyter/kernels/memdil"
 * ```
 */
export function kernelSpecDir(jupyterPath?: string): string {
  const home = Deno.env.get("HOME") ?? "/root";
  const data = jupyterPath ?? Deno.env.get("JUPYTER_DATA_DIR") ??
    join(Deno.env.get("XDG_DATA_HOME") || join(home, ".local", "share"), "jupyter");
  return join(absolute(data), "kernels", KERNEL_NAME);
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

/** Where a task may write: memdil's result roots, and the dataset places (data/, ~/data, DATA_DIR, `--data_dir`). */
interface Places {
  roots: string[];
  data: string[];
}

function places(args: string[], ini: IniConfig, options: TaskPermissionOptions): Places {
  const home = Deno.env.get("HOME") ?? "/root";
  const dataDir = flagValue(args, "--data_dir");
  return {
    roots: [...resultRoots(ini), ...(options.extraWrite ?? [])],
    data: [
      join(REPO_ROOT, "data"),
      join(home, "data"),
      ini.dataDir,
      ...(dataDir ? [absolute(dataDir)] : []),
    ],
  };
}

/**
 * The places the notebook kernel may write, which its sandbox (`cli/kernel.ts`) binds writable:
 * those of a training task, the result roots first (a notebook trains, sweeps and searches as the
 * tasks do).
 *
 * @example
 * ```ts
 * const { roots, data } = kernelWritablePlaces();
 * // roots: ["/repo/results", ...config.ini [PATHS]]; data: ["/repo/data", "~/data", DATA_DIR]
 * ```
 */
export function kernelWritablePlaces(options: TaskPermissionOptions = {}): Places {
  return places([], options.ini ?? readIniConfig(options.iniPath ?? defaultIniPath()), options);
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
  const { roots, data } = places(args, ini, options);
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
  // The kernel's relay directory: chosen here, so that its sockets are all the launcher may reach
  // besides the loopback (Deno grants unix sockets by exact path); unguessable, in TMPDIR.
  const relayDir = flagValue(args, "--relay-dir") ??
    join(Deno.env.get("TMPDIR") || "/tmp", `memdil-kernel-${crypto.randomUUID()}`);
  const taskArgs = task === "kernel" && !args.includes("--install") &&
      flagValue(args, "--relay-dir") === undefined
    ? [...args, "--relay-dir", relayDir]
    : args;
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
      // bwrap: the check that the kernel's sandbox can be made, before any notebook runs.
      list("--allow-run", ["/usr/bin/python3", "python3", "python", "deno", "bwrap"]),
      list("--allow-env", ["MEMDIL_PYTHON", "MEMDIL_CONFIG", "HOME"]),
    ],
    // The notebook kernel's launcher: it writes only the result roots it creates, its relay's
    // directory (in the temporary directory) and, with --install, memdil's kernelspec; it listens
    // on the host's loopback for Jupyter and starts bwrap, which confines the kernel itself.
    kernel: args.includes("--install")
      ? [
        "--allow-read",
        list("--allow-write", [kernelSpecDir(flagValue(args, "--jupyter-path"))]),
        "--allow-env",
      ]
      : [
        "--allow-read",
        list("--allow-write", [...roots, relayDir]),
        "--allow-env",
        list("--allow-net", [
          "127.0.0.1",
          ...KERNEL_CHANNELS.map((channel) => `unix:${join(relayDir, channel)}`),
        ]),
        list("--allow-run", ["bwrap"]),
      ],
  };
  return { script: join(REPO_ROOT, TASK_SCRIPTS[task]), flags: flags[task], args: taskArgs };
}
