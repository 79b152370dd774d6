// scripts/setup.sh is idempotent: run twice on a fresh home directory it succeeds both times,
// the Deno Jupyter kernel it installs is the running deno, and a kernel pointing at another
// executable is replaced.
import assert from "node:assert/strict";
import { join } from "node:path";

const REPO = new URL("../", import.meta.url).pathname;

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

async function setup(home: string, dir: string): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command("bash", {
    args: [join(REPO, "scripts/setup.sh")],
    // A fresh home: no Jupyter kernel yet. The npm cache stays where it is (no network).
    env: { HOME: home, DENO_DIR: dir, XDG_DATA_HOME: join(home, ".local/share") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("setup.sh twice on a fresh home: both succeed, the kernel is installed once", async () => {
  const home = await Deno.makeTempDir({ prefix: "memdil-setup-home-" });
  try {
    const dir = await denoDir();
    const first = await setup(home, dir);
    assert.equal(first.code, 0, first.text);
    assert.match(first.text, /installing the Deno Jupyter kernel/);
    const kernelJson = join(home, ".local/share/jupyter/kernels/deno/kernel.json");
    const spec = JSON.parse(await Deno.readTextFile(kernelJson));
    assert.equal(await Deno.realPath(spec.argv[0]), await Deno.realPath(Deno.execPath()));
    // memdil's sandboxed kernel, the one the notebooks name, starts this checkout's launcher.
    assert.match(first.text, /installed Jupyter kernelspec "memdil"/);
    const memdil = JSON.parse(
      await Deno.readTextFile(join(home, ".local/share/jupyter/kernels/memdil/kernel.json")),
    );
    assert.deepEqual(memdil.argv.slice(-3), [
      join(REPO, "cli/launch.ts"),
      "kernel",
      "{connection_file}",
    ]);
    assert.equal(memdil.interrupt_mode, "message");

    const second = await setup(home, dir);
    assert.equal(second.code, 0, second.text);
    assert.doesNotMatch(second.text, /installing the Deno Jupyter kernel/);
    assert.doesNotMatch(second.text, /kernelspec "memdil"/);

    // A kernel left by another deno (e.g. a removed install) is replaced, not kept.
    spec.argv[0] = "/nonexistent/deno";
    await Deno.writeTextFile(kernelJson, JSON.stringify(spec));
    const third = await setup(home, dir);
    assert.equal(third.code, 0, third.text);
    assert.match(third.text, /was: \/nonexistent\/deno/);
    const fixed = JSON.parse(await Deno.readTextFile(kernelJson));
    assert.equal(await Deno.realPath(fixed.argv[0]), await Deno.realPath(Deno.execPath()));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
