/**
 * WebGPU against WASM: the same model (weights drawn on the host from the seed), the same batch
 * and the same SGD steps must give the same losses on both backends, up to float32 rounding.
 * One process holds one backend, so each backend runs tests/fixtures/train_steps.ts in its own
 * subprocess. WebGPU runs on whatever adapter Deno finds (Mesa's software Vulkan driver here);
 * it needs XDG_RUNTIME_DIR to name an existing directory.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { REPO_ROOT } from "../lib/config/ini.ts";

interface StepsOutput {
  backend: string;
  losses: number[];
  logits: number[];
}

async function trainSteps(backend: string, runtimeDir: string): Promise<StepsOutput> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "tests/fixtures/train_steps.ts", backend, "5"],
    cwd: REPO_ROOT,
    env: { XDG_RUNTIME_DIR: runtimeDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  equal(code, 0, `${backend} run failed:\n${out}\n${err}`);
  const line = out.trim().split("\n").findLast((l) => l.startsWith("{"));
  ok(line, `${backend}: no JSON line in\n${out}\n${err}`);
  return JSON.parse(line) as StepsOutput;
}

function relativeClose(a: number, b: number, rel: number, abs: number, what: string): void {
  ok(
    Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b)),
    `${what}: ${a} vs ${b}`,
  );
}

Deno.test("webgpu and wasm agree on five SGD steps from the same initial weights", async () => {
  const runtimeDir = await Deno.makeTempDir({ prefix: "memdil_core_webgpu_xdg_" });
  try {
    const wasm = await trainSteps("wasm", runtimeDir);
    const webgpu = await trainSteps("webgpu", runtimeDir);
    equal(wasm.backend, "wasm");
    equal(webgpu.backend, "webgpu");
    equal(wasm.losses.length, 5);
    equal(webgpu.losses.length, 5);
    // Sanity: a 3-class problem starts near log 3 = 1.0986 and the steps lower the loss.
    ok(wasm.losses.every(Number.isFinite));
    ok(Math.abs(wasm.losses[0] - Math.log(3)) < 0.2, `first loss ${wasm.losses[0]}`);
    ok(wasm.losses[4] < wasm.losses[0], `losses ${wasm.losses}`);
    wasm.losses.forEach((loss, i) =>
      relativeClose(webgpu.losses[i], loss, 1e-3, 0, `loss after step ${i}`)
    );
    equal(webgpu.logits.length, wasm.logits.length);
    wasm.logits.forEach((z, i) => relativeClose(webgpu.logits[i], z, 1e-3, 1e-4, `logit ${i}`));

    // WASM is deterministic across processes: a second run is bit-identical.
    deepEqual(await trainSteps("wasm", runtimeDir), wasm);
  } finally {
    await Deno.remove(runtimeDir, { recursive: true });
  }
});
