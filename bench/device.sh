#!/usr/bin/env bash
# The GPU device check of `deno task bench`, in two steps.
#
#   bash bench/device.sh pack   # here: fill .device/ (git-ignored, must stay under 64 MiB)
#   bash bench/device.sh run    # on the GPU machine, with .device/ carried along: unpack, then
#                               # run the bench on webgpu (and wasm) and the PyTorch CUDA
#                               # reference in one call, printing one table
#
# .device/ holds: the deno binary (xz), a DENO_DIR with only the npm packages and modules the
# bench imports (tar.xz), Debian's Vulkan loader libvulkan1 (.deb; the NVIDIA driver provides the
# Vulkan ICD), and an optional Fashion-MNIST subset (none yet: the bench then trains on random
# inputs of the same shape, which time the same).
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=.device
LIMIT=$((64 * 1024 * 1024))

pack() {
  rm -rf "$PACK" && mkdir -p "$PACK"
  echo "device.sh: compressing $(command -v deno) ..."
  xz -T0 -6 -c "$(readlink -f "$(command -v deno)")" >"$PACK/deno.xz"
  echo "device.sh: caching the bench's dependencies into a fresh DENO_DIR ..."
  local dir
  dir=$(mktemp -d)
  DENO_DIR="$dir/deno_dir" deno cache bench/bench.ts >/dev/null 2>&1
  # deno cache fetches every package of deno.lock (polars alone is 110 MB); keep only the npm
  # packages the bench's module graph reaches (bench/device_packages.py lists them). Of the
  # others only package.json stays: `deno run --cached-only` checks every package is cached.
  deno info --json bench/bench.ts 2>/dev/null | python3 bench/device_packages.py >"$dir/keep"
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
  echo "device.sh: fetching Debian's libvulkan1 ..."
  (cd "$PACK" && apt-get download libvulkan1 >/dev/null 2>&1) ||
    cp /var/cache/apt/archives/libvulkan1_*.deb "$PACK/" 2>/dev/null ||
    echo "device.sh: warning: could not fetch libvulkan1 (apt-get download failed)" >&2
  local size
  size=$(du -sb "$PACK" | cut -f1)
  ls -la "$PACK"
  echo "device.sh: $PACK is $((size / 1024 / 1024)) MiB ($size bytes; limit 64 MiB)"
  if [ "$size" -ge "$LIMIT" ]; then
    echo "device.sh: $PACK is over 64 MiB" >&2
    exit 1
  fi
}

run() {
  [ -f "$PACK/deno.xz" ] || { echo "device.sh: no $PACK/deno.xz: run 'bash bench/device.sh pack' first" >&2; exit 2; }
  local root=/tmp/memdil-device
  rm -rf "$root" && mkdir -p "$root/bin" "$root/vulkan"
  xz -dc "$PACK/deno.xz" >"$root/bin/deno" && chmod +x "$root/bin/deno"
  tar -C "$root" -xJf "$PACK/deno_dir.tar.xz"
  if ls "$PACK"/libvulkan1_*.deb >/dev/null 2>&1 && ! ldconfig -p | grep -q libvulkan.so.1; then
    dpkg -x "$PACK"/libvulkan1_*.deb "$root/vulkan"
    export LD_LIBRARY_PATH="$root/vulkan/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  fi
  export PATH="$root/bin:$PATH" DENO_DIR="$root/deno_dir" DENO_NO_UPDATE_CHECK=1
  export MEMDIL_BENCH_CACHED_ONLY=1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
  deno --version | head -1
  # The bench pairs a hardware webgpu adapter with PyTorch CUDA (when torch sees CUDA here).
  deno run --cached-only --allow-read --allow-write --allow-env --allow-sys --allow-run \
    bench/bench.ts --backends "${BENCH_BACKENDS:-webgpu,wasm}" \
    --workloads "${BENCH_WORKLOADS:-a,b,c,d}" --out "${OUT:-results/bench}" "$@"
}

case "${1:-}" in
pack) pack ;;
run) shift && run "$@" ;;
*)
  echo "usage: bash bench/device.sh pack | run [bench flags]" >&2
  exit 2
  ;;
esac
