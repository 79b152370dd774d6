/**
 * The notebook kernel's sandbox (issue 19 #5: a notebook ran `id`, wrote outside results/ and had
 * network access). A fixture notebook tries what a cell may and may not do, run the way users run
 * it: `deno task notebooks` (cli/launch.ts), on memdil's kernel, with a config.ini of the test.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launcherArgs, taskPermissions } from "../lib/config/permissions.ts";
import {
  type Notebook,
  REPO_ROOT,
  sandboxArgs,
  SandboxError,
  sandboxFailure,
} from "../lib/notebooks/mod.ts";
import { writeTestConfig } from "./fixtures/config_ini.ts";
import { downloadFile } from "../lib/data/download.ts";

const FIXTURES = join(REPO_ROOT, "tests", "fixtures", "notebooks", "sandbox");
const decoder = new TextDecoder();

/** `deno task notebooks ARGS`, as deno.json's task line starts it. */
async function notebooksTask(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: launcherArgs("notebooks", args),
    env,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("deno task notebooks: the kernel writes only the result roots, reaches no network", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-sandbox-" });
  // Outside every place the kernel may write, and visible in the sandbox (unlike the host's /tmp,
  // which the sandbox replaces by its own).
  const home = Deno.env.get("HOME") ?? "/root";
  const outside = await Deno.makeTempDir({ dir: home, prefix: ".memdil-sandbox-outside-" });
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response("reached");
  });
  const tmpName = `memdil-sandbox-probe-${crypto.randomUUID()}`;
  try {
    const env = { MEMDIL_CONFIG: writeTestConfig(root) };
    const allowed = join(root, "allowed");
    await Deno.mkdir(allowed);
    const result = await notebooksTask([
      "--notebooks-dir",
      FIXTURES,
      "--out-dir",
      join(root, "notebooks"),
      "--quiet",
      "confinement",
      "--param",
      `allowed=${allowed}`,
      "--param",
      `outside=${outside}`,
      "--param",
      `hostPort=${server.addr.port}`,
      "--param",
      `tmpName=${tmpName}`,
    ], env);
    assert.equal(result.code, 0, result.stderr);
    const [copy] = [...Deno.readDirSync(join(root, "notebooks"))].map((e) => e.name);
    const executed = JSON.parse(
      await Deno.readTextFile(join(root, "notebooks", copy)),
    ) as Notebook;
    const text = executed.cells.flatMap((c) => (c.outputs ?? []) as { text?: string[] }[])
      .map((o) => (o.text ?? []).join("")).join("");
    const line = text.split("\n").find((l) => l.startsWith("PROBE "));
    assert.ok(line, text);
    const probe = JSON.parse(line.slice(6)) as Record<string, string>;

    // Allowed: the result roots, reading, programs, the kernel's own /tmp.
    assert.equal(probe["write allowed"], "ok");
    assert.equal(probe["worker write allowed"], "ok");
    assert.equal(await Deno.readTextFile(join(allowed, "kernel.txt")), "kernel");
    assert.equal(await Deno.readTextFile(join(allowed, "worker.txt")), "worker");
    assert.equal(probe["read repository"], "ok");
    assert.equal(probe["program"], "ok");
    assert.equal(probe["write tmp"], "ok");
    assert.equal(await exists(join("/tmp", tmpName)), false, "the kernel's /tmp is its own");
    // Forbidden: writing anywhere else, by the kernel or by the processes it starts.
    assert.match(probe["write outside"], /Read-only file system/);
    assert.match(probe["worker write outside"], /Read-only file system/);
    assert.match(probe["write repository"], /Read-only file system/);
    assert.equal(await exists(join(outside, "kernel.txt")), false);
    assert.equal(await exists(join(outside, "worker.txt")), false);
    assert.equal(await exists(join(REPO_ROOT, ".sandbox-probe")), false);
    // No network: neither the host's loopback nor the outside world.
    assert.notEqual(probe["host loopback"], "ok");
    assert.equal(requests, 0, "the host's server was not reached");
    assert.match(probe["internet"], /unreachable/i);
    // Its own process namespace: the relay, the kernel and the probe's children only.
    assert.equal(probe.sandbox, "1");
    assert.ok(Number(probe.processes) < 10, `${probe.processes} processes visible`);
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("deno task notebooks without bwrap fails naming the fix; never unconfined unasked", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-sandbox-" });
  try {
    const config = writeTestConfig(root);
    const args = [
      "--notebooks-dir",
      FIXTURES,
      "--out-dir",
      join(root, "notebooks"),
      "--quiet",
      "confinement",
    ];
    // The notebooks command itself, with a PATH where bwrap is not to be found.
    const { flags } = taskPermissions("notebooks", args, { iniPath: config });
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, join(REPO_ROOT, "cli", "notebooks.ts"), ...args],
      env: { MEMDIL_CONFIG: config, PATH: "/nonexistent" },
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = decoder.decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr,
      /the notebook kernel cannot be confined: bwrap \(bubblewrap\) is not installed/,
    );
    assert.match(stderr, /apt-get install bubblewrap/);
    assert.match(stderr, /--unconfined/);
    assert.equal(await exists(join(root, "notebooks")), false, "nothing ran");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("deno task notebooks where user namespaces are forbidden fails naming the sysctl", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-sandbox-" });
  try {
    const config = writeTestConfig(root);
    const args = ["--notebooks-dir", FIXTURES, "--out-dir", join(root, "notebooks"), "confinement"];
    const { flags } = taskPermissions("notebooks", args, { iniPath: config });
    // The command in a namespace that may create no further user namespace (bwrap's
    // --disable-userns), as on a system that forbids them.
    const out = await new Deno.Command("bwrap", {
      args: [
        "--unshare-user",
        "--disable-userns",
        "--dev-bind",
        "/",
        "/",
        "--",
        Deno.execPath(),
        "run",
        "--no-prompt",
        ...flags,
        join(REPO_ROOT, "cli", "notebooks.ts"),
        ...args,
      ],
      env: { MEMDIL_CONFIG: config },
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = decoder.decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr,
      /the notebook kernel cannot be confined: bwrap cannot create its namespaces/,
    );
    assert.match(stderr, /user\.max_user_namespaces/);
    assert.match(stderr, /--unconfined/);
    assert.equal(await exists(join(root, "notebooks")), false, "nothing ran");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("sandbox: namespaces forbidden name the sysctl; the arguments confine as documented", () => {
  const error = sandboxFailure(
    "bwrap: No permissions to creating new namespace, likely because the kernel does not allow " +
      "non-privileged user namespaces.",
  );
  assert.ok(error instanceof SandboxError);
  assert.match(error.message, /unprivileged user namespaces/);
  assert.match(error.message, /kernel\.unprivileged_userns_clone=1/);
  assert.match(error.message, /--unconfined/);
  const args = sandboxArgs({ writable: ["/r/results/a", "/r/results"], relayDir: "/tmp/k" });
  const joined = args.join(" ");
  for (
    const part of [
      "--unshare-all --unshare-user --disable-userns --cap-drop ALL",
      "--ro-bind / /",
      "--tmpfs /tmp --tmpfs /run",
      "--bind /r/results /r/results --bind /r/results/a /r/results/a --bind /tmp/k /tmp/k",
    ]
  ) {
    assert.ok(joined.includes(part), `${part} in ${joined}`);
  }
  assert.ok(!args.includes("--share-net"));
  // A notebook in the host's /tmp: its directory is shown, read-only, in the private /tmp.
  const inTmp = sandboxArgs({ writable: [], cwd: "/tmp/nb" }).join(" ");
  assert.ok(
    inTmp.includes("--tmpfs /tmp") && inTmp.endsWith("--ro-bind /tmp/nb /tmp/nb --chdir /tmp/nb"),
  );
  assert.ok(!sandboxArgs({ writable: ["/tmp"], cwd: "/tmp/nb" }).includes("--ro-bind /tmp/nb"));
  // A checkout in /tmp (as CI makes): the repository stays visible, read-only, and its result root
  // writable inside it; what the private /tmp does not hide is not bound again.
  const checkout = sandboxArgs({
    writable: ["/tmp/co/results"],
    readable: ["/tmp/co", "/usr/lib/deno"],
    cwd: "/tmp/co/notebooks",
  }).join(" ");
  assert.ok(
    checkout.includes(
      "--ro-bind /tmp/co /tmp/co --ro-bind /tmp/co/notebooks /tmp/co/notebooks " +
        "--bind /tmp/co/results /tmp/co/results --chdir /tmp/co/notebooks",
    ),
    checkout,
  );
  assert.ok(!checkout.includes("/usr/lib/deno"));
});

Deno.test("deno task kernel: a connection file it cannot relay is named; usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-kernel-conn-" });
  const kernel = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: launcherArgs("kernel", args),
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: decoder.decode(out.stderr) };
  };
  try {
    const ipc = join(dir, "kernel-ipc.json");
    await Deno.writeTextFile(
      ipc,
      JSON.stringify({ transport: "ipc", ip: "/tmp/k", shell_port: 1, iopub_port: 2 }),
    );
    const refused = await kernel(ipc);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`${ipc}: the sandboxed kernel is reached over TCP`));
    const missing = await kernel(join(dir, "absent.json"));
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /cannot read the connection file .*absent\.json/);
    assert.equal((await kernel()).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in the sandbox a dataset download says to fetch it first, naming the command", async () => {
  Deno.env.set("MEMDIL_SANDBOX", "1");
  try {
    await assert.rejects(
      () => downloadFile("https://ossci-datasets.s3.amazonaws.com/mnist/x.gz", "/nonexistent/x.gz"),
      /cannot download https:\/\/ossci-datasets\S+ in the notebook kernel's sandbox, which has no network: fetch the dataset first with `deno task data fetch NAME`/,
    );
  } finally {
    Deno.env.delete("MEMDIL_SANDBOX");
  }
});

