/**
 * Sweep progress: a bar on a terminal, a live-updating table in Jupyter (one display updated in
 * place through its display_id), plain lines otherwise.
 *
 * @module
 */
import cliProgress from "cli-progress";
import { formatDuration } from "../training/duration.ts";

export { formatDuration };

/** Where one run of a sweep stands. */
export interface RunStatus {
  uid: string;
  /** Short description, e.g. "fashionmnist LS noise 0.2 seed 1". */
  label: string;
  state: "queued" | "reused" | "running" | "finished" | "failed";
  /** Epochs done and in total, while training. */
  epoch?: number;
  epochs?: number;
  /** Last reported values (loss, accuracy) while training. */
  values?: Record<string, number | null>;
  /** Worker seconds, once ended. */
  seconds?: number;
  /** Why it failed. */
  error?: string;
  /** The worker's log file. */
  logPath?: string;
}

/**
 * Receives the state of every run whenever something changes.
 *
 * @example
 * ```ts
 * const quiet: SweepProgress = { update() {}, finish() {} };
 * ```
 */
export interface SweepProgress {
  /** Called at the start and on every change (runs in sweep order). */
  update(runs: readonly RunStatus[]): void;
  /** Called once at the end. */
  finish(runs: readonly RunStatus[]): void | Promise<void>;
}

type Jupyter = {
  display(
    bundle: unknown,
    options: { raw?: boolean; display_id?: string; update?: boolean },
  ): Promise<void>;
};

/**
 * The Jupyter API when running in the Deno kernel, else undefined (outside the kernel, touching
 * `Deno.jupyter` throws).
 *
 * @example
 * ```ts
 * if (jupyterApi()) console.log("in a notebook");
 * ```
 */
export function jupyterApi(): Jupyter | undefined {
  try {
    return (Deno as unknown as { jupyter?: Jupyter }).jupyter;
  } catch {
    return undefined;
  }
}

/** Counts of runs per state. */
export function countStates(runs: readonly RunStatus[]): Record<RunStatus["state"], number> {
  const counts = { queued: 0, reused: 0, running: 0, finished: 0, failed: 0 };
  for (const run of runs) counts[run.state]++;
  return counts;
}

function ended(runs: readonly RunStatus[]): number {
  const c = countStates(runs);
  return c.reused + c.finished + c.failed;
}

function epochText(run: RunStatus): string {
  return run.epoch !== undefined && run.epochs ? ` ${run.epoch}/${run.epochs}` : "";
}

/**
 * One line summing up a sweep: ended/total, then the counts.
 *
 * @example
 * ```ts
 * summaryLine([{ uid: "a", label: "a", state: "reused" }]); // "1/1 runs: 1 reused"
 * ```
 */
export function summaryLine(runs: readonly RunStatus[]): string {
  const c = countStates(runs);
  const parts = (["reused", "finished", "failed", "running", "queued"] as const)
    .filter((state) => c[state] > 0).map((state) => `${c[state]} ${state}`);
  return `${ended(runs)}/${runs.length} runs: ${parts.join(", ")}`;
}

/** A run's last reported accuracies in percent, e.g. ` val 81.2% test 80.1%`. */
function accuracyText(run: RunStatus): string {
  const pct = (name: string, key: string) => {
    const value = run.values?.[key];
    return typeof value === "number" ? ` ${name} ${(100 * value).toFixed(1)}%` : "";
  };
  return pct("train", "train_acc") + pct("val", "val_acc") + pct("test", "test_acc");
}

/**
 * The estimated seconds to the end of a sweep: wall time so far per unit of training done, times
 * the training left; a run counts by its epochs done, reused runs cost nothing. Undefined before
 * any epoch ended.
 *
 * @example
 * ```ts
 * sweepEta([{ uid: "a", label: "a", state: "running", epoch: 1, epochs: 4 }], 10); // 30
 * ```
 */
export function sweepEta(runs: readonly RunStatus[], elapsed: number): number | undefined {
  let done = 0;
  let left = 0;
  for (const run of runs) {
    if (run.state === "finished" || run.state === "failed") done += 1;
    else if (run.state === "queued") left += 1;
    else if (run.state === "running") {
      const share = run.epoch !== undefined && run.epochs ? run.epoch / run.epochs : 0;
      done += share;
      left += 1 - share;
    }
  }
  return done > 0 ? (elapsed / done) * left : undefined;
}

