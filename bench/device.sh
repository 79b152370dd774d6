#!/usr/bin/env bash
# memdil on a GPU host that has no Deno and no network: pack here, run there.
#
#   bash bench/device.sh pack       # here: fill .device/ (git-ignored, must stay under 64 MiB)
#   bash bench/device.sh run        # there, with .device/ copied beside the repository: unpack,
#                                   # then every GPU check in one go (below)
#   bash bench/device.sh rehearse   # here: pack, then `run` on this machine's software Vulkan
#                                   # with short settings, to prove the unpack-and-run path
#
# .device/ holds: the deno binary (xz); a DENO_DIR with only the npm packages that the bench, the
# short run and the profiles import (tar.xz); Debian's Vulkan loader and GL dispatch libraries
# (.deb: the NVIDIA driver provides the Vulkan ICD itself); Fashion-MNIST's classes 0 and 1 in the
# dataset's own IDX format (every sample of both classes in the original order, so a run on it is
# the same run as on the whole dataset; used with --skip_checksums).
#
# `run` writes everything under $OUT (default results/device): log.txt (all output, nvidia-smi,
# the adapter), short_webgpu.json (the regime MLP for a few epochs on webgpu), the bench report
# (bench-*.md/.json: workloads a-d on webgpu against PyTorch CUDA, interleaved), profile.json
# (webgpu: dispatch cost, matrix products, the paper MLP step split), torch_profile.json (the same
# on PyTorch CUDA), cublas.json (cuBLAS driven from Deno through FFI) and regime_webgpu.json (one
# whole regime run, 150 epochs). Compare the short run with the CPU's:
#   deno run -A bench/compare_runs.ts $OUT/short_webgpu.json <the same flags, --backend openblas>
set -euo pipefail
cd "$(dirname "$0")/.."
# Where the pack goes (tests put it in a temporary folder).
PACK=${MEMDIL_DEVICE_PACK:-.device}
LIMIT=$((64 * 1024 * 1024))
# Entry points whose module graphs are packed.
ENTRIES=(bench/bench.ts bench/worker.ts bench/short_run.ts bench/gpu_profile.ts bench/cublas_probe.ts)
# Debian packages carried: the Vulkan loader, and GL dispatch (NVIDIA's ICD library needs it).
DEBS=(libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2)
# The short run and the whole regime run: the regime profile's MLP on noise 0.3, LS, seed 1.
REGIME_FLAGS=(--dataset fashionmnist --classes 2 --sample_size 500 --depth 4 --width 512 --use_bn
  --classifier_init etf --batch_size 64 --lr 0.05 --decay_type step_30_120 --weight_decay 5e-4
  --label_noise 0.3 --loss LS --seed 1)

