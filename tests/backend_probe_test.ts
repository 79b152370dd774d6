/**
 * The backend probes (WebGPU adapter, OpenBLAS description) use only what their process was
 * granted: run on a terminal with `deno task train`'s permissions (FFI for the library paths
 * only, writes to results/ only) and XDG_RUNTIME_DIR unset, they neither prompt nor make
 * Vulkan's loader complain about XDG_RUNTIME_DIR.
 */
import { equal, ok } from "node:assert/strict";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { openBlasPath } from "../lib/backend/blas/openblas.ts";

/** Runs the probe fixture on a pseudo-terminal (`script`), stdin closed; returns its output. */
async function probeOnTerminal(backend: string): Promise<{ code: number; output: string }> {
  const home = Deno.env.get("HOME") ?? "";
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-read",
    "--allow-write=results",
    "--allow-env",
    "--allow-sys",
    `--allow-ffi=${home}/.cache/deno/npm,${openBlasPath()}`,
    "tests/fixtures/backend_probe.ts",
    backend,
  ].join(" ");
  const env = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete (env as Record<string, string>).XDG_RUNTIME_DIR;
  const child = new Deno.Command("script", {
    args: ["-qec", deno, "/dev/null"],
    cwd: REPO_ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A prompt would wait for an answer: give up after a minute.
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return { code, output };
}

for (const backend of ["auto", "openblas"]) {
  Deno.test(`backend ${backend} starts on a terminal without a prompt or an XDG error`, async () => {
    const { code, output } = await probeOnTerminal(backend);
    ok(!/Deno requests|Granted|Denied/.test(output), `a permission prompt appeared:\n${output}`);
    ok(!output.includes("XDG_RUNTIME_DIR"), `the XDG_RUNTIME_DIR complaint appeared:\n${output}`);
    equal(code, 0, output);
    const line = output.split(/\r?\n/).findLast((l) => l.startsWith("{"));
    ok(line, `no JSON line in\n${output}`);
    const choice = JSON.parse(line) as { name: string; report: string[] };
    if (backend === "openblas") equal(choice.name, "openblas");
    ok(choice.report.some((l) => l.includes("openblas")), choice.report.join("\n"));
  });
}
