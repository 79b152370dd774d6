/**
 * The README's way to open the notebooks interactively: Debian's `jupyter notebook` (installed by
 * scripts/setup.sh) serves notebooks/ and starts memdil's sandboxed Deno kernel, the kernel the
 * notebooks name (its kernelspec installed as setup installs it, here on a private JUPYTER_PATH
 * so that the test does not depend on, or change, the user's).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launcherArgs } from "../lib/config/permissions.ts";
import { REPO_ROOT } from "../lib/notebooks/mod.ts";

async function waitFor<T>(probe: () => Promise<T | undefined>, seconds: number): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`gave up after ${seconds} s`);
}

Deno.test("jupyter notebook serves notebooks/ and starts memdil's sandboxed kernel", async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const token = crypto.randomUUID();
  const jupyterPath = await Deno.makeTempDir({ prefix: "memdil-jupyter-path-" });
  const install = await new Deno.Command(Deno.execPath(), {
    args: launcherArgs("kernel", ["--install", "--jupyter-path", jupyterPath]),
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const server = new Deno.Command("/usr/bin/python3", {
    args: [
      "-m",
      "notebook",
      "--no-browser",
      "--allow-root",
      "--ip=127.0.0.1",
      `--port=${port}`,
      `--NotebookApp.token=${token}`,
      join(REPO_ROOT, "notebooks"),
    ],
    env: { JUPYTER_PATH: jupyterPath },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const api = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${port}/api/${path}?token=${token}`, init);
  try {
    const specs = await waitFor(async () => (await api("kernelspecs")).json(), 60);
    assert.ok("memdil" in specs.kernelspecs, "memdil's kernel is installed");
    const notebook = JSON.parse(
      await Deno.readTextFile(join(REPO_ROOT, "notebooks", "memorization_dilation.ipynb")),
    );
    assert.equal(notebook.metadata.kernelspec.name, "memdil", "the notebooks name memdil's kernel");
    const contents = await (await api("contents")).json();
    const names = contents.content.map((entry: { name: string }) => entry.name);
    assert.ok(names.includes("memorization_dilation.ipynb"), names.join(", "));
    // Opening a notebook makes a session: its kernel starts in the notebook's directory.
    const session = await (await api("sessions", {
      method: "POST",
      body: JSON.stringify({
        path: "memorization_dilation.ipynb",
        type: "notebook",
        name: "",
        kernel: { name: "memdil" },
      }),
    })).json();
    const kernel = session.kernel;
    // Run a cell through the server's websocket, as the browser does.
    const socket = new WebSocket(
      `ws://127.0.0.1:${port}/api/kernels/${kernel.id}/channels?token=${token}`,
    );
    const result = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no execute_result in 60 s")), 60_000);
      socket.onerror = () => reject(new Error("websocket error"));
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.msg_type === "execute_result") {
          clearTimeout(timer);
          resolve(message.content.data["text/plain"]);
        }
      };
      socket.onopen = () =>
        socket.send(JSON.stringify({
          header: {
            msg_id: crypto.randomUUID(),
            msg_type: "execute_request",
            username: "test",
            session: crypto.randomUUID(),
            version: "5.3",
            date: new Date().toISOString(),
          },
          parent_header: {},
          metadata: {},
          channel: "shell",
          content: {
            code: "Deno.cwd().split('/').at(-1) + ':' + (6 * 7) + ':' + " +
              "Deno.env.get('MEMDIL_SANDBOX') + ':' + " +
              "(() => { try { Deno.writeTextFileSync('../.sandbox-probe', ''); return 'wrote' } " +
              "catch (e) { return e.name } })()",
            silent: false,
            store_history: false,
            user_expressions: {},
            allow_stdin: false,
          },
        }));
    });
    socket.close();
    // The kernel runs in notebooks/, where the notebooks' relative imports resolve, in the
    // sandbox: the repository is read-only there.
    assert.match(result, /notebooks:42:1:(PermissionDenied|Error|NotCapable)/);
    assert.doesNotMatch(result, /wrote/);
    await (await api(`sessions/${session.id}`, { method: "DELETE" })).body?.cancel();
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await Deno.remove(jupyterPath, { recursive: true });
  }
});