pack() {
  # Replace only an earlier pack (or an empty folder), never anything else.
  if [ -e "$PACK" ] && [ -n "$(ls -A "$PACK")" ] && [ ! -f "$PACK/deno.xz" ]; then
    echo "device.sh: $PACK exists and is not a pack of this script: choose another" \
      "MEMDIL_DEVICE_PACK or remove it yourself" >&2
    exit 2
  fi
  rm -rf "$PACK" && mkdir -p "$PACK"
  echo "device.sh: compressing $(command -v deno) ..."
  xz -T0 -6 -c "$(readlink -f "$(command -v deno)")" >"$PACK/deno.xz"
  echo "device.sh: caching the dependencies of ${ENTRIES[*]} into a fresh DENO_DIR ..."
  local dir entry
  dir=$(mktemp -d)
  for entry in "${ENTRIES[@]}"; do
    DENO_DIR="$dir/deno_dir" deno cache "$entry" >/dev/null 2>&1
    deno info --json "$entry" 2>/dev/null | python3 bench/device_packages.py
  done | sort -u >"$dir/keep"
  # deno cache fetches every package of deno.lock (polars alone is 110 MB); keep only the npm
  # packages these module graphs reach (bench/device_packages.py lists them). Of the others only
  # package.json stays: `deno run --cached-only` checks every package is cached.
  local npm="$dir/deno_dir/npm/registry.npmjs.org" version
  find "$npm" -mindepth 2 -maxdepth 3 -type d | while read -r version; do
    local rel=${version#"$npm"/}
    [ -f "$version/package.json" ] || continue # a scope folder, not a package version
    grep -qxF "$rel" "$dir/keep" || find "$version" -mindepth 1 -maxdepth 1 ! -name package.json \
      -exec rm -rf {} +
  done
  # Source maps (215 MB), minified browser bundles and docs are never loaded by `deno run`.
  find "$npm" -type f \( -name '*.map' -o -name '*.min.js' -o -name '*.html' -o -name '*.md' \) \
    -delete
  tar -C "$dir" -cf - deno_dir | xz -T0 -6 >"$PACK/deno_dir.tar.xz"
  rm -rf "$dir"
  echo "device.sh: fetching Debian's ${DEBS[*]} ..."
  mkdir -p "$PACK/debs"
  # apt-get download needs the package lists: on a fresh machine, read them once.
  (cd "$PACK/debs" && apt-get download "${DEBS[@]}" >/dev/null 2>&1) ||
    (apt-get update -qq >/dev/null 2>&1 && cd "$PACK/debs" && apt-get download "${DEBS[@]}") || {
    echo "device.sh: apt-get download ${DEBS[*]} failed: run it as root with the package lists" >&2
    exit 1
  }
  echo "device.sh: writing Fashion-MNIST classes 0 and 1 ..."
  python3 bench/device_subset.py "${MEMDIL_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" \
    "$PACK/data/FashionMNIST/raw" 2
  local size
  size=$(du -sb "$PACK" | cut -f1)
  du -ab "$PACK" | sort -k2
  echo "device.sh: $PACK is $((size / 1024 / 1024)) MiB ($size bytes; limit 64 MiB with the tree)"
  if [ "$size" -ge "$LIMIT" ]; then
    echo "device.sh: $PACK is over 64 MiB" >&2
    exit 1
  fi
}

# Unpack into $ROOT and set up PATH, DENO_DIR and the Vulkan loader for this shell.
unpack() {
  [ -f "$PACK/deno.xz" ] || {
    echo "device.sh: no $PACK/deno.xz: run 'bash bench/device.sh pack' first" >&2
    exit 2
  }
  rm -rf "$ROOT" && mkdir -p "$ROOT/bin" "$ROOT/sys" "$ROOT/runtime"
  chmod 700 "$ROOT/runtime"
  xz -dc "$PACK/deno.xz" >"$ROOT/bin/deno" && chmod +x "$ROOT/bin/deno"
  tar -C "$ROOT" -xJf "$PACK/deno_dir.tar.xz"
  local deb
  for deb in "$PACK"/debs/*.deb; do dpkg -x "$deb" "$ROOT/sys"; done
  # The carried loader first; the driver's own libraries (NVIDIA's ICD) where the host keeps them.
  local libs="$ROOT/sys/usr/lib/x86_64-linux-gnu" d
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && libs="$libs:$d"; done
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The Vulkan loader looks for ICD files in the standard places; the NVIDIA driver mounted under
  # /usr/local/nvidia keeps its own elsewhere.
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    for d in /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/etc/vulkan/icd.d; do
      if [ -f "$d/nvidia_icd.json" ]; then export VK_DRIVER_FILES="$d/nvidia_icd.json"; fi
    done
  fi
  export PATH="$ROOT/bin:$PATH" DENO_DIR="$ROOT/deno_dir" DENO_NO_UPDATE_CHECK=1
  export MEMDIL_BENCH_CACHED_ONLY=1 XDG_RUNTIME_DIR="$ROOT/runtime" NO_COLOR=1
}

# One step of `run`: its output into the log, a time limit (never past $DEADLINE, in bash's
# SECONDS), and a note when it fails or is skipped for want of time.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((DEADLINE - SECONDS))
  if [ "$left" -lt 15 ]; then
    echo "=== $name: SKIPPED (no time left)"
    return 0
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*"
  local started=$SECONDS
  if timeout --kill-after=5 "$limit" "$@"; then
    echo "=== $name: ok in $((SECONDS - started)) s"
  else
    echo "=== $name: FAILED (exit $?) after $((SECONDS - started)) s"
  fi
}

# Where PyTorch's CUDA libraries are (for the cuBLAS probe).
cuda_library() {
  local name=$1 found
  found=$(find /usr/local/cuda/lib64 /usr/local/cuda/targets /opt /usr/local/lib \
    -name "$name.so*" 2>/dev/null | sort | head -1)
  echo "${found:-$name.so}"
}

checks() {
  local out=$1 epochs=$2 pairs=$3 regime_epochs=$4
  DEADLINE=$((SECONDS + ${RUN_SECONDS:-540}))
  local run=(deno run --cached-only --allow-read --allow-write --allow-env --allow-sys --allow-ffi)
  echo "device.sh: $(date -u) on $(hostname), $(nproc) CPUs"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  deno --version | head -1
  step adapter 60 "${run[@]}" bench/worker.ts --backend webgpu --probe
  step auto 60 deno eval --cached-only \
    'const { initBackend } = await import("./lib/backend/mod.ts");
     console.log((await initBackend("auto")).report.join("\n"));'
  step short-run 120 "${run[@]}" bench/short_run.ts --backend webgpu --epochs "$epochs" \
    "${REGIME_FLAGS[@]}" --data_dir "$PACK/data" --skip_checksums ${SHORT_FLAGS:-} \
    --out "$out/short_webgpu.json"
  step profile 90 "${run[@]}" bench/gpu_profile.ts --backend webgpu ${PROFILE_FLAGS:-} \
    --out "$out/profile.json"
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    (cd bench/reference && step torch-profile 60 python3 torch_profile.py --device cuda) \
      | tee "$out/torch_profile.log"
    sed -n '/^{/,/^}/p' "$out/torch_profile.log" >"$out/torch_profile.json" && rm "$out/torch_profile.log"
    step cublas 60 "${run[@]}" bench/cublas_probe.ts --cudart "$(cuda_library libcudart)" \
      --cublas "$(cuda_library libcublas)" --out "$out/cublas.json"
  fi
  # The bench pairs a hardware webgpu adapter with PyTorch CUDA (when torch sees CUDA here).
  step bench 300 "${run[@]}" --allow-run bench/bench.ts --backends webgpu \
    --workloads "${BENCH_WORKLOADS:-a,b,c,d}" --pairs "$pairs" --out "$out" ${BENCH_FLAGS:-}
  step regime-run 150 "${run[@]}" bench/short_run.ts --backend webgpu --epochs "$regime_epochs" \
    "${REGIME_FLAGS[@]}" --data_dir "$PACK/data" --skip_checksums ${SHORT_FLAGS:-} \
    --out "$out/regime_webgpu.json"
}

run() {
  ROOT=/tmp/memdil-device
  local out=${OUT:-results/device}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  unpack
  checks "$out" "${SHORT_EPOCHS:-5}" "${BENCH_PAIRS:-3}" "${REGIME_EPOCHS:-150}" 2>&1 |
    tee "$out/log.txt"
}

# Pack, then run the same script here on software Vulkan (Mesa's lavapipe), briefly.
rehearse() {
  pack
  ROOT=$(mktemp -d)/memdil-device
  local out=${OUT:-results/device-rehearsal}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  unpack
  # Software Vulkan is slow: small models, one step or epoch of each check.
  BENCH_WORKLOADS=b BENCH_FLAGS="--steps 2 --no-reference" PROFILE_FLAGS="--steps 1 --square 256" \
    SHORT_FLAGS="--width 32 --sample_size 50" checks "$out" 1 1 1 2>&1 | tee "$out/log.txt"
  rm -rf "$(dirname "$ROOT")"
  # Every step must have run to the end.
  ! grep -q '^=== .*: FAILED' "$out/log.txt"
}

case "${1:-}" in
pack) pack ;;
run) run ;;
rehearse) rehearse ;;
*)
  echo "usage: bash bench/device.sh pack | run | rehearse" >&2
  exit 2
  ;;
esac
