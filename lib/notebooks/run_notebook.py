"""Headless notebook runner used by lib/notebooks/execute.ts (memdil).

Protocol (kept deliberately small so the TypeScript side stays in charge):

  python3 run_notebook.py --probe
      Prints one JSON object on stdout: versions and installed kernelspecs.
      Exits 3 when nbclient / nbformat / jupyter_client cannot be imported.

  python3 run_notebook.py --execute  < request.json
      Reads {"notebook": <nbformat v4 JSON>, "kernel_name", "kernelspec" (optional: a
      kernel.json installed for this run only), "timeout", "iopub_timeout" (optional),
      "startup_timeout", "cwd", "output", "failed_output"} on stdin, executes the
      notebook with nbclient and writes it atomically (temporary file in the same
      directory, then os.replace) to "output" on success or to "failed_output"
      when a cell fails. Progress and the final result are JSON lines on stdout:
        {"event": "cell", "index": i, "code_index": k, "code_total": n}
        {"event": "line", "index": i, "text": ...}   (output lines starting with "sweep ")
        {"event": "result", "status": "ok" | "error", "path": ..., "error": {...}}
      Exit status: 0 ok, 1 the notebook failed, 3 Jupyter missing, 2 bad request.
"""

import json
import math
import os
import queue
import shutil
import sys
import tempfile
import time
import uuid

MISSING_HINT = (
    "Jupyter's Python packages (nbclient, nbformat, jupyter_client) are not importable "
    "by this interpreter; install them with: "
    "apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel"
)

try:
    import nbformat
    import nbclient
    import jupyter_client
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbclient.exceptions import (CellExecutionComplete, CellExecutionError,
                                     CellTimeoutError, DeadKernelError)
except ImportError as exc:  # pragma: no cover - depends on the host
    print(json.dumps({"event": "missing", "message": MISSING_HINT, "detail": str(exc)}))
    sys.exit(3)

try:
    from nbclient.util import ensure_async
except ImportError:  # pragma: no cover - other nbclient versions
    from jupyter_core.utils import ensure_async


# Keeps the console functions seen at the first sentinel, in case a notebook replaces them later.
SENTINEL_CODE = (
    '{ const c = (globalThis[Symbol.for("memdil.flush")] ??= '
    '{ log: console.log.bind(console), error: console.error.bind(console) }); '
    'c.log("%s"); c.error("%s"); }'
)


# Lines of a cell's output relayed to the caller as they arrive (a sweep's per-run lines).
RELAYED_PREFIX = "sweep "

# Outputs of a cell that the kernel may send after the cell went idle (see DenoNotebookClient).
LATE_OUTPUT_TYPES = ("display_data", "update_display_data", "clear_output")


class DenoNotebookClient(NotebookClient):
    """nbclient with a fix for the Deno kernel's late stdout.

    The Deno kernel forwards console output asynchronously: stream messages may arrive after
    the cell's `idle` status (where nbclient stops listening), and they are tagged with the
    parent header of whatever request is current when they are forwarded, i.e. the *next*
    cell. Without this, output is dropped or lands in the following cell. After each cell
    goes idle we execute a tiny sentinel that prints a unique token on stdout and stderr;
    the stdio forwarding is first-in first-out, so everything before the tokens belongs to
    the cell that just ran.

    The wait for a cell's outputs once its reply came (`iopub_timeout`, which covers the
    sentinel too) raises instead of nbclient's default warning: Deno 2.9.6's kernel can corrupt
    its IOPub stream (a message written into the middle of a large one, e.g. a figure, when the
    reader falls behind), after which no output ever arrives while the kernel still replies.
    Without the error every following cell would wait out the timeout in silence.
    """

    flush_timeout = 120  # seconds (nbclient's timeout traits are integers)
    sentinel_grace = 5.0  # seconds to wait for the tokens once the sentinel went idle

    def process_message(self, msg, cell, cell_index):
        if msg.get("msg_type") == "stream":
            for line in msg["content"].get("text", "").splitlines():
                if line.startswith(RELAYED_PREFIX):
                    emit({"event": "line", "index": cell_index, "text": line})
        return super().process_message(msg, cell, cell_index)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        await self._drain_late_output(parent_msg_id, cell, cell_index)

    async def _drain_late_output(self, parent_msg_id, cell, cell_index):
        token = "memdil-flush-" + uuid.uuid4().hex
        sentinel_id = await ensure_async(self.kc.execute(SENTINEL_CODE % (token, token),
                                                         store_history=False,
                                                         stop_on_error=False))
        pending = {"stdout", "stderr"}
        deadline = time.monotonic() + self.flush_timeout
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # e.g. the notebook replaced console.log: the tokens never come
                self.log.warning("gave up waiting for late output of cell %s", cell_index)
                return
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=remaining))
            except queue.Empty:
                continue
            parent = msg["parent_header"].get("msg_id")
            if parent == sentinel_id:
                if msg["msg_type"] in LATE_OUTPUT_TYPES:
                    pass  # the cell's late display, tagged with the sentinel's request
                elif msg["msg_type"] != "stream":
                    if (msg["msg_type"] == "status"
                            and msg["content"].get("execution_state") == "idle"):
                        # the sentinel ran: its tokens are at most moments away
                        deadline = min(deadline, time.monotonic() + self.sentinel_grace)
                    continue  # the sentinel's own busy/idle/execute_input
                text = msg["content"].get("text", "")
                if token in text:
                    pending.discard(msg["content"].get("name"))
                    text = "".join(l for l in text.splitlines(True) if token not in l)
                    if not text:
                        continue
                    msg["content"]["text"] = text
            elif parent != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass


