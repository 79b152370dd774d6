#!/usr/bin/env bash
# README command (1): install what is needed, then run the default experiment end to end: CE vs
# LS in the paper's regime (networks that memorize their noisy labels) on two Fashion-MNIST
# classes, with the regime profile on 3 of its 5 noise levels (18 runs; the full profile reuses
# them). Arguments are passed to `deno task reproduce` (e.g. --profile quick, --profile paper).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [ "$#" -eq 0 ]; then
  set -- --profile regime --param 'noiseLevels=[0,0.1,0.3]'
fi
deno task reproduce "$@"
