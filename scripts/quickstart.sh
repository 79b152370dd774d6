#!/usr/bin/env bash
# README command (1): install what is needed, then run the default experiment end to end: CE vs
# LS in the paper's regime (networks that memorize their noisy labels) on two Fashion-MNIST
# classes: the regime profile on 3 of its 4 noise levels and 5 of its 10 seeds (30 runs; the full
# profile reuses them). Arguments are passed to `deno task reproduce` (e.g. --profile quick).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [ "$#" -eq 0 ]; then
  set -- --profile regime --param 'noiseLevels=[0,0.1,0.3]' --param 'seeds=[1,2,3,4,5]'
fi
deno task reproduce "$@"