Deno.test("the kernel's launcher killed alone: the sandbox stops, its ports and relay directory go", async () => {
  // A private TMPDIR: the relay directory is made there, so the test sees exactly its own.
  const tmp = await Deno.makeTempDir({ prefix: "memdil-kernel-tmp-" });
  const freePort = () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    return port;
  };
  const ports = ["shell", "iopub", "stdin", "control", "hb"].map((c) => [`${c}_port`, freePort()]);
  const connection = join(tmp, "kernel-test.json");
  await Deno.writeTextFile(
    connection,
    JSON.stringify({
      transport: "tcp",
      ip: "127.0.0.1",
      key: crypto.randomUUID(),
      signature_scheme: "hmac-sha256",
      ...Object.fromEntries(ports),
    }),
  );
  const launcher = new Deno.Command(Deno.execPath(), {
    args: launcherArgs("kernel", [connection]),
    env: { TMPDIR: tmp },
    cwd: join(REPO_ROOT, "notebooks"),
    stdout: "null",
    stderr: "null",
  }).spawn();
  const relayDirs = () =>
    [...Deno.readDirSync(tmp)].filter((e) => e.name.startsWith("memdil-kernel-")).length;
  const waitUntil = async (ok: () => boolean, what: string) => {
    for (const deadline = Date.now() + 30_000; !ok();) {
      assert.ok(Date.now() < deadline, what);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await waitUntil(() => relayDirs() === 1, "the relay directory appears");
    launcher.kill("SIGKILL");
    await launcher.status;
    await waitUntil(() => relayDirs() === 0, "the relay directory is removed");
    // The ports are free again (a restarted kernel gets them).
    for (const [, port] of ports) {
      Deno.listen({ hostname: "127.0.0.1", port: port as number }).close();
    }
  } finally {
    try {
      launcher.kill("SIGKILL");
    } catch { /* gone */ }
    await Deno.remove(tmp, { recursive: true });
  }
});