/**
 * A cli-progress bar on stderr: runs ended out of all, the estimated time left, and each running
 * run with its epoch and last accuracies.
 *
 * @example
 * ```ts
 * const progress = terminalProgress();
 * ```
 */
export function terminalProgress(
  now: () => number = () => performance.now() / 1000,
): SweepProgress {
  let bar: cliProgress.SingleBar | undefined;
  let start = 0;
  const running = (runs: readonly RunStatus[]) =>
    runs.filter((r) => r.state === "running")
      .map((r) => `${r.label}${epochText(r)}${accuracyText(r)}`).join("; ").slice(0, 110);
  const payload = (runs: readonly RunStatus[]) => {
    const eta = sweepEta(runs, now() - start);
    return {
      failed: countStates(runs).failed,
      eta: eta === undefined ? "?" : formatDuration(eta),
      running: running(runs),
    };
  };
  return {
    update(runs) {
      if (!bar) {
        start = now();
        bar = new cliProgress.SingleBar({
          format: "sweep [{bar}] {value}/{total} runs | {failed} failed | ETA {eta} | {running}",
          hideCursor: true,
        }, cliProgress.Presets.shades_classic);
        bar.start(runs.length, ended(runs), payload(runs));
      }
      bar.update(ended(runs), payload(runs));
    },
    finish(runs) {
      bar?.update(ended(runs), { ...payload(runs), running: "" });
      bar?.stop();
    },
  };
}

/**
 * Plain lines (for logs, CI and headless notebooks): one per run that starts or ends; once a run
 * has been trained, each ending line adds how many runs are left and the estimated time to the
 * end (wall time so far per trained run, times the runs left; reused runs cost nothing).
 * `now` (seconds) is for tests.
 *
 * @example
 * ```ts
 * const progress = lineProgress(console.log);
 * ```
 */
