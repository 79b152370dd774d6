#!/usr/bin/env bash
# Install what memdil needs on a Debian machine: Deno (from npm, pinned), Debian's packages
# (Fashion-MNIST, Jupyter and its notebook server, Mesa's software Vulkan driver, fonts, OpenBLAS
# for the native CPU backend, Slurm and munge for the slurm executor's test, bubblewrap for the
# notebook kernel's sandbox), the locked npm dependencies, the Deno Jupyter kernel and memdil's
# sandboxed kernel. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.6
DEBIAN_PACKAGES=(dataset-fashion-mnist jupyter-nbconvert python3-nbclient python3-ipykernel
  jupyter-notebook mesa-vulkan-drivers fonts-dejavu-core python3-pil python3-numpy chromium
  libopenblas0-pthread slurm-wlm munge)
# bubblewrap confines the notebook kernel (docs/permissions.md).
DEBIAN_PACKAGES+=(bubblewrap)
# PyTorch, the reference `deno task bench` measures memdil against (bench/reference/).
DEBIAN_PACKAGES+=(python3-torch)

if ! command -v deno >/dev/null || [ "$(deno --version | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    echo "setup: npm is needed to install Deno $DENO_VERSION (apt-get install npm)" >&2
    exit 1
  fi
  echo "setup: installing Deno $DENO_VERSION from npm"
  npm install --global --silent "deno@$DENO_VERSION"
fi

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# The npm dependencies exactly as deno.lock pins them.
deno install --frozen --quiet --entrypoint lib/backend/mod.ts lib/paper/mod.ts \
  lib/notebooks/mod.ts cli/train.ts cli/evaluate.ts cli/reproduce.ts cli/notebooks.ts bench/bench.ts \
  lib/sweep/mod.ts lib/experiment/runners/worker.ts lib/gallery/mod.ts cli/sweep.ts cli/gallery.ts \
  lib/search/mod.ts cli/search.ts cli/launch.ts

# The Deno kernel for Jupyter (the notebook runner also installs it when missing). Jupyter's own
# kernelspec lookup (jupyter_client, which Debian's python3-jupyter-client provides without the
# `jupyter kernelspec` command) says whether a "deno" kernel exists and which executable it runs;
# it is (re)installed, with --force, only when missing or pointing at another deno.
deno_path="$(command -v deno)"
kernel_deno="$(/usr/bin/python3 -c '
import sys
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
try:
    print(KernelSpecManager().get_kernel_spec("deno").argv[0])
except NoSuchKernel:
    pass
' 2>/dev/null || true)"
if [ "$kernel_deno" != "$deno_path" ] && [ "$(command -v "$kernel_deno" 2>/dev/null)" != "$deno_path" ]; then
  echo "setup: installing the Deno Jupyter kernel (was: ${kernel_deno:-none})"
  deno jupyter --install --force --name deno >/dev/null 2>&1
fi

# memdil's kernel, the one the notebooks name: Deno's kernel in a bubblewrap sandbox (cli/kernel.ts).
deno run --no-prompt --allow-read --allow-env --allow-run=deno cli/launch.ts kernel --install
if ! bwrap --unshare-all --unshare-user --disable-userns --cap-drop ALL --ro-bind / / --dev /dev \
  --proc /proc true \
  2>/dev/null; then
  echo "setup: warning: bwrap cannot create its namespaces here (unprivileged user namespaces" \
    "forbidden?): notebooks refuse to run until they are allowed, or with --unconfined" \
    "(docs/permissions.md)" >&2
fi

# WebGPU on Mesa's Vulkan driver needs a runtime directory.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/memdil-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
echo "setup: ready (deno $(deno --version | head -1 | cut -d' ' -f2))"
