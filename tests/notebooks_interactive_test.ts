/**
 * The README's way to open the notebooks interactively: Debian's `jupyter notebook` (installed by
 * scripts/setup.sh) serves notebooks/ and starts the Deno kernel.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
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

Deno.test("jupyter notebook serves notebooks/ and starts the Deno kernel", async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const token = crypto.randomUUID();
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
    stdout: "null",
    stderr: "null",
  }).spawn();
  const api = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${port}/api/${path}?token=${token}`, init);
  try {
    const specs = await waitFor(async () => (await api("kernelspecs")).json(), 60);
    assert.ok("deno" in specs.kernelspecs, "the Deno kernel is installed");
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
        kernel: { name: "deno" },
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
            code: "Deno.cwd().split('/').at(-1) + ':' + (6 * 7)",
            silent: false,
            store_history: false,
            user_expressions: {},
            allow_stdin: false,
          },
        }));
    });
    socket.close();
    // The kernel runs in notebooks/, where the notebooks' relative imports resolve.
    assert.match(result, /notebooks:42/);
    await (await api(`sessions/${session.id}`, { method: "DELETE" })).body?.cancel();
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
});