export function lineProgress(
  log: (line: string) => void,
  now: () => number = () => performance.now() / 1000,
): SweepProgress {
  const seen = new Map<string, RunStatus["state"]>();
  let start: number | undefined;
  return {
    update(runs) {
      start ??= now();
      runs.forEach((run, i) => {
        if (seen.get(run.uid) === run.state) return;
        seen.set(run.uid, run.state);
        if (run.state === "queued") return;
        const time = run.seconds !== undefined ? ` in ${run.seconds.toFixed(1)}s` : "";
        const why = run.error ? `: ${run.error}` : "";
        const c = countStates(runs);
        const left = c.queued + c.running;
        const trained = c.finished + c.failed;
        const eta = run.state !== "running" && run.state !== "reused" && trained > 0 && left > 0
          ? ` (${left} left, ETA ${formatDuration(((now() - start!) / trained) * left)})`
          : "";
        log(`[${i + 1}/${runs.length}] ${run.state}${time}: ${run.label}${why}${eta}`);
      });
    },
    finish(runs) {
      log(`sweep: ${summaryLine(runs)}`);
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const STATE_COLORS: Record<RunStatus["state"], string> = {
  queued: "#888888",
  reused: "#1f77b4",
  running: "#ff7f0e",
  finished: "#2ca02c",
  failed: "#d62728",
};

/**
 * A small inline SVG line of a run's training loss per epoch (empty with fewer than 2 epochs).
 *
 * @example
 * ```ts
 * sparkline([0.7, 0.5, 0.4]); // <svg ...><polyline points="..."/></svg>
 * ```
 */
export function sparkline(values: readonly number[], width = 120, height = 24): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return "";
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const points = values.map((v, i) => {
    const x = (i / (values.length - 1)) * (width - 2) + 1;
    const y = hi === lo ? height / 2 : 1 + ((hi - v) / (hi - lo)) * (height - 2);
    return Number.isFinite(v) ? `${x.toFixed(1)},${y.toFixed(1)}` : "";
  }).filter(Boolean).join(" ");
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<title>${finite[0].toFixed(3)} to ${finite.at(-1)!.toFixed(3)}</title>` +
    `<polyline points="${points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/></svg>`;
}

/**
 * The sweep as HTML: a progress bar and one table row per run (state, epoch, time, the
 * training-loss curve so far from `curves` by uid, values).
 *
 * @example
 * ```ts
 * const html = progressHtml([{ uid: "a", label: "CE noise 0.2", state: "running", epoch: 3, epochs: 12 }]);
 * ```
 */
export function progressHtml(
  runs: readonly RunStatus[],
  curves: ReadonlyMap<string, readonly number[]> = new Map(),
): string {
  const rows = runs.map((run) => {
    const values = Object.entries(run.values ?? {})
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${(v as number).toFixed(3)}`).join(", ");
    const detail = run.state === "failed"
      ? `${escapeHtml(run.error ?? "")}${run.logPath ? ` (log: ${escapeHtml(run.logPath)})` : ""}`
      : escapeHtml(values);
    return `<tr><td>${escapeHtml(run.label)}</td>` +
      `<td style="color:${STATE_COLORS[run.state]};font-weight:bold">${run.state}</td>` +
      `<td>${epochText(run).trim()}</td>` +
      `<td>${run.seconds !== undefined ? run.seconds.toFixed(1) + " s" : ""}</td>` +
      `<td>${sparkline(curves.get(run.uid) ?? [])}</td>` +
      `<td style="text-align:left">${detail}</td></tr>`;
  }).join("");
  return `<div class="memdil-sweep"><div><progress max="${runs.length}" value="${
    ended(runs)
  }" style="width:320px"></progress> ${escapeHtml(summaryLine(runs))}</div>` +
    `<table><thead><tr><th>run</th><th>state</th><th>epoch</th><th>time</th>` +
    `<th>training loss</th><th>details</th>` +
    `</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * A live display in the Deno Jupyter kernel: shown once, then updated in place (at most every
 * `intervalMs`, and always at the end); `lines`, when given, also receives every update (the
 * per-run lines that a headless run relays).
 *
 * @example
 * ```ts
 * const progress = jupyterProgress(jupyterApi()!);
 * ```
 */
export function jupyterProgress(
  jupyter: Jupyter,
  intervalMs = 500,
  lines?: SweepProgress,
): SweepProgress {
  const displayId = `memdil-sweep-${crypto.randomUUID()}`;
  let shown: Promise<void> | undefined;
  let last = 0;
  let pending: Promise<void> = Promise.resolve();
  // The live training curves: each run's train_loss per epoch, as reported.
  const curves = new Map<string, number[]>();
  const record = (runs: readonly RunStatus[]) => {
    for (const run of runs) {
      const loss = run.values?.train_loss;
      if (run.epoch === undefined || typeof loss !== "number") continue;
      const curve = curves.get(run.uid) ?? [];
      curve[run.epoch - 1] = loss;
      curves.set(run.uid, curve);
    }
  };
  const bundle = (runs: readonly RunStatus[]) => ({
    "text/html": progressHtml(runs, curves),
    "text/plain": `sweep: ${summaryLine(runs)}`,
  });
  const render = (runs: readonly RunStatus[], force: boolean) => {
    const now = performance.now();
    if (!force && shown && now - last < intervalMs) return;
    last = now;
    const data = bundle(runs);
    if (!shown) {
      shown = jupyter.display(data, { raw: true, display_id: displayId });
      pending = shown;
    } else {
      pending = pending.then(() =>
        jupyter.display(data, { raw: true, display_id: displayId, update: true })
      );
    }
  };
  return {
    update(runs) {
      lines?.update(runs);
      record(runs);
      render(runs, false);
    },
    async finish(runs) {
      await lines?.finish(runs);
      render(runs, true);
      await pending;
    },
  };
}

/**
 * The display that fits where the code runs: Jupyter (the live table, and the per-run lines
 * prefixed `sweep `), a terminal, or plain lines.
 *
 * @example
 * ```ts
 * const progress = autoProgress(console.log);
 * ```
 */
export function autoProgress(log: (line: string) => void = console.log): SweepProgress {
  const jupyter = jupyterApi();
  // In Jupyter, per-run lines as well: the headless runner relays them (`sweep [` prefix).
  if (jupyter) return jupyterProgress(jupyter, 500, lineProgress((line) => log(`sweep ${line}`)));
  if (Deno.stderr.isTerminal()) return terminalProgress();
  return lineProgress(log);
}