def tidy(nb):
    """Sequential execution counts (the sentinels above consume kernel counts) and consecutive
    stream outputs of the same name merged (the Deno kernel sends one message per line)."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (out.get("output_type") == "stream" and prev is not None
                    and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
                prev["text"] = "".join(prev["text"]) + "".join(out["text"])
            else:
                merged.append(out)
        cell.outputs = merged
        if cell.get("execution_count") is None:
            continue
        count += 1
        cell.execution_count = count
        for out in cell.outputs:
            if "execution_count" in out:
                out["execution_count"] = count


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def probe():
    specs = {}
    ksm = KernelSpecManager()
    for name, resource_dir in ksm.find_kernel_specs().items():
        try:
            argv = ksm.get_kernel_spec(name).argv
        except Exception:  # broken kernel.json
            argv = []
        exe = argv[0] if argv else ""
        resolved = exe if os.path.isabs(exe) else (shutil.which(exe) if exe else None)
        specs[name] = {"resource_dir": resource_dir, "argv": argv,
                       "executable_exists": bool(resolved) and os.access(resolved, os.X_OK)}
    emit({
        "event": "probe",
        "python": sys.executable,
        "nbclient": nbclient.__version__,
        "nbformat": nbformat.__version__,
        "jupyter_client": jupyter_client.__version__,
        "kernelspecs": specs,
    })


def write_atomic(nb, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def private_kernelspec(request):
    """Installs the request's kernelspec (memdil's sandboxed kernel) in a directory of its own,
    first on JUPYTER_PATH: the run does not depend on (or change) what the user installed.
    Returns the directory to remove afterwards, or None."""
    spec = request.get("kernelspec")
    if not spec:
        return None
    directory = tempfile.mkdtemp(prefix="memdil-kernelspec-")
    kernel_dir = os.path.join(directory, "kernels", request["kernel_name"])
    os.makedirs(kernel_dir)
    with open(os.path.join(kernel_dir, "kernel.json"), "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [directory] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    return directory


def execute(request):
    directory = private_kernelspec(request)
    try:
        return execute_notebook(request)
    finally:
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def execute_notebook(request):
    nb = nbformat.reads(json.dumps(request["notebook"]), as_version=4)
    output = request["output"]
    failed_output = request["failed_output"]
    code_indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    code_number = {cell_index: k + 1 for k, cell_index in enumerate(code_indices)}
    state = {"index": None}

    def on_cell_start(cell, cell_index):
        state["index"] = cell_index

    def on_cell_execute(cell, cell_index):
        emit({"event": "cell", "index": cell_index, "code_index": code_number.get(cell_index),
              "code_total": len(code_indices)})

    iopub_timeout = int(math.ceil(request.get("iopub_timeout")
                                  or DenoNotebookClient.flush_timeout))
    client = DenoNotebookClient(
        nb,
        kernel_name=request.get("kernel_name", "deno"),
        timeout=int(math.ceil(request["timeout"])) if request.get("timeout") else None,
        startup_timeout=int(math.ceil(request.get("startup_timeout") or 120)),
        allow_errors=False,
        iopub_timeout=iopub_timeout,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": request["cwd"]}},
        on_cell_start=on_cell_start,
        on_cell_execute=on_cell_execute,
    )
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = {"kind": "cell", "ename": exc.ename, "evalue": exc.evalue}
    except CellTimeoutError as exc:
        if "IOPub" in str(exc):
            error = {"kind": "timeout", "ename": "IOPubTimeout",
                     "evalue": "the kernel finished the cell, but its outputs stopped arriving "
                     "(no idle status on the IOPub channel within %s s of the reply); Deno's "
                     "kernel can corrupt that channel when a large output (a figure) meets a "
                     "reader that falls behind, e.g. on a loaded machine" % iopub_timeout}
        else:
            error = {"kind": "timeout", "ename": "CellTimeoutError",
                     "evalue": "cell did not finish within the per-cell timeout of %s s"
                     % request.get("timeout")}
    except DeadKernelError as exc:
        error = {"kind": "dead_kernel", "ename": "DeadKernelError", "evalue": str(exc).strip()}
    except Exception as exc:  # kernel failed to start, missing kernelspec, ...
        error = {"kind": "other", "ename": type(exc).__name__, "evalue": str(exc).strip()}
    seconds = round(time.monotonic() - started, 3)
    tidy(nb)

    if error is None:
        write_atomic(nb, output)
        remove_quietly(failed_output)  # a stale failure copy would be misleading
        emit({"event": "result", "status": "ok", "path": output, "seconds": seconds})
        return 0

    index = state["index"]
    if index is not None and error["kind"] != "other":
        cell = nb.cells[index]
        error["index"] = index
        error["code_index"] = code_number.get(index)
        error["code_total"] = len(code_indices)
        error["source"] = cell.source
        tb = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                tb = list(out.get("traceback", []))
        error["traceback"] = tb
    write_atomic(nb, failed_output)
    emit({"event": "result", "status": "error", "path": failed_output, "seconds": seconds,
          "error": error})
    return 1


def main(argv):
    if argv[1:] == ["--probe"]:
        probe()
        return 0
    if argv[1:] == ["--execute"]:
        try:
            request = json.load(sys.stdin)
        except ValueError as exc:
            emit({"event": "bad_request", "message": str(exc)})
            return 2
        return execute(request)
    sys.stderr.write("usage: run_notebook.py --probe | --execute < request.json\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
